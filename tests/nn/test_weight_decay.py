"""Weight decay: L2 in SGD (with momentum and Nesterov) and Adam, decoupled in AdamW — PyTorch's
trajectories in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradstat.nn import (
    SGD,
    Adam,
    AdamW,
    CrossEntropy,
    Dense,
    Sequential,
    Tanh,
    load_checkpoint,
    save_checkpoint,
)


def pair():
    model = Sequential([Dense(4, 6, seed=0, dtype="float64"), Tanh(), Dense(6, 3, seed=1, dtype="float64")])
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)).double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.from_numpy(model.params[name]))
    return model, net


CASES = [
    (lambda m: SGD(m, lr=0.1, weight_decay=0.05), lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05)),
    (
        lambda m: SGD(m, lr=0.1, momentum=0.9, weight_decay=0.05),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.05),
    ),
    (
        lambda m: SGD(m, lr=0.1, momentum=0.8, weight_decay=0.02, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, weight_decay=0.02, nesterov=True),
    ),
    (lambda m: Adam(m, lr=0.02, weight_decay=0.1), lambda p: torch.optim.Adam(p, lr=0.02, weight_decay=0.1)),
    (lambda m: AdamW(m, lr=0.02), lambda p: torch.optim.AdamW(p, lr=0.02)),
    (
        lambda m: AdamW(m, lr=0.05, betas=(0.8, 0.99), weight_decay=0.3),
        lambda p: torch.optim.AdamW(p, lr=0.05, betas=(0.8, 0.99), weight_decay=0.3),
    ),
]


@pytest.mark.parametrize(("ours", "theirs"), CASES)
def test_trajectory_equals_pytorch(ours, theirs):
    model, net = pair()
    opt, topt = ours(model), theirs(net.parameters())
    rng = np.random.default_rng(0)
    for _ in range(8):
        x, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
        loss = CrossEntropy()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        topt.step()
    for name, p in net.named_parameters():
        np.testing.assert_allclose(model.params[name], p.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_decay_alone_shrinks_as_the_ridge_gradient():
    """With a zero error gradient one SGD step is w(1 − γλ); AdamW's first step is
    w(1 − γλ) exactly, as the zero gradient leaves Adam's own step at 0."""
    model, _ = pair()
    before = {k: v.copy() for k, v in model.params.items()}
    for layer in model.layers:
        layer.grads = {k: np.zeros_like(v) for k, v in layer.params.items()}
    SGD(model, lr=0.5, weight_decay=0.2).step()
    for k, v in model.params.items():
        np.testing.assert_allclose(v, before[k] * 0.9, rtol=1e-15)
    AdamW(model, lr=0.5, weight_decay=0.2).step()
    for k, v in model.params.items():
        np.testing.assert_allclose(v, before[k] * 0.9 * 0.9, rtol=1e-15)


def test_settings_are_checked_and_travel_in_checkpoints(tmp_path):
    model, _ = pair()
    with pytest.raises(ValueError, match="weight_decay"):
        SGD(model, weight_decay=-0.1)
    with pytest.raises(ValueError, match="nesterov"):
        SGD(model, nesterov=True)
    opt = AdamW(model, lr=0.01, weight_decay=0.25)
    save_checkpoint(tmp_path / "c.safetensors", model, opt, None, 1)
    back = load_checkpoint(tmp_path / "c.safetensors").optimiser
    assert isinstance(back, AdamW) and back.weight_decay == 0.25
    sgd = SGD(model, lr=0.1, momentum=0.5, weight_decay=0.1, nesterov=True)
    save_checkpoint(tmp_path / "s.safetensors", model, sgd, None, 1)
    back = load_checkpoint(tmp_path / "s.safetensors").optimiser
    assert isinstance(back, SGD) and back.nesterov and back.weight_decay == 0.1
