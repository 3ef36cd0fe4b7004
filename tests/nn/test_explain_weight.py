"""explain(weight=...): one weight of a network of any size, checked against PyTorch autograd
(float64) and the errata's figures for the notes' worked example."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from gradstat.nn import CrossEntropy, Dense, ReLU, Sequential
from tests.nn.test_worked_example import TARGET, X, notes_network


def readme_network() -> Sequential:
    return Sequential([Dense(64, 128, seed=0), ReLU(), Dense(128, 10, seed=1)])


def torch_pass(model: Sequential, x: np.ndarray, label: int) -> dict[str, torch.Tensor]:
    """PyTorch's gradients for the same weights: parameters, pre-activations and hidden outputs."""
    w0, b0, w2, b2 = (torch.tensor(model.params[k], dtype=torch.float64, requires_grad=True)
                      for k in ("0.weight", "0.bias", "2.weight", "2.bias"))  # fmt: skip
    net1 = torch.tensor(x, dtype=torch.float64)[None] @ w0.T + b0
    net1.retain_grad()
    out1 = torch.relu(net1)
    out1.retain_grad()
    logits = out1 @ w2.T + b2
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([label]))
    loss.backward()
    return {"0.weight": w0.grad, "0.bias": b0.grad, "2.weight": w2.grad, "2.bias": b2.grad,
            "net1": net1.grad[0], "out1": out1.grad[0], "loss": loss.detach()}  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "key", "index"),
    [("0.weight[3, 5]", "0.weight", (3, 5)), ("0.weight[74, 63]", "0.weight", (74, 63)),
     ("2.weight[7, 100]", "2.weight", (7, 100)), ("2.bias[4]", "2.bias", (4,)),
     ("0.bias[10]", "0.bias", (10,))],
)  # fmt: skip
def test_one_weight_of_a_large_network_equals_autograd(spec, key, index):
    model = readme_network()
    rng = np.random.default_rng(1)
    x = rng.random(64)
    expected = torch_pass(model, x, 3)
    explanation = model.explain(x, np.array(3), CrossEntropy(), weight=spec)
    frame = explanation.to_frame()
    assert frame.loc["∂E/∂w", "value"] == pytest.approx(expected[key][index].item(), rel=1e-12, abs=1e-15)
    assert explanation.loss == pytest.approx(expected["loss"].item(), rel=1e-12)
    if key.startswith("0."):  # the hidden unit's δ and ∂E/∂out are PyTorch's intermediate gradients
        j = index[0]
        delta = frame.loc[f"δ_{j} = ∂E/∂net_{j}", "value"]
        assert delta == pytest.approx(expected["net1"][j].item(), rel=1e-12)
        assert frame.loc[f"∂E/∂out_{j}", "value"] == pytest.approx(expected["out1"][j].item(), rel=1e-12)
        assert f"over the 10 units of layer 2 = {expected['out1'][j].item():.8f}" in explanation.text


def test_worked_example_weights_give_the_errata_figures():
    model = notes_network()
    w1 = model.explain(X[0], TARGET[0], weight="0.weight[0, 0]")
    assert "= 0.00043857" in w1.text.splitlines()[-2]
    assert w1.to_frame().loc["∂E/∂w", "value"] == pytest.approx(0.000438568, abs=5e-10)
    assert w1.to_frame().loc["∂E/∂out_0", "value"] == pytest.approx(0.036350306, abs=5e-10)
    assert w1.loss == pytest.approx(0.298371109, abs=5e-10)
    w5 = model.explain(X[0], TARGET[0], weight="2.weight[0, 0]").to_frame()
    assert w5.loc["∂E/∂w", "value"] == pytest.approx(0.082167041, abs=5e-10)
    assert w5.loc["∂E/∂out_0", "value"] == pytest.approx(0.74136507, abs=5e-9)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [("w1", "must look like '2.weight[3, 5]'"), ("5.weight[0, 0]", "the model has layers 0..2"),
     ("1.weight[0, 0]", "layer 1 (ReLU) has parameters none"),
     ("0.kernel[0, 0]", "has parameters ['bias', 'weight']"),
     ("0.weight[128, 0]", "outside the shape (128, 64)"), ("0.weight[0]", "outside the shape")],
)  # fmt: skip
def test_a_bad_weight_name_is_refused_by_name(spec, fragment):
    with pytest.raises(ValueError) as err:
        readme_network().explain(np.zeros(64), np.array(0), CrossEntropy(), weight=spec)
    assert fragment in str(err.value)


def test_the_full_trace_of_a_large_network_points_to_one_weight():
    with pytest.raises(ValueError, match="explain one weight with weight="):
        readme_network().explain(np.zeros(64), np.array(0), CrossEntropy())


def test_plot_draws_the_explained_weight_with_its_gradient():
    model = readme_network()
    x = np.random.default_rng(1).random(64)
    expected = torch_pass(model, x, 3)["0.weight"][3, 5].item()
    fig = model.explain(x, np.array(3), CrossEntropy(), weight="0.weight[3, 5]").plot(max_units=6)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    black = [line for line in ax.get_lines() if line.get_color() == "black"]
    assert len(black) == 1
    assert any(t.get_text() == f"∂E/∂w = {expected:.3g}" for t in ax.texts)
    assert any(t.get_text() == "+122 units" for t in ax.texts)  # 128 hidden units, 6 drawn
    assert "<pre>" in model.explain(x, np.array(3), CrossEntropy(), weight="2.bias[0]")._repr_html_()
