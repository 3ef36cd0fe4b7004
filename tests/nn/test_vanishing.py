"""gradient_by_lag against PyTorch autograd, the geometric decay, and the long-range task."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradstat.nn import LSTM, RNN, CrossEntropy, Dense, Sequential, gradient_by_lag
from gradstat.nn.models.tasks import adding_learning_curve, adding_problem, copy_memory


def torch_grad_by_lag(cell: torch.nn.Module, head: torch.nn.Linear, x, y, lstm: bool):
    """‖∂L_T/∂h_k‖ by unrolling the cell by hand and keeping every h_k's gradient."""
    batch, steps, _ = x.shape
    h = torch.zeros(batch, cell.hidden_size, dtype=torch.float64)
    c = torch.zeros_like(h)
    hs = []
    for t in range(steps):
        if lstm:
            h, c = cell(x[:, t], (h, c))
        else:
            h = cell(x[:, t], h)
        h.retain_grad()
        hs.append(h)
    loss = torch.nn.functional.cross_entropy(head(h), y, reduction="sum")
    loss.backward()
    return np.array([hk.grad.norm(dim=1).mean().item() for hk in hs])


@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_gradient_norms_equal_pytorch_autograd(arch):
    torch.manual_seed(0)
    cell = (torch.nn.RNNCell if arch == "rnn" else torch.nn.LSTMCell)(3, 5).double()
    head = torch.nn.Linear(5, 4).double()
    x = torch.randn(6, 15, 3, dtype=torch.float64)
    y = torch.randint(0, 4, (6,))
    expected = torch_grad_by_lag(cell, head, x, y, arch == "lstm")
    rec = (RNN if arch == "rnn" else LSTM)(3, 5, dtype="float64")
    rec.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})  # a cell is layer 0
    dense = Dense(5, 4, dtype="float64")
    dense.params["weight"][...] = head.weight.detach().numpy()
    dense.params["bias"][...] = head.bias.detach().numpy()
    frame = gradient_by_lag(Sequential([rec, dense]), x.numpy(), y.numpy(), CrossEntropy("sum"))
    assert list(frame["lag"]) == list(range(14, -1, -1))
    np.testing.assert_allclose(frame["grad_norm"], expected, rtol=1e-10)


def test_rnn_decays_geometrically_under_its_bound_and_lstm_decays_slower():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 60, 4))
    y = rng.integers(0, 3, 16)
    rnn = gradient_by_lag(Sequential([RNN(4, 32, seed=0), Dense(32, 3, seed=1)]), x, y)
    lstm = gradient_by_lag(Sequential([LSTM(4, 32, forget_bias=1.0, seed=0), Dense(32, 3, seed=1)]), x, y)
    assert np.all(rnn["grad_norm"] <= rnn["bound"] * (1 + 1e-5))
    # geometric: log ‖∂L_T/∂h_k‖ is a straight line in the lag with negative slope
    part = rnn[rnn["lag"].between(5, 55)]
    slope, intercept = np.polyfit(part["lag"], np.log(part["grad_norm"]), 1)
    fitted = slope * part["lag"] + intercept
    resid = np.log(part["grad_norm"]) - fitted
    r2 = 1 - resid.var() / np.log(part["grad_norm"]).var()
    assert slope < -0.3 and r2 > 0.98
    at = {name: f.set_index("lag")["grad_norm"] for name, f in (("rnn", rnn), ("lstm", lstm))}
    assert at["lstm"][40] / at["lstm"][0] > 1e4 * at["rnn"][40] / at["rnn"][0]
    assert lstm["forget_product"].iloc[-1] == 1.0


def test_gradient_by_lag_needs_a_recurrent_layer():
    with pytest.raises(TypeError, match="exactly one RNN or LSTM"):
        gradient_by_lag(Sequential([Dense(2, 2)]), np.zeros((1, 3, 2)), np.zeros(1, int))


def test_task_generators():
    x, y = adding_problem(100, 30, seed=0)
    assert x.shape == (100, 30, 2) and y.shape == (100, 1)
    assert np.all(x[:, :, 1].sum(axis=1) == 2)
    assert np.all(x[:, :15, 1].sum(axis=1) == 1)  # one marker in each half
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(adding_problem(3, 10, seed=5)[0], adding_problem(3, 10, seed=5)[0])
    ids, target = copy_memory(4, 20, symbols=8, memory=5, seed=0)
    assert ids.shape == target.shape == (4, 30)
    np.testing.assert_array_equal(target[:, -5:], ids[:, :5])
    assert np.all(ids[:, 24] == 9) and np.all(target[:, :-5] == 0)
    with pytest.raises(ValueError, match="length"):
        adding_problem(3, 1)


def test_lstm_solves_the_adding_problem_and_the_rnn_does_not():
    """Lag up to 40 steps; guessing the mean scores MSE 1/6 ≈ 0.167."""
    lstm = adding_learning_curve("lstm", length=40, hidden_size=16, steps=350, batch_size=32, lr=0.03)
    rnn = adding_learning_curve("rnn", length=40, hidden_size=16, steps=350, batch_size=32, lr=0.03)
    assert lstm["valid_mse"].iloc[-1] < 0.02
    assert rnn["valid_mse"].iloc[-1] > 0.1


def test_plot_gradient_by_lag_without_axes_leaves_pyplot_alone():
    """ax=None makes a bare Figure, as the library's other plots do: nothing piles up in
    pyplot's list of open figures, and the returned figure holds the lines."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from gradstat.nn import plot_gradient_by_lag

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 8, 3)), rng.normal(size=(4, 5))
    frames = {"RNN": gradient_by_lag(RNN(3, 5, seed=0, dtype="float64"), x, y)}
    before = plt.get_fignums()
    fig = plot_gradient_by_lag(frames)
    assert plt.get_fignums() == before
    assert type(fig) is Figure
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == ["RNN: ‖∂L_T/∂h_k‖", "RNN: Π ‖diag(1−h²) W_H‖ bound"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), frames["RNN"]["grad_norm"])
