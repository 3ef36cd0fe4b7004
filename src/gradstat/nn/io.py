"""Save and load networks: weights in safetensors, architecture as JSON in its metadata.

Loading only looks classes up in the layer registry and reads arrays, so a
file can never execute code. Writes go to a temporary file in the same folder
which is then renamed over the target (atomic on POSIX and Windows).
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from gradstat.nn.layers.base import Layer, layer_class
from gradstat.nn.optim.optimisers import OPTIMISERS, Optimiser

FORMAT = "gradstat.nn"
VERSION = "1"
_BIT_GENERATORS = {
    name: getattr(np.random, name) for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
}


@dataclass
class Checkpoint:
    """What ``load_checkpoint`` restores: resume with
    ``model.fit(..., optimiser=ck.optimiser, rng=ck.rng, initial_epoch=ck.epoch)``."""

    model: Layer
    optimiser: Optimiser | None
    rng: np.random.Generator | None
    epoch: int
    history: dict[str, list[float]] = field(default_factory=dict)


def save(model: Layer, path: str | pathlib.Path) -> None:
    """Write ``model``'s weights and architecture to ``path`` (safetensors)."""
    _write(path, model, None, None, None)


def save_checkpoint(
    path: str | pathlib.Path,
    model: Layer,
    optimiser: Optimiser | None,
    rng: np.random.Generator | None,
    epoch: int,
) -> None:
    """Weights, optimiser state and generator state, so training resumes bit-identically."""
    _write(path, model, optimiser, rng, epoch)


def load(path: str | pathlib.Path) -> Layer:
    """Rebuild the network saved at ``path``."""
    return load_checkpoint(path).model


def load_checkpoint(path: str | pathlib.Path) -> Checkpoint:
    """Rebuild network, optimiser (bound to it) and generator saved at ``path``."""
    path = pathlib.Path(path)
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
        arrays = {key: f.get_tensor(key) for key in f.keys()}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a gradstat.nn file (metadata format={meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported gradstat.nn file version {meta.get('version')!r}")
    spec = json.loads(meta["architecture"])
    model = layer_class(spec["class"]).from_config(spec["config"])
    weights = {k.removeprefix("param/"): v for k, v in arrays.items() if k.startswith("param/")}
    _assign(model, weights)
    _assign_buffers(
        model, {k.removeprefix("buffer/"): v for k, v in arrays.items() if k.startswith("buffer/")}
    )
    optimiser = None
    if "optimiser" in meta:
        info = json.loads(meta["optimiser"])
        if info["class"] not in OPTIMISERS:
            raise ValueError(f"{path}: unknown optimiser {info['class']!r}")
        optimiser = OPTIMISERS[info["class"]](model, **info["hyperparameters"])
        state = {k.removeprefix("optimiser/"): v for k, v in arrays.items() if k.startswith("optimiser/")}
        optimiser.load_state(state, info["steps"])
    rng = None
    if "rng" in meta:
        state = json.loads(meta["rng"])
        if state.get("bit_generator") not in _BIT_GENERATORS:
            raise ValueError(f"{path}: unknown bit generator {state.get('bit_generator')!r}")
        bit_generator = _BIT_GENERATORS[state["bit_generator"]]()
        bit_generator.state = state
        rng = np.random.Generator(bit_generator)
    if "layer_rngs" in meta:  # e.g. Dropout's generator, for a bit-identical resume
        model.set_random_state(json.loads(meta["layer_rngs"]))
    history = json.loads(meta.get("history", "{}"))
    if history:
        model.history_ = history  # type: ignore[attr-defined]
    epoch = int(meta.get("epoch", 0))
    if epoch:
        model.epoch_ = epoch  # type: ignore[attr-defined]
    return Checkpoint(model, optimiser, rng, epoch, history)


def _write(
    path: str | pathlib.Path,
    model: Layer,
    optimiser: Optimiser | None,
    rng: np.random.Generator | None,
    epoch: int | None,
) -> None:
    if not isinstance(model, Layer):
        raise TypeError(f"save needs a Layer or Sequential, got {type(model).__name__}")
    path = pathlib.Path(path)
    tensors = {f"param/{k}": np.ascontiguousarray(v) for k, v in model.params.items()}
    # np.require keeps a 0-d buffer (num_batches_tracked) 0-d, as PyTorch saves it
    tensors.update({f"buffer/{k}": np.require(v, requirements="C") for k, v in model.buffers.items()})
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": json.dumps({"class": type(model).__name__, "config": model.config()}),
    }
    history = getattr(model, "history_", None)
    if history:
        meta["history"] = json.dumps(history)
    if optimiser is not None:
        if optimiser.target is not model:
            raise ValueError("the optimiser is bound to another model")
        tensors.update(
            {f"optimiser/{k}": np.ascontiguousarray(v) for k, v in optimiser.state_arrays().items()}
        )
        meta["optimiser"] = json.dumps(
            {
                "class": type(optimiser).__name__,
                "hyperparameters": optimiser.hyperparameters(),
                "steps": optimiser.steps,
            }
        )
    if rng is not None:
        meta["rng"] = json.dumps(rng.bit_generator.state)
    layer_rngs = model.random_state()
    if layer_rngs:
        meta["layer_rngs"] = json.dumps(layer_rngs)
    if epoch is not None:
        meta["epoch"] = str(int(epoch))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=meta)
        os.replace(tmp, path)  # atomic: readers see the old file or the new one
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def _assign(model: Layer, weights: dict[str, np.ndarray]) -> None:
    set_params = getattr(model, "set_params", None)
    if set_params is not None:
        set_params(weights)
        return
    current: dict[str, Any] = model.params
    if set(current) != set(weights):
        raise ValueError(f"parameter names differ: file has {sorted(weights)}, layer {sorted(current)}")
    for name, value in weights.items():
        if current[name].shape != value.shape:
            raise ValueError(f"parameter {name}: shape {value.shape} does not match {current[name].shape}")
        current[name][...] = value


def _assign_buffers(model: Layer, values: dict[str, np.ndarray]) -> None:
    """Copy saved buffers (BatchNorm's running statistics) into the rebuilt model."""
    current = model.buffers
    if set(current) != set(values):
        raise ValueError(f"buffer names differ: file has {sorted(values)}, model {sorted(current)}")
    for name, value in values.items():
        if current[name].shape != value.shape:
            raise ValueError(f"buffer {name}: shape {value.shape} does not match {current[name].shape}")
        current[name][...] = value
