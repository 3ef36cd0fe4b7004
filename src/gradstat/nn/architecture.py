"""The tensor shapes a saved architecture declares, read from its config without building it.

``gradstat.nn.io`` compares them with the shapes in a file's header before it builds any
layer, so a file whose architecture declares a large layer (``Dense(100000, 100000)``, 80 GB
at float64) beside a few bytes of tensors is refused before anything is allocated. A layer
whose class has no rule here, or whose config is malformed (its constructor rejects it),
declares nothing: ``load_state_dict`` checks it after the build, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradstat.nn.layers.activations import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from gradstat.nn.layers.base import Layer, layer_class
from gradstat.nn.layers.batchnorm import BatchNorm1D, BatchNorm2D
from gradstat.nn.layers.conv import Conv1D, Conv2D
from gradstat.nn.layers.dense import Dense
from gradstat.nn.layers.dropout import Dropout
from gradstat.nn.layers.embedding import Embedding
from gradstat.nn.layers.layernorm import LayerNorm
from gradstat.nn.layers.pool import AvgPool2D, MaxPool1D, MaxPool2D
from gradstat.nn.layers.recurrent import CELLS, GRU, LSTM, RNN, Stacked
from gradstat.nn.layers.reshape import Flatten
from gradstat.nn.layers.sequential import Sequential

Shapes = dict[str, tuple[int, ...]]


def declared_shapes(spec: Any) -> Shapes:
    """The ``state_dict`` keys and shapes that ``spec`` (``{"class": …, "config": …}``, as
    saved) declares, for every layer whose shapes follow from its config (see the module)."""
    try:
        cls = layer_class(spec["class"])
        config = spec["config"]
        rule = _RULES.get(cls) if isinstance(config, dict) else None
        return {} if rule is None else rule(config)
    except (KeyError, TypeError, ValueError):  # malformed: left to the constructor to reject
        return {}


def _size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"not a size: {value!r}")
    return value


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return _size(value[0]), _size(value[1])
    return _size(value), _size(value)


def _dense(c: dict[str, Any]) -> Shapes:
    out = _size(c["out_features"])
    shapes: Shapes = {"weight": (out, _size(c["in_features"]))}
    return {**shapes, "bias": (out,)} if c.get("bias", True) else shapes


def _conv(kernel: Callable[[Any], tuple[int, ...]]) -> Callable[[dict[str, Any]], Shapes]:
    def rule(c: dict[str, Any]) -> Shapes:
        out = _size(c["out_channels"])
        return {"weight": (out, _size(c["in_channels"]), *kernel(c["kernel_size"])), "bias": (out,)}

    return rule


def _batchnorm(c: dict[str, Any]) -> Shapes:
    n = (_size(c["num_features"]),)
    shapes: Shapes = {"weight": n, "bias": n} if c.get("affine", True) else {}
    if c.get("track_running_stats", True):
        shapes.update({"running_mean": n, "running_var": n, "num_batches_tracked": ()})
    return shapes


def _layernorm(c: dict[str, Any]) -> Shapes:
    given = c["normalized_shape"]
    shape = tuple(_size(d) for d in given) if isinstance(given, list | tuple) else (_size(given),)
    if not c.get("elementwise_affine", True):
        return {}
    return {"weight": shape, "bias": shape} if c.get("bias", True) else {"weight": shape}


def _recurrent(gates: int, input_size: int, hidden: int, layer: int) -> Shapes:
    gh = gates * hidden
    return {
        f"weight_ih_l{layer}": (gh, input_size),
        f"weight_hh_l{layer}": (gh, hidden),
        f"bias_ih_l{layer}": (gh,),
        f"bias_hh_l{layer}": (gh,),
    }


def _cell(cls: type[RNN | LSTM | GRU]) -> Callable[[dict[str, Any]], Shapes]:
    return lambda c: _recurrent(cls.gates, _size(c["input_size"]), _size(c["hidden_size"]), 0)


def _stacked(c: dict[str, Any]) -> Shapes:
    gates, hidden = CELLS[c["cell"]].gates, _size(c["hidden_size"])
    inputs = [_size(c["input_size"])] + [hidden] * (_size(c.get("num_layers", 2)) - 1)
    return {k: v for layer, n in enumerate(inputs) for k, v in _recurrent(gates, n, hidden, layer).items()}


def _sequential(c: dict[str, Any]) -> Shapes:
    return {
        f"{index}.{key}": shape
        for index, spec in enumerate(c["layers"])
        for key, shape in declared_shapes(spec).items()
    }


def _none(c: dict[str, Any]) -> Shapes:
    return {}


_RULES: dict[type[Layer], Callable[[dict[str, Any]], Shapes]] = {
    Dense: _dense,
    Conv1D: _conv(lambda k: (_size(k),)),
    Conv2D: _conv(_pair),
    BatchNorm1D: _batchnorm,
    BatchNorm2D: _batchnorm,
    LayerNorm: _layernorm,
    Embedding: lambda c: {"weight": (_size(c["num_embeddings"]), _size(c["dim"]))},
    RNN: _cell(RNN),
    LSTM: _cell(LSTM),
    GRU: _cell(GRU),
    Stacked: _stacked,
    Sequential: _sequential,
    **dict.fromkeys(
        (GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, Dropout, AvgPool2D, MaxPool1D, MaxPool2D, Flatten),
        _none,
    ),
}
