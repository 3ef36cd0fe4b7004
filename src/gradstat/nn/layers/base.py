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
``replica(part)``
    A copy that takes one part of a batch on a thread of its own (``Sequential`` on several
    cores): the same parameter and buffer arrays, its own caches and gradients. Only layers
    that declare ``splits_batch = True`` have one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Self

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
    """The layer class registered under a qualified name: how a saved model is rebuilt.

    Every subclass of `Layer` registers itself under ``"module.Class"`` when it is defined;
    ``gradstat.nn.load`` reads that name from a file and calls
    ``layer_class(name).from_config(config)``, so no code is executed on load.

    Parameters
    ----------
    name : str
        The qualified name, e.g. ``"gradstat.nn.layers.dense.Dense"``. Files written before
        classes were keyed by module carry bare names (``"Dense"``) or an old module path;
        those resolve to gradstat's own class of that name, never to a user's.

    Returns
    -------
    type[Layer]
        The registered class.

    Raises
    ------
    ValueError
        If no class is registered under ``name``; the message lists the known names.

    Examples
    --------
    >>> from gradstat.nn import Dense, layer_class
    >>> layer_class("gradstat.nn.layers.dense.Dense") is Dense
    True
    >>> layer_class("Dense") is Dense  # a bare name from an old file
    True
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


def memory_order(x: np.ndarray) -> tuple[int, ...] | None:
    """Axes of ``x`` from the largest stride to the smallest, if that makes it C-contiguous.

    ``x.transpose(memory_order(x))`` is then a view in which the elements follow each other as
    they lie in memory: a loop or a product over it needs no copy.
    """
    if x.flags.c_contiguous:
        return tuple(range(x.ndim))
    order = tuple(sorted(range(x.ndim), key=lambda axis: -x.strides[axis]))  # a stable sort
    return order if x.transpose(order).flags.c_contiguous else None


def row_order(x: np.ndarray) -> tuple[int, ...]:
    """Axes that list the rows of ``x`` (its last axis kept whole and last) in the order they
    lie in memory, when that needs no copy (a time-major recurrent output seen batch-first);
    otherwise the identity, C order, which a reshape into rows then copies."""
    order = memory_order(x)
    return order if order is not None and order[-1] == x.ndim - 1 else tuple(range(x.ndim))


def undo_order(order: tuple[int, ...]) -> tuple[int, ...]:
    """The axes that put ``x.transpose(order)`` back as ``x`` (the inverse permutation).

    Plain Python: ``np.argsort`` of a tuple costs ten times more, on every layer's pass.
    """
    return tuple(sorted(range(len(order)), key=order.__getitem__))


class Layer:
    """Base class of every layer: a forward pass that caches, a backward pass that uses the cache.

    A layer computes out = f(x; θ) in `forward`, keeping what the derivative needs. Given
    δ = ∂E/∂out, `backward` writes ∂E/∂θ = (∂out/∂θ)' δ into ``grads`` and returns
    ∂E/∂x = (∂out/∂x)' δ, which is the δ of the layer below: the chain rule of the notes,
    applied one layer at a time. An optimiser then updates ``params`` from ``grads``.

    Every subclass is registered under its qualified name (`layer_class`), so a saved model
    is rebuilt from ``{"class": "module.Class", "config": layer.config()}`` without
    executing code. A subclass takes its hyper-parameters in ``__init__``, fills ``params``
    (and ``buffers``) there, and overrides `forward`, `backward`, `output_shape` and `config`.

    PyTorch: ``torch.nn.Module``, without the autograd tape: each backward pass is written
    by hand beside its forward pass. Parameter names and layouts are PyTorch's.

    Attributes
    ----------
    params : dict[str, numpy.ndarray]
        Trainable arrays under PyTorch's names (``weight``, ``bias``, ``weight_ih_l0`` …).
    grads : dict[str, numpy.ndarray]
        ∂E/∂param after `backward`: the keys and shapes of ``params``, arrays allocated
        once and overwritten in place by every backward pass.
    buffers : dict[str, numpy.ndarray]
        Non-trainable state saved with the model (BatchNorm's ``running_mean``).
    training : bool
        True in training mode (`train`), False in evaluation mode (`eval`).
    state : object
        A recurrent layer's final state after `forward`; None for the others.

    See Also
    --------
    Container : a layer made of child layers.
    Sequential : layers applied in order, with ``fit`` and ``predict``.

    Examples
    --------
    Every concrete layer follows this contract; `Dense` shows it:

    >>> import numpy as np
    >>> from gradstat.nn import Dense
    >>> layer = Dense(3, 2, seed=0)
    >>> out = layer.forward(np.ones((4, 3)))  # (batch, in_features)
    >>> grad_x = layer.backward(np.ones_like(out))  # ∂E/∂out in, ∂E/∂x out
    >>> grad_x.shape, {k: v.shape for k, v in layer.grads.items()}
    ((4, 3), {'weight': (2, 3), 'bias': (2,)})
    >>> sorted(layer.state_dict())
    ['bias', 'weight']
    """

    state: Any = None  # a recurrent layer's final state after forward; None for the others
    # Whether copies (``replica``) may each take a part of a batch side by side: true of a layer
    # whose passes treat every sample alone and read its parameters, writing only its caches.
    splits_batch: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[qualified_name(cls)] = cls

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from the output of `config` (containers rebuild their children too).

        Parameters
        ----------
        config : dict
            The constructor's keyword arguments, as `config` returned them.

        Returns
        -------
        Layer
            A new layer with freshly drawn parameters; load weights with `load_state_dict`.
        """
        return cls(**config)

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The layer's output for ``x``; caches what `backward` needs.

        Parameters
        ----------
        x : numpy.ndarray
            A batch of inputs, the batch on the first axis (the shape each layer documents).
            Recurrent layers also take an initial ``state=`` by keyword.

        Returns
        -------
        numpy.ndarray
            The output, batch first.
        """
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        """Backpropagate: fill ``grads`` with ∂E/∂param and return ∂E/∂input.

        Uses the cache of the last `forward`, so call it after that pass.

        Parameters
        ----------
        grad_output : numpy.ndarray
            ∂E/∂out, the shape of the last output.
        input_grad : bool, default True
            False skips ∂E/∂input (a network's first layer does not need it).

        Returns
        -------
        numpy.ndarray
            ∂E/∂input, the shape of the last input; an empty array when ``input_grad`` is
            False (for layers that skip it).
        """
        raise NotImplementedError

    def grad_buffer(self, name: str) -> np.ndarray:
        """The gradient array of parameter ``name``, allocated once and reused: write into it.

        For writers of layers: a `backward` pass stores ∂E/∂param with
        ``np.matmul(..., out=self.grad_buffer("weight"))`` or ``buffer[...] = ...``, so the
        array an optimiser holds stays the same. A new array is allocated only when the
        parameter's shape or dtype has changed.

        Parameters
        ----------
        name : str
            A key of ``params``.

        Returns
        -------
        numpy.ndarray
            ``grads[name]``, the parameter's shape and dtype (zeros when new, else the last gradient).
        """
        param, grad = self.params[name], self.grads.get(name)
        if grad is None or grad.shape != param.shape or grad.dtype != param.dtype:
            grad = self.grads[name] = np.zeros_like(param)
        return grad

    def output_shape(self, input_shape: Shape) -> Shape:
        """The output shape for an input of ``input_shape``, without computing anything.

        Parameters
        ----------
        input_shape : tuple of int or None
            The input's shape, None for the batch axis (or any free axis).

        Returns
        -------
        tuple of int or None
            The output's shape, None where the input had None.

        Raises
        ------
        ValueError
            If an input of that shape does not fit the layer.
        """
        return input_shape

    def config(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-serialisable, so the layer can be rebuilt on load.

        Returns
        -------
        dict
            Keyword arguments for the constructor (`from_config`).
        """
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
        """The number of trainable values: Σ over ``params`` of each array's size."""
        return sum(int(v.size) for v in self.params.values())

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        """Every parameter with its name, as ``torch.nn.Module.named_parameters``.

        Yields
        ------
        name : str
            PyTorch's name (``"weight"``; ``"0.weight"`` in a container).
        array : numpy.ndarray
            The live parameter array: writing into it changes the layer.
        """
        yield from self.params.items()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and buffers under PyTorch's keys (``0.weight``, ``weight_ih_l0`` …).

        As in PyTorch the arrays are the live ones: copy them to keep a snapshot.

        Returns
        -------
        dict[str, numpy.ndarray]
            ``params`` and ``buffers`` in one dict, the keys a ``torch.nn`` module of the
            same architecture has.
        """
        return {**self.params, **self.buffers}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Self:
        """Copy arrays (NumPy or torch tensors) into the parameters and buffers of the same keys.

        Parameters
        ----------
        state_dict : mapping of str to array
            Arrays or ``torch.Tensor`` objects under PyTorch's keys, e.g. a
            ``torch.nn`` module's ``state_dict()``.
        strict : bool, default True
            Require exactly this layer's keys; False copies the keys present in both.

        Returns
        -------
        Layer
            The layer itself, its arrays overwritten in place (same dtype as before).

        Raises
        ------
        ValueError
            If ``strict`` and keys are missing or unexpected (both lists named), or if an
            array's shape differs from the parameter's (the key named).
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
        """Cast the parameters and floating buffers to ``dtype`` (gradcheck uses float64).

        The parameter arrays are replaced (not cast in place) and ``grads`` is emptied, so
        an optimiser bound earlier should be created again.

        Parameters
        ----------
        dtype : numpy dtype or str
            The new floating type, e.g. ``"float64"``.

        Returns
        -------
        Layer
            The layer itself.
        """
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
        """Switch training mode on or off (Dropout drops, BatchNorm uses the batch's statistics).

        Evaluation mode also lets a layer skip work that only a backward pass needs: a
        one-channel convolution skips its im2col copy and max pooling its arg-max. A
        backward pass after such a forward pass does that work then, so its gradients are
        the same in either mode.

        Parameters
        ----------
        mode : bool, default True
            True for training mode, False for evaluation mode.

        Returns
        -------
        Layer
            The layer itself (a container switches its children too).
        """
        self.training = mode
        return self

    def eval(self) -> Self:
        """Switch to evaluation mode: ``train(False)``.

        Returns
        -------
        Layer
            The layer itself.
        """
        return self.train(False)

    def carry_state(self, mode: bool = True) -> Self:
        """Start each forward pass from the state the last one ended in (recurrent layers).

        Truncated backpropagation through time: the state crosses from one chunk of a
        sequence to the next, the gradient does not. Layers without state ignore it.

        Parameters
        ----------
        mode : bool, default True
            True to carry the state, False to start every pass from zeros again.

        Returns
        -------
        Layer
            The layer itself.
        """
        return self

    def reset_state(self) -> Self:
        """Forget the carried state: the next forward pass starts from zeros.

        Returns
        -------
        Layer
            The layer itself.
        """
        self.state = None
        return self

    def replica(self, part: int = 0) -> Layer | None:
        """A copy that takes one part of a batch, forward and backward, on another thread.

        It shares ``params`` and ``buffers`` (the same arrays, so it sees every update) and
        keeps its own caches and ``grads``; ``Sequential`` adds the parts' gradients. Only a
        layer whose passes treat each sample alone and change no shared state can be split
        so: those that declare ``splits_batch = True``. BatchNorm in training (statistics of
        the whole batch), Dropout in training (one random generator) and recurrent layers
        (a state carried between calls) have none.

        Parameters
        ----------
        part : int, default 0
            Which part of the batch the copy takes; copies made for the same part reuse
            their scratch arrays.

        Returns
        -------
        Layer or None
            The copy, or None when this layer has none.
        """
        if not self.splits_batch:
            return None
        twin = copy.copy(self)
        twin.grads = {}
        return twin

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Container(Layer):
    """Base class of a layer made of child layers; it holds no arrays of its own.

    Its ``params``, ``grads`` and ``buffers`` are read from its children on each access,
    named ``"{key}.{name}"`` with the child's key from `named_children` (the live
    arrays: nothing is copied). ``to``, ``train``, ``carry_state`` and ``reset_state``
    apply to every child. A subclass implements `named_children`, `forward` and
    `backward`; the backward pass of a composition is the chain rule through the children
    in reverse order.

    PyTorch: a ``torch.nn.Module`` with submodules; the same ``"{key}.{name}"`` keys.

    See Also
    --------
    Sequential : the container that applies its children in order.
    Stacked : recurrent layers on top of each other.

    Examples
    --------
    >>> from gradstat.nn import Dense, ReLU, Sequential
    >>> model = Sequential([Dense(2, 3, seed=0), ReLU(), Dense(3, 1, seed=1)])
    >>> [(name, value.shape) for name, value in model.named_parameters()]
    [('0.weight', (3, 2)), ('0.bias', (3,)), ('2.weight', (1, 3)), ('2.bias', (1,))]
    >>> model.params["0.weight"] is model.layers[0].params["weight"]
    True
    """

    def __init__(self) -> None:  # no arrays of its own: the properties below read the children
        self.training = True

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        """The child layers with their keys.

        Yields
        ------
        key : str
            The prefix of the child's names in ``params`` (``"0"``, ``"1"`` …).
        layer : Layer
            The child.
        """
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
        """Each child's parameters then its buffers, child by child (PyTorch's key order).

        Returns
        -------
        dict[str, numpy.ndarray]
            The live arrays under ``"{key}.{name}"``, in the key order of the matching
            ``torch.nn`` module's ``state_dict()``.
        """
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
