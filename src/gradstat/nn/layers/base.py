"""The layer contract every network piece follows.

A layer owns ``params`` and ``grads`` (dicts of arrays under the same names) and
``buffers``: non-trainable state saved with the model (BatchNorm's running statistics).
``forward(x)`` computes the output and caches what the backward pass needs;
``backward(grad_output)`` receives ∂E/∂out, overwrites ``grads`` with ∂E/∂param
and returns ∂E/∂in — the chain rule, one layer at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Shape = tuple[int | None, ...]  # None marks the batch (or any free) axis

_REGISTRY: dict[str, type[Layer]] = {}


def layer_class(name: str) -> type[Layer]:
    """The layer class registered under ``name`` (every subclass registers itself)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown layer class {name!r}; known: {sorted(_REGISTRY)}") from None


class Layer:
    """Base class: subclasses implement ``forward`` and ``backward``.

    Every subclass is registered by class name, so a saved model can be rebuilt
    from ``{"class": name, "config": layer.config()}`` without executing code.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from ``config()``; containers override this."""
        return cls(**config)

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def grad_buffer(self, name: str) -> np.ndarray:
        """The gradient array for ``params[name]``: allocated once, then overwritten in place."""
        param, grad = self.params[name], self.grads.get(name)
        if grad is None or grad.shape != param.shape or grad.dtype != param.dtype:
            grad = self.grads[name] = np.empty_like(param)
        return grad

    def output_shape(self, input_shape: Shape) -> Shape:
        """Output shape for an input of ``input_shape``; ValueError if it does not fit."""
        return input_shape

    def config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-serialisable, so the layer can be rebuilt on load."""
        return {}

    def random_state(self) -> dict[str, Any]:
        """JSON-serialisable state of the layer's own random generator (none by default), so a
        checkpoint resumes a layer that draws random numbers (Dropout) bit-identically."""
        return {}

    def set_random_state(self, state: dict[str, Any]) -> None:
        """Restore what ``random_state`` returned."""

    def to(self, dtype: Any) -> Layer:
        """Cast parameters and floating buffers to ``dtype`` (gradcheck uses float64); grads are reset."""
        dt = np.dtype(dtype)
        for name, value in self.params.items():
            self.params[name] = value.astype(dt)
        for name, value in self.buffers.items():
            if value.dtype.kind == "f":
                self.buffers[name] = value.astype(dt)
        self.grads = {}
        if hasattr(self, "dtype"):
            self.dtype = dt
        return self

    def train(self, mode: bool = True) -> Layer:
        self.training = mode
        return self

    def eval(self) -> Layer:
        return self.train(False)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
