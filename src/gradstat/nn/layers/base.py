"""The layer contract every network piece keeps, and the registry that rebuilds saved layers.

The contract
------------
``forward(x, **state)``
    Computes the output and caches what ``backward`` needs. Only recurrent layers take
    state, by keyword (``state=h_0`` or ``state=(h_0, c_0)``); every other layer takes ``x``
    alone. After a forward pass a recurrent layer holds its final state in ``self.state``.
``backward(grad_output, *, input_grad=True)``
    Receives ∂E/∂out, overwrites ``grads`` with ∂E/∂param and returns ∂E/∂in — the chain rule,
    one layer at a time. With ``input_grad=False`` a layer may skip ∂E/∂in (a network's first
    layer does not need it) and then returns an empty array.
``params`` / ``grads`` / ``buffers``
    Dicts of arrays under PyTorch's names (``weight``, ``bias``, ``weight_ih_l0`` …).
    ``grads`` has the keys and shapes of ``params``; ``buffers`` holds non-trainable state
    saved with the model (BatchNorm's ``running_mean``). Containers build all three from
    their children (``"{index}.{name}"``), holding no arrays of their own; ``Stacked``
    names layer k's parameters ``weight_ih_l{k}`` …, as ``torch.nn.LSTM(num_layers=…)``.
Gradient arrays
    Allocated once per parameter and overwritten in place on every backward pass
    (``grad_buffer``); an optimiser or a user may keep references to them. They are
    allocated again only when the parameter's shape or dtype changes (``to``).
``named_parameters()``, ``state_dict()``, ``load_state_dict(sd, strict=True)``
    PyTorch's key names, so weights cross to and from ``torch.nn`` modules unchanged.
``train()`` / ``eval()``, ``carry_state()`` / ``reset_state()``
    Modes, applied to a container's children too. A layer that carries state (recurrent)
    starts each forward pass from the state the previous one ended in, until
    ``reset_state()`` — truncated backpropagation through time.
``config()`` / ``from_config()``
    Constructor arguments as JSON, so a saved model is rebuilt without executing code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self

import numpy as np

Shape = tuple[int | None, ...]  # None marks the batch (or any free) axis

_REGISTRY: dict[str, type[Layer]] = {}


def qualified_name(cls: type) -> str:
    """``module.Class``: the key a layer class is registered and saved under."""
    return f"{cls.__module__}.{cls.__qualname__}"


def layer_classes() -> dict[str, type[Layer]]:
    """Every registered layer class, by qualified name."""
    return dict(_REGISTRY)


def layer_class(name: str) -> type[Layer]:
    """The layer class registered under ``name`` (``module.Class``; every subclass registers).

    Files written before classes were keyed by module carry bare names (``"Dense"``) or an
    old module path; those resolve to gradstat's own class of that name, never to a user's.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    bare = name.rsplit(".", 1)[-1]
    if "." not in name or name.startswith("gradstat."):
        ours = [cls for key, cls in _REGISTRY.items() if key.startswith("gradstat.") and cls.__name__ == bare]
        if len(ours) == 1:
            return ours[0]
    raise ValueError(f"unknown layer class {name!r}; known: {sorted(_REGISTRY)}")


