"""The PyTorch round trip, both ways, for every layer type (float64, outputs equal to 1e-12).

gradstat → PyTorch: ``gradstat.nn.save`` writes a file that ``safetensors.torch.load_file``
opens and the matching ``torch.nn`` module loads with ``load_state_dict(strict=True)``.
PyTorch → gradstat: a ``state_dict`` written by ``safetensors.torch.save_file`` loads into
the gradstat layer strictly. The oracle is PyTorch's own forward pass on the loaded weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import gradstat.nn as gnn
from gradstat.nn.layers.base import layer_classes
from gradstat.nn.models.architectures import lenet5

TOL = 1e-12


def first(out):
    """A recurrent torch module returns (output, state): keep the output."""
    return out[0] if isinstance(out, tuple) else out


def floats(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def trained(layer, shape):
    """A normalisation layer whose running statistics and affine parameters are not the defaults."""
    for seed in range(3):
        layer.forward(floats(*shape, seed=seed) * 2 + 1)
    for value in layer.params.values():
        value[...] = floats(*value.shape, seed=9)
    return layer


def torch_trained(module, shape):
    """The same for a torch module (its training-mode forward passes move the running statistics)."""
    module = module.double()
    with torch.no_grad():
        for seed in range(3, 6):
            module(torch.from_numpy(floats(*shape, seed=seed) * 3 - 1))
        for param in module.parameters():
            param.uniform_(-2, 2)
    return module


# gradstat layer, its torch twin, an input: every layer type gradstat ships
CASES = {
    "Dense": (lambda: gnn.Dense(5, 3, seed=1, dtype="float64"), lambda: torch.nn.Linear(5, 3), floats(4, 5)),
    "Dense-3d": (
        lambda: gnn.Dense(5, 3, seed=1, dtype="float64"),
        lambda: torch.nn.Linear(5, 3),
        floats(2, 4, 5),
    ),
    "Conv1D": (
        lambda: gnn.Conv1D(2, 3, 3, stride=2, padding=1, seed=2, dtype="float64"),
        lambda: torch.nn.Conv1d(2, 3, 3, stride=2, padding=1),
        floats(2, 2, 9),
    ),
    "Conv2D": (
        lambda: gnn.Conv2D(3, 4, (3, 2), stride=1, padding=(1, 0), seed=3, dtype="float64"),
        lambda: torch.nn.Conv2d(3, 4, (3, 2), stride=1, padding=(1, 0)),
        floats(2, 3, 6, 5),
    ),
    "Embedding": (
        lambda: gnn.Embedding(7, 4, seed=4, dtype="float64"),
        lambda: torch.nn.Embedding(7, 4),
        np.array([[0, 3, 6], [2, 2, 5]]),
    ),
    "RNN": (
        lambda: gnn.RNN(3, 4, seed=5, dtype="float64"),
        lambda: torch.nn.RNN(3, 4, batch_first=True),
        floats(2, 5, 3),
    ),
    "LSTM": (
        lambda: gnn.LSTM(3, 4, forget_bias=1.0, seed=6, dtype="float64"),
        lambda: torch.nn.LSTM(3, 4, batch_first=True),
        floats(2, 5, 3),
    ),
    "GRU": (
        lambda: gnn.GRU(3, 4, seed=9, dtype="float64"),
        lambda: torch.nn.GRU(3, 4, batch_first=True),
        floats(2, 5, 3),
    ),
    "Stacked-GRU": (
        lambda: gnn.Stacked("gru", 3, 4, num_layers=2, seed=10, dtype="float64"),
        lambda: torch.nn.GRU(3, 4, num_layers=2, batch_first=True),
        floats(2, 5, 3),
    ),
    "Stacked-RNN": (
        lambda: gnn.Stacked("rnn", 3, 4, num_layers=2, seed=7, dtype="float64"),
        lambda: torch.nn.RNN(3, 4, num_layers=2, batch_first=True),
        floats(2, 5, 3),
    ),
    "Stacked-LSTM": (
        lambda: gnn.Stacked("lstm", 3, 4, num_layers=3, seed=8, dtype="float64"),
        lambda: torch.nn.LSTM(3, 4, num_layers=3, batch_first=True),
        floats(2, 5, 3),
    ),
    "ReLU": (gnn.ReLU, torch.nn.ReLU, floats(3, 4)),
    "Sigmoid": (gnn.Sigmoid, torch.nn.Sigmoid, floats(3, 4)),
    "Tanh": (gnn.Tanh, torch.nn.Tanh, floats(3, 4)),
    "Softmax": (gnn.Softmax, lambda: torch.nn.Softmax(dim=-1), floats(3, 4)),
    "Flatten": (gnn.Flatten, torch.nn.Flatten, floats(2, 3, 4)),
    "Dropout": (lambda: gnn.Dropout(0.3, seed=0), lambda: torch.nn.Dropout(0.3), floats(3, 4)),  # eval mode
    "MaxPool1D": (lambda: gnn.MaxPool1D(2), lambda: torch.nn.MaxPool1d(2), floats(2, 3, 8)),
    "MaxPool2D": (lambda: gnn.MaxPool2D(2), lambda: torch.nn.MaxPool2d(2), floats(2, 3, 6, 4)),
    "AvgPool2D": (lambda: gnn.AvgPool2D((2, 3)), lambda: torch.nn.AvgPool2d((2, 3)), floats(2, 3, 4, 6)),
    "BatchNorm1D": (
        lambda: trained(gnn.BatchNorm1D(3, dtype="float64"), (6, 3)),
        lambda: torch_trained(torch.nn.BatchNorm1d(3), (6, 3)),
        floats(4, 3),
    ),
    "BatchNorm1D-3d": (
        lambda: trained(gnn.BatchNorm1D(3, momentum=None, dtype="float64"), (2, 3, 5)),
        lambda: torch_trained(torch.nn.BatchNorm1d(3, momentum=None), (2, 3, 5)),
        floats(2, 3, 4),
    ),
    "BatchNorm2D": (
        lambda: trained(gnn.BatchNorm2D(2, dtype="float64"), (2, 2, 3, 3)),
        lambda: torch_trained(torch.nn.BatchNorm2d(2), (2, 2, 3, 3)),
        floats(2, 2, 4, 3),
    ),
    "LayerNorm": (
        lambda: trained(gnn.LayerNorm((3, 4), dtype="float64"), (2, 3, 4)),
        lambda: torch_trained(torch.nn.LayerNorm((3, 4)), (2, 3, 4)),
        floats(2, 3, 4),
    ),
    "LeakyReLU": (lambda: gnn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), floats(3, 4)),
    "GELU": (lambda: gnn.GELU("tanh"), lambda: torch.nn.GELU("tanh"), floats(3, 4)),
}


def torch_out(module: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    module.eval()
    with torch.no_grad():
        return first(module(torch.from_numpy(x))).numpy()


def test_every_layer_type_has_a_case():
    """A new layer type without a PyTorch twin here fails this test."""
    base_names = {"Layer", "Container", "Recurrent", "Sequential"}
    shipped = {
        cls.__name__
        for key, cls in layer_classes().items()
        if key.startswith("gradstat.nn.")
        and not cls.__name__.startswith("_")
        and cls.__name__ not in base_names
    }
    covered = {name.split("-")[0] for name in CASES} | {"Stacked"}
    assert shipped <= covered, f"layers without a round-trip case: {sorted(shipped - covered)}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradstat_file_loads_into_torch(name, tmp_path):
    make_ours, make_theirs, x = CASES[name]
    ours = make_ours().eval()
    path = tmp_path / "layer.safetensors"
    gnn.save(ours, path)
    theirs = make_theirs().double()
    theirs.load_state_dict(safetensors.torch.load_file(path), strict=True)
    expected = torch_out(theirs, x)
    np.testing.assert_allclose(ours.forward(x), expected, rtol=TOL, atol=TOL)
    rebuilt = gnn.load(path).eval()  # the metadata rebuilds the architecture too
    assert type(rebuilt) is type(ours)
    np.testing.assert_allclose(rebuilt.forward(x), expected, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_state_dict_loads_into_gradstat(name, tmp_path):
    make_ours, make_theirs, x = CASES[name]
    torch.manual_seed(0)
    theirs = make_theirs().double()
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(theirs.state_dict(), path)
    expected = torch_out(theirs, x)
    for state_dict in (gnn.read_state_dict(path), safetensors.numpy.load_file(path)):
        ours = make_ours().eval().load_state_dict(state_dict, strict=True)
        np.testing.assert_allclose(ours.forward(x), expected, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_recurrent_keys_are_torchs(cell):
    torch_cls = torch.nn.RNN if cell == "rnn" else torch.nn.LSTM
    lone = (gnn.RNN if cell == "rnn" else gnn.LSTM)(3, 4)
    assert list(lone.state_dict()) == list(torch_cls(3, 4).state_dict())
    stacked = gnn.Stacked(cell, 3, 4, num_layers=3)
    assert list(stacked.state_dict()) == list(torch_cls(3, 4, num_layers=3).state_dict())


def lenet5_twin() -> torch.nn.Sequential:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    ).double()


def test_lenet5_both_ways(tmp_path):
    x = floats(3, 1, 28, 28, seed=9)
    ours = lenet5(seed=0).to("float64")
    path = tmp_path / "lenet.safetensors"
    gnn.save(ours, path)
    twin = lenet5_twin()
    twin.load_state_dict(safetensors.torch.load_file(path), strict=True)
    np.testing.assert_allclose(ours.forward(x), torch_out(twin, x), rtol=TOL, atol=TOL)

    torch.manual_seed(1)
    fresh = lenet5_twin()
    safetensors.torch.save_file(fresh.state_dict(), tmp_path / "torch.safetensors")
    back = lenet5(seed=5).to("float64").load_state_dict(gnn.read_state_dict(tmp_path / "torch.safetensors"))
    np.testing.assert_allclose(back.forward(x), torch_out(fresh, x), rtol=TOL, atol=TOL)


class CharNet(torch.nn.Module):
    """Embedding → 2-layer LSTM → Linear, registered as "0", "1", "2" like a Sequential."""

    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", torch.nn.Embedding(6, 3))
        self.add_module("1", torch.nn.LSTM(3, 4, num_layers=2, batch_first=True))
        self.add_module("2", torch.nn.Linear(4, 6))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        emb, rec, out = self._modules.values()
        return out(rec(emb(ids))[0])


def test_nested_recurrent_keys_in_a_sequential(tmp_path):
    ids = np.array([[0, 5, 2, 3], [1, 1, 4, 0]])
    ours = gnn.Sequential(
        [
            gnn.Embedding(6, 3, dtype="float64"),
            gnn.Stacked("lstm", 3, 4, 2, dtype="float64"),
            gnn.Dense(4, 6, dtype="float64"),
        ]
    )
    assert "1.weight_ih_l1" in ours.state_dict()
    gnn.save(ours, tmp_path / "char.safetensors")
    twin = CharNet().double()
    twin.load_state_dict(safetensors.torch.load_file(tmp_path / "char.safetensors"), strict=True)
    np.testing.assert_allclose(ours.forward(ids), torch_out(twin, ids), rtol=TOL, atol=TOL)


def test_strict_loading_names_missing_and_unexpected_keys():
    layer = gnn.Dense(2, 3, dtype="float64")
    with pytest.raises(ValueError, match=r"missing keys \['bias'\], unexpected keys \['b'\]"):
        layer.load_state_dict({"weight": np.zeros((3, 2)), "b": np.zeros(3)})
    with pytest.raises(ValueError, match=r"'weight' has shape \(2, 3\), the layer needs \(3, 2\)"):
        layer.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(3)})
    layer.load_state_dict({"weight": np.ones((3, 2))}, strict=False)  # the others stay
    np.testing.assert_array_equal(layer.params["weight"], np.ones((3, 2)))


def test_a_sequentials_keys_come_module_by_module_as_torchs():
    # each module's parameters then its buffers, before the next module's (not all parameters first)
    ours = gnn.Sequential(
        [gnn.Dense(3, 4), gnn.BatchNorm1D(4), gnn.ReLU(), gnn.Dense(4, 2), gnn.BatchNorm1D(2)]
    )
    twin = torch.nn.Sequential(
        torch.nn.Linear(3, 4),
        torch.nn.BatchNorm1d(4),
        torch.nn.ReLU(),
        torch.nn.Linear(4, 2),
        torch.nn.BatchNorm1d(2),
    )
    assert list(ours.state_dict()) == list(twin.state_dict())
