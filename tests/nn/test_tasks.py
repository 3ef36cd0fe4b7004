"""The adding problem trained through the Trainer, and its last-step loss against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradstat.nn.models.tasks import LastStepMSE, adding_learning_curve


def test_last_step_loss_and_gradient_equal_pytorch():
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((5, 7, 2)), rng.standard_normal((5, 2))
    loss = LastStepMSE()
    value = loss.forward(pred, target)
    p = torch.from_numpy(pred).requires_grad_()
    expected = torch.nn.functional.mse_loss(p[:, -1], torch.from_numpy(target))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(loss.backward(), p.grad.numpy(), rtol=1e-14)
    with pytest.raises(ValueError, match="batch, time, outputs"):
        loss.forward(pred[:, 0], target)


def test_lstm_learns_the_short_adding_problem():
    curve = adding_learning_curve("lstm", length=8, hidden_size=16, steps=300, batch_size=32, eval_every=100)
    assert list(curve["step"]) == [100, 200, 300]
    assert curve["valid_mse"].iloc[-1] < 0.5 / 6  # half the error of guessing the mean 1
    with pytest.raises(ValueError, match="eval_every"):
        adding_learning_curve("rnn", eval_every=0)