def to_array(value: Any) -> np.ndarray:
    """A NumPy array from an array or a ``torch.Tensor`` (without importing torch)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class Layer:
    """Base class: subclasses implement ``forward`` and ``backward`` (see the module docstring).

    Every subclass is registered under its qualified name, so a saved model can be rebuilt
    from ``{"class": qualified_name(cls), "config": layer.config()}`` without executing code.
    """

    state: Any = None  # a recurrent layer's final state after forward; None for the others

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[qualified_name(cls)] = cls

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

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        raise NotImplementedError

    def grad_buffer(self, name: str) -> np.ndarray:
        """The gradient array of parameter ``name``, allocated once and reused (write into it)."""
        param, grad = self.params[name], self.grads.get(name)
        if grad is None or grad.shape != param.shape or grad.dtype != param.dtype:
            grad = self.grads[name] = np.zeros_like(param)
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

    # --- parameters by name -------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        """The number of trainable values."""
        return sum(int(v.size) for v in self.params.values())

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(name, array)`` for every parameter, PyTorch's names, the live arrays."""
        yield from self.params.items()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and buffers under PyTorch's keys (``0.weight``, ``weight_ih_l0`` …).

        As in PyTorch the arrays are the live ones: copy them to keep a snapshot.
        """
        return {**self.params, **self.buffers}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Self:
        """Copy arrays (NumPy or torch tensors) into the parameters and buffers of the same keys.

        ``strict`` (the default) requires exactly this layer's keys; otherwise the keys
        present in both are copied. Shapes must always match (ValueError naming the key).
        Returns the layer.
        """
        current = self.state_dict()
        if strict:
            missing = [k for k in current if k not in state_dict]
            unexpected = [k for k in state_dict if k not in current]
            if missing or unexpected:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                    f"unexpected keys {unexpected}"
                )
        for key, target in current.items():
            if key not in state_dict:
                continue
            value = to_array(state_dict[key])
            if value.shape != target.shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: {key!r} has shape {value.shape}, "
                    f"the layer needs {target.shape}"
                )
            target[...] = value
        return self

    def to(self, dtype: Any) -> Self:
        """Cast parameters to ``dtype`` in place (gradcheck uses float64); grads are reset."""
        dt = np.dtype(dtype)
        for name, value in self.params.items():
            self.params[name] = value.astype(dt)
        for name, value in self.buffers.items():
            if value.dtype.kind == "f":
                self.buffers[name] = value.astype(dt)
        self.grads.clear()
        if hasattr(self, "dtype"):
            self.dtype = dt
        return self

    # --- modes --------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        self.training = mode
        return self

    def eval(self) -> Self:
        return self.train(False)

    def carry_state(self, mode: bool = True) -> Self:
        """Start each forward pass from the state the last one ended in (recurrent layers)."""
        return self

    def reset_state(self) -> Self:
        """Forget the carried state: the next forward pass starts from zeros."""
        self.state = None
        return self

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Container(Layer):
    """A layer made of child layers; its ``params``, ``grads`` and ``buffers`` are its
    children's, under ``"{key}.{name}"`` (the live arrays — nothing is copied)."""

    def __init__(self) -> None:  # no arrays of its own: the properties below read the children
        self.training = True

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        raise NotImplementedError

    def _gather(self, read: Callable[[Layer], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        return {
            f"{key}.{name}": value
            for key, child in self.named_children()
            for name, value in read(child).items()
        }

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Every child's parameters, named ``"{key}.{name}"``."""
        return self._gather(lambda child: child.params)

    @params.setter
    def params(self, value: dict[str, np.ndarray]) -> None:
        raise AttributeError("a container's params are its children's: assign to those")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Every child's gradients, named like ``params``."""
        return self._gather(lambda child: child.grads)

    @grads.setter
    def grads(self, value: dict[str, np.ndarray]) -> None:
        raise AttributeError("a container's grads are its children's: assign to those")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """Every child's buffers, named like ``params``."""
        return self._gather(lambda child: child.buffers)

    @buffers.setter
    def buffers(self, value: dict[str, np.ndarray]) -> None:
        raise AttributeError("a container's buffers are its children's: assign to those")

    def state_dict(self) -> dict[str, np.ndarray]:
        """Each child's parameters then its buffers, child by child (PyTorch's key order)."""
        return self._gather(lambda child: child.state_dict())

    def to(self, dtype: Any) -> Self:
        for _, child in self.named_children():
            child.to(dtype)
        return self

    def train(self, mode: bool = True) -> Self:
        self.training = mode
        for _, child in self.named_children():
            child.train(mode)
        return self

    def carry_state(self, mode: bool = True) -> Self:
        for _, child in self.named_children():
            child.carry_state(mode)
        return self

    def reset_state(self) -> Self:
        for _, child in self.named_children():
            child.reset_state()
        return self

    def random_state(self) -> dict[str, Any]:
        """The generator states of the children that draw random numbers, by child key."""
        states = {key: child.random_state() for key, child in self.named_children()}
        return {key: state for key, state in states.items() if state}

    def set_random_state(self, state: dict[str, Any]) -> None:
        children = dict(self.named_children())
        for key, child_state in state.items():
            children[key].set_random_state(child_state)
