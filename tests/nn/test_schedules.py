"""Learning-rate schedules against torch.optim.lr_scheduler, epoch by epoch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradstat.nn.optim.schedules import CosineAnnealingLR, ExponentialLR, ReduceLROnPlateau, StepLR

EPOCHS = 300


def torch_rates(make, base_lr: float, epochs: int = EPOCHS) -> list[float]:
    """The rate PyTorch uses in each epoch: read before the scheduler's end-of-epoch step."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))], lr=base_lr)
    sched = make(opt)
    rates = []
    for _ in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rates


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (StepLR(7, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 7, gamma=0.5)),
        (StepLR(1), lambda o: torch.optim.lr_scheduler.StepLR(o, 1)),
        (ExponentialLR(0.97), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.97)),
        (CosineAnnealingLR(50), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 50)),
        (
            CosineAnnealingLR(37, eta_min=1e-4),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 37, eta_min=1e-4),
        ),
    ],
)
def test_epoch_schedules_equal_pytorch(ours, theirs):
    base = 0.3
    expected = torch_rates(theirs, base)
    got = [ours(e, base) for e in range(EPOCHS)]
    # PyTorch updates its rate recursively; the closed formula agrees to rounding
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-15)


PLATEAU_CASES = [
    {},
    {"patience": 2, "factor": 0.5},
    {"patience": 0, "cooldown": 3, "factor": 0.3},
    {"patience": 3, "threshold": 0.05, "threshold_mode": "abs", "cooldown": 1},
    {"patience": 1, "threshold": 0.1, "min_lr": 0.004},
    {"mode": "max", "patience": 2, "cooldown": 2, "factor": 0.7},
    {"mode": "max", "patience": 1, "threshold": 0.02, "threshold_mode": "abs", "min_lr": 0.01},
    {"patience": 1, "factor": 0.9, "min_lr": 0.0999999995, "eps": 1e-8},  # eps stops a tiny cut
]


@pytest.mark.parametrize("kwargs", PLATEAU_CASES)
def test_reduce_on_plateau_equals_pytorch(kwargs):
    rng = np.random.default_rng(len(str(kwargs)))
    # a noisy metric that improves, stalls, jumps and has exact repeats and ties
    trend = np.concatenate([np.linspace(1, 0.5, 40), np.full(30, 0.5), np.linspace(0.5, 0.45, 40)])
    metric = np.round(trend + 0.03 * rng.standard_normal(trend.size), 2)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))], lr=0.1)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    ours = ReduceLROnPlateau(**kwargs)
    lr = 0.1
    cuts = 0
    for value in metric:
        opt.step()
        theirs.step(float(value))
        new = ours.step(float(value), lr)
        cuts += new != lr
        lr = new
        assert lr == opt.param_groups[0]["lr"]
        assert ours.num_bad_epochs == theirs.num_bad_epochs
        assert ours.cooldown_counter == theirs.cooldown_counter
        assert ours.best == theirs.best
    assert cuts >= 1 or kwargs.get("eps")  # the sequence exercises a cut


def test_plateau_state_round_trip_and_bad_settings():
    a = ReduceLROnPlateau(patience=1)
    for v in (1.0, 1.0, 1.0):
        a.step(v, 0.1)
    b = ReduceLROnPlateau(patience=1)
    b.load_state(a.state())
    assert b.step(1.0, 0.01) == a.step(1.0, 0.01)
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="patience"):
        ReduceLROnPlateau(patience=-1)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(0)
    with pytest.raises(ValueError, match="gamma"):
        ExponentialLR(math.nan)
    with pytest.raises(ValueError, match="eta_min"):
        CosineAnnealingLR(10, eta_min=-1)
