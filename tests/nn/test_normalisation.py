"""BatchNorm1D/2D and LayerNorm against PyTorch autograd (float64, same parameters).

Outputs, the input gradient and every parameter gradient at 1e-10, step by step through
several training-mode batches (the running statistics after each), then in eval mode.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstat.nn import (
    SGD,
    BatchNorm1D,
    BatchNorm2D,
    Conv2D,
    CrossEntropy,
    Dense,
    Flatten,
    LayerNorm,
    ReLU,
    Sequential,
    gradcheck,
    load,
    save,
)

RTOL = 1e-10


def close(actual: np.ndarray, expected: torch.Tensor, floor: float = 0.0) -> None:
    """Equal to 1e-10 relative to the largest entry (entries near 0 are sums that cancel), or
    to ``floor`` when the terms that cancel are larger than the result."""
    e = expected.detach().numpy()
    scale = max(float(np.abs(e).max(initial=0.0)), 1e-300)
    np.testing.assert_allclose(actual, e, rtol=RTOL, atol=max(RTOL * scale, floor))


def step(layer, peer, x, rng, gamma, inv_sigma):
    """One forward and backward through both; compare output, ∂E/∂x and every ∂E/∂param.

    x̂ = (x − μ)/σ is a difference of terms of size |x|/σ, and ∂E/∂x = γ/σ (g − mean g −
    x̂ mean(g x̂)) one of terms of size |g| γ/σ; both can cancel to nearly 0 (one or two
    values per channel), so each result is compared to 1e-10 of the terms that make it
    (``gamma`` = max |γ|, ``inv_sigma`` = max 1/σ)."""
    xt = torch.tensor(x, requires_grad=True)
    out_t = peer(xt)
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    out_t.backward(torch.tensor(g))
    dx = layer.backward(g)
    x_hat_size = float(np.abs(x).max()) * inv_sigma
    close(out, out_t, floor=RTOL * gamma * x_hat_size)
    close(dx, xt.grad, floor=RTOL * float(np.abs(g).max()) * gamma * inv_sigma)
    for name, param in peer.named_parameters():
        floor = RTOL * float(np.abs(g).sum()) * x_hat_size if name == "weight" else 0.0  # Σ g x̂
        close(layer.grads[name], param.grad, floor=floor)
        param.grad = None


batchnorm_shapes = st.one_of(
    st.tuples(st.just(BatchNorm1D), st.tuples(st.integers(2, 6), st.integers(1, 5))),
    st.tuples(st.just(BatchNorm1D), st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 5))),
    st.tuples(
        st.just(BatchNorm2D),
        st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    ),
).filter(lambda cs: np.prod(cs[1]) // cs[1][1] >= 2)  # PyTorch refuses one value per channel


@settings(max_examples=40, deadline=None)
@given(
    case=batchnorm_shapes,
    eps=st.sampled_from([1e-5, 1e-3, 0.5]),
    momentum=st.sampled_from([0.1, 0.5, 1.0, None]),
    affine=st.booleans(),
    track=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_batchnorm_matches_torch_in_training_and_eval(case, eps, momentum, affine, track, seed):
    cls, shape = case
    c = shape[1]
    rng = np.random.default_rng(seed)
    layer = cls(c, eps=eps, momentum=momentum, affine=affine, track_running_stats=track, dtype="float64")
    peer_cls = torch.nn.BatchNorm1d if cls is BatchNorm1D else torch.nn.BatchNorm2d
    peer = peer_cls(c, eps=eps, momentum=momentum, affine=affine, track_running_stats=track).double()
    if affine:
        layer.params["weight"][...] = rng.normal(size=c)
        layer.params["bias"][...] = rng.normal(size=c)
        peer.load_state_dict({**peer.state_dict(), **{k: torch.tensor(v) for k, v in layer.params.items()}})
    gamma = np.abs(layer.params["weight"]).max() if affine else 1.0
    axes = (0, *range(2, len(shape)))
    for _ in range(3):  # shifted, scaled batches so the running statistics move
        x = rng.normal(size=shape) * rng.uniform(0.5, 3) + rng.normal()
        step(layer, peer, x, rng, gamma, 1 / np.sqrt(x.var(axis=axes).min() + eps))
    for name, value in peer.named_buffers():
        if name == "num_batches_tracked":
            assert int(layer.buffers[name]) == int(value) == 3
        else:
            close(layer.buffers[name], value)
    assert set(layer.buffers) == {name for name, _ in peer.named_buffers()}
    layer.eval()
    peer.eval()
    x = rng.normal(size=shape) * 2 + 1
    var = layer.buffers["running_var"] if track else x.var(axis=axes)
    step(layer, peer, x, rng, gamma, 1 / np.sqrt(var.min() + eps))


@settings(max_examples=40, deadline=None)
@given(
    lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    normalized=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    eps=st.sampled_from([1e-5, 0.1]),
    affine=st.booleans(),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_layernorm_matches_torch(lead, normalized, eps, affine, bias, seed):
    rng = np.random.default_rng(seed)
    layer = LayerNorm(tuple(normalized), eps=eps, elementwise_affine=affine, bias=bias, dtype="float64")
    peer = torch.nn.LayerNorm(normalized, eps=eps, elementwise_affine=affine, bias=bias).double()
    assert set(layer.params) == set(peer.state_dict())
    for name, value in layer.params.items():
        value[...] = rng.normal(size=value.shape)
        peer.state_dict()[name].copy_(torch.tensor(value))
    gamma = np.abs(layer.params["weight"]).max() if affine else 1.0
    axes = tuple(range(-len(normalized), 0))
    for mode in (True, False):  # no running statistics: the same in both modes
        layer.train(mode)
        peer.train(mode)
        x = rng.normal(size=(*lead, *normalized)) * 3 - 1
        step(layer, peer, x, rng, gamma, 1 / np.sqrt(x.var(axis=axes).min() + eps))


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (BatchNorm1D(3), (5, 3)),
        (BatchNorm1D(2, momentum=None), (3, 2, 4)),
        (BatchNorm2D(3), (2, 3, 3, 2)),
        (BatchNorm2D(2, affine=False), (3, 2, 2, 2)),
        (BatchNorm2D(3).eval(), (2, 3, 3, 2)),
        (LayerNorm(4), (3, 4)),
        (LayerNorm((2, 3), bias=False), (2, 4, 2, 3)),
    ],
)
def test_gradcheck(layer, shape):
    rng = np.random.default_rng(0)
    for value in layer.params.values():
        value[...] = rng.normal(size=value.shape)
    assert gradcheck(layer, rng.normal(size=shape) * 2 + 1)


def test_running_statistics_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(3)
    model = Sequential([Dense(4, 6, seed=0), BatchNorm1D(6), ReLU(), Dense(6, 2, seed=1)], input_shape=(4,))
    for _ in range(4):
        model.forward(rng.normal(size=(8, 4)).astype(np.float32) + 2)
    save(model, tmp_path / "bn.safetensors")
    twin = load(tmp_path / "bn.safetensors")
    assert set(twin.buffers) == {"1.running_mean", "1.running_var", "1.num_batches_tracked"}
    assert int(twin.buffers["1.num_batches_tracked"]) == 4
    for name, value in model.buffers.items():
        np.testing.assert_array_equal(twin.buffers[name], value)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(twin.eval().forward(x), model.eval().forward(x))


def test_a_batch_of_one_sample_is_refused_in_training_like_torch():
    with pytest.raises(ValueError, match=r"BatchNorm1D needs more than one value per channel.*\(1, 3\)"):
        BatchNorm1D(3).forward(np.zeros((1, 3)))
    out = BatchNorm1D(3).eval().forward(np.ones((1, 3)))  # eval mode uses the running statistics
    np.testing.assert_allclose(out, np.ones((1, 3)) / np.sqrt(1 + 1e-5), rtol=1e-6)


def test_a_network_with_batchnorm_trains_like_torch():
    """Conv → BatchNorm2D → ReLU → Flatten → Dense → BatchNorm1D → LayerNorm, five SGD steps with
    momentum on a cross-entropy loss: every parameter and running statistic equal to PyTorch's."""
    rng = np.random.default_rng(5)
    ours = Sequential(
        [
            Conv2D(2, 3, 3, padding=1, seed=0, dtype="float64"),
            BatchNorm2D(3, dtype="float64"),
            ReLU(),
            Flatten(),
            Dense(48, 5, seed=1, dtype="float64"),
            BatchNorm1D(5, momentum=0.3, dtype="float64"),
            LayerNorm(5, dtype="float64"),
        ]
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1),
        torch.nn.BatchNorm2d(3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(48, 5),
        torch.nn.BatchNorm1d(5, momentum=0.3),
        torch.nn.LayerNorm(5),
    ).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    sgd = SGD(ours, lr=0.1, momentum=0.9)
    torch_sgd = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    loss = CrossEntropy()
    for _ in range(5):
        x, y = rng.normal(size=(6, 2, 4, 4)), rng.integers(0, 5, size=6)
        loss.forward(ours.forward(x), y)
        ours.backward(loss.backward())
        sgd.step()
        torch_sgd.zero_grad()
        torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        torch_sgd.step()
    expected = theirs.state_dict()
    assert set(ours.state_dict()) == set(expected)
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, expected[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    x = rng.normal(size=(3, 2, 4, 4))
    np.testing.assert_allclose(
        ours.eval().forward(x), theirs.eval()(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12
    )
