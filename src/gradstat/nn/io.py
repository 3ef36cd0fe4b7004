"""Save and load networks: weights in safetensors under PyTorch's keys, architecture as JSON.

A saved file is a plain safetensors file whose tensor keys are the model's ``state_dict()``
keys (``0.weight``, ``1.weight_ih_l0`` …), so ``safetensors.torch.load_file`` gives a dict
that the matching ``torch.nn`` module loads with ``load_state_dict(strict=True)``. The
metadata carries what gradstat needs on top: the architecture (layer classes by qualified
name and their ``config()``), a SHA-256 checksum of the tensors, and for checkpoints the
optimiser, generator and epoch. Checkpoints add the optimiser's arrays under
``optimiser/{slot}/{parameter}``.

Loading reads the file once, checks its header against the file's size before anything is
allocated, verifies the checksum, checks the tensor shapes the architecture declares against
the header before any layer is built (``gradstat.nn.architecture``), and only looks classes up
in the layer registry, so a file can never execute code nor make a layer larger than its
tensors. Every failure is a ``ModelFileError`` naming the file.

Writes go to a temporary file in the same folder, created with the user's umask, flushed to
disk, then renamed over the target (atomic on POSIX and Windows); a temporary file left by a
killed process is cleared by the next save. ``save_checkpoint`` keeps the previous checkpoint
as ``<name>.prev``, and ``resume_checkpoint`` falls back to it (with a logged warning) when
the latest one is corrupt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import pathlib
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import safetensors.numpy

from gradstat.nn.architecture import declared_shapes
from gradstat.nn.layers.base import Layer, layer_class, qualified_name
from gradstat.nn.optim.optimisers import OPTIMISERS, Optimiser

logger = logging.getLogger(__name__)

FORMAT = "gradstat.nn"
VERSION = "2"  # 1: keys "param/…", bare class names, lone RNN/LSTM keys without "_l0"
OPTIMISER_PREFIX = "optimiser/"  # "/" never occurs in a PyTorch state_dict key
PREVIOUS_SUFFIX = ".prev"
MAX_HEADER_BYTES = 100 * 2**20
_DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_BIT_GENERATORS = {
    name: getattr(np.random, name) for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
}


class ModelFileError(ValueError):
    """A file that is not a readable gradstat.nn (or safetensors) file; the message names it.

    Raised by :func:`load`, :func:`load_checkpoint`, :func:`read_state_dict` and
    :func:`resume_checkpoint` for a truncated or corrupt file (a header larger than the file,
    a tensor outside it, a checksum that does not match), a safetensors file that is not a
    gradstat.nn model, or an architecture that cannot be rebuilt. A subclass of
    ``ValueError``; a missing file is a ``FileNotFoundError`` instead.

    Parameters
    ----------
    message : str
        Names the file and what is wrong with it.

    See Also
    --------
    load, read_state_dict : the readers that raise it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from gradstat import nn
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "net.safetensors"
    ...     _ = path.write_bytes(b"not a model")
    ...     try:
    ...         nn.load(path)
    ...     except nn.ModelFileError as error:
    ...         print("truncated or not a safetensors file" in str(error))
    True
    """


@dataclass
class Checkpoint:
    """What ``load_checkpoint`` restores: resume with
    ``model.fit(..., optimiser=ck.optimiser, rng=ck.rng, initial_epoch=ck.epoch)``.

    Parameters
    ----------
    model : Layer
        The rebuilt network, with its weights (and ``history_`` and ``epoch_`` when saved).
    optimiser : Optimiser or None
        The optimiser bound to ``model`` with its moments and step count, if one was saved.
    rng : numpy.random.Generator or None
        The shuffling generator in the state it was saved in, if one was saved.
    epoch : int
        Epochs completed when the checkpoint was written (0 for a plain model file).
    history : dict of str to list of float, default {}
        The per-epoch metrics of the run so far.

    See Also
    --------
    load_checkpoint, resume_checkpoint : what returns it.
    save_checkpoint : what writes it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from gradstat import nn
    >>> model = nn.Sequential([nn.Dense(3, 2, seed=0)])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "ck.safetensors"
    ...     nn.save_checkpoint(path, model, nn.SGD(model, lr=0.1), np.random.default_rng(0), epoch=3)
    ...     checkpoint = nn.load_checkpoint(path)
    >>> checkpoint.epoch, type(checkpoint.optimiser).__name__, checkpoint.optimiser.lr
    (3, 'SGD', 0.1)
    >>> checkpoint.optimiser.target is checkpoint.model
    True
    """

    model: Layer
    optimiser: Optimiser | None
    rng: np.random.Generator | None
    epoch: int
    history: dict[str, list[float]] = field(default_factory=dict)


# --- public API ------------------------------------------------------------------------------
def save(model: Layer, path: str | pathlib.Path) -> None:
    """Write ``model``'s weights (PyTorch's keys) and architecture to ``path`` (safetensors).

    The tensors are the model's ``state_dict()`` under PyTorch's keys, so
    ``safetensors.torch.load_file(path)`` gives a dict the matching ``torch.nn`` module takes
    with ``load_state_dict(strict=True)`` (the peer of ``torch.save(model.state_dict())``);
    the metadata holds the architecture as JSON and a SHA-256 checksum of the tensors. The
    file is written to a temporary file and renamed over ``path`` (atomic).

    Parameters
    ----------
    model : Layer
        The network (a ``Sequential`` or any layer).
    path : str or pathlib.Path
        Where to write; the folder must exist.

    Raises
    ------
    TypeError
        When ``model`` is not a ``Layer``.
    IsADirectoryError
        When ``path`` is a folder.
    OSError
        When the file cannot be written (the message names it).

    See Also
    --------
    load : rebuild the network.
    save_checkpoint : also the optimiser, generator and epoch.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from gradstat import nn
    >>> model = nn.Sequential([nn.Dense(3, 4, seed=0), nn.ReLU(), nn.Dense(4, 2, seed=1)])
    >>> x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "net.safetensors"
    ...     nn.save(model, path)
    ...     again = nn.load(path)
    >>> bool(np.array_equal(again.predict(x), model.predict(x)))
    True
    """
    _write(pathlib.Path(path), model, None, None, None)


def save_checkpoint(
    path: str | pathlib.Path,
    model: Layer,
    optimiser: Optimiser | None,
    rng: np.random.Generator | None,
    epoch: int,
) -> None:
    """Weights, optimiser state and generator state, so training resumes bit-identically.

    The checkpoint it replaces is kept as ``<path>.prev`` for ``resume_checkpoint``. The
    optimiser's arrays are stored under ``optimiser/{slot}/{parameter}``, beside the model's
    PyTorch keys; the generator state, the epoch and the model's ``history_`` go in the
    metadata. The peer is saving ``model.state_dict()`` and ``optimizer.state_dict()`` with
    ``torch.save``.

    Parameters
    ----------
    path : str or pathlib.Path
        Where to write.
    model : Layer
        The network.
    optimiser : Optimiser or None
        Its optimiser (bound to ``model``), or None.
    rng : numpy.random.Generator or None
        The generator that shuffles the batches, or None.
    epoch : int
        Epochs completed.

    Raises
    ------
    TypeError
        When ``model`` is not a ``Layer``.
    ValueError
        When ``optimiser`` is bound to another model.
    IsADirectoryError
        When ``path`` is a folder.
    OSError
        When the file cannot be written.

    See Also
    --------
    load_checkpoint : read it back.
    resume_checkpoint : the newest checkpoint that loads.
    ModelCheckpoint : the callback that calls it after every epoch.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from gradstat import nn
    >>> model = nn.Sequential([nn.Dense(3, 2, seed=0)])
    >>> optimiser = nn.Adam(model, lr=0.01)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "ck.safetensors"
    ...     nn.save_checkpoint(path, model, optimiser, np.random.default_rng(0), epoch=1)
    ...     nn.save_checkpoint(path, model, optimiser, np.random.default_rng(0), epoch=2)
    ...     print(sorted(p.name for p in pathlib.Path(folder).iterdir()))
    ...     print(nn.load_checkpoint(path).epoch)
    ['ck.safetensors', 'ck.safetensors.prev']
    2
    """
    _write(pathlib.Path(path), model, optimiser, rng, epoch)


def load(path: str | pathlib.Path) -> Layer:
    """Rebuild the network saved at ``path``.

    The file is read once; its header is checked against the file's size before anything is
    allocated, its checksum is verified, the tensor shapes its architecture declares are
    checked against the header before any layer is built, and layer classes are only looked up
    in gradstat's registry, so loading never executes code from the file.

    Parameters
    ----------
    path : str or pathlib.Path
        A file written by :func:`save` or :func:`save_checkpoint`.

    Returns
    -------
    Layer
        The network with its weights (``history_`` and ``epoch_`` too when saved).

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    ModelFileError
        When the file is truncated, corrupt, not a gradstat.nn file (a PyTorch
        ``state_dict``: use :func:`read_state_dict`) or holds an unknown architecture.

    See Also
    --------
    save : write it.
    load_checkpoint : the optimiser and generator as well.
    read_state_dict : the tensors of any safetensors file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from gradstat import nn
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "net.safetensors"
    ...     nn.save(nn.Sequential([nn.Dense(3, 4, seed=0), nn.Tanh()]), path)
    ...     model = nn.load(path)
    >>> [type(layer).__name__ for layer in model.layers], model.n_params
    (['Dense', 'Tanh'], 16)
    """
    return load_checkpoint(path).model


def read_state_dict(path: str | pathlib.Path) -> dict[str, np.ndarray]:
    """The tensors of any safetensors file (e.g. a PyTorch ``state_dict`` saved with
    ``safetensors.torch.save_file``), checked like a model file: pass the result to
    ``layer.load_state_dict``. A gradstat file's checksum is verified.

    The exchange goes both ways under PyTorch's keys and layouts: build the same
    architecture in gradstat and call ``model.load_state_dict(read_state_dict(path))``, as
    ``torch.nn.Module.load_state_dict`` would.

    Parameters
    ----------
    path : str or pathlib.Path
        A safetensors file.

    Returns
    -------
    dict of str to numpy.ndarray
        The tensors by key (read-only views of the file's bytes), without a checkpoint's
        optimiser arrays.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    ModelFileError
        When the file is truncated or corrupt, or a gradstat file's checksum does not match.

    See Also
    --------
    load : rebuild a gradstat network with its architecture.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from gradstat import nn
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "net.safetensors"
    ...     nn.save(nn.Sequential([nn.Dense(3, 4, seed=0), nn.ReLU(), nn.Dense(4, 2, seed=1)]), path)
    ...     tensors = nn.read_state_dict(path)
    >>> {key: array.shape for key, array in sorted(tensors.items())}
    {'0.bias': (4,), '0.weight': (4, 3), '2.bias': (2,), '2.weight': (2, 4)}
    """
    path = pathlib.Path(path)
    meta, arrays = _read(path)
    if meta.get("format") == FORMAT and "checksum" in meta:
        _verify(path, meta, arrays)
    return {k: v for k, v in arrays.items() if not k.startswith(OPTIMISER_PREFIX)}


def load_checkpoint(path: str | pathlib.Path) -> Checkpoint:
    """Rebuild network, optimiser (bound to it) and generator saved at ``path``.

    The file is checked as by :func:`load`; the optimiser's moments and step count and the
    generator's state are restored exactly, so that ``fit(…, initial_epoch=ck.epoch)``
    continues bit-identically.

    Parameters
    ----------
    path : str or pathlib.Path
        A file written by :func:`save_checkpoint` (or :func:`save`, which has no optimiser,
        generator or epoch).

    Returns
    -------
    Checkpoint
        ``model``, ``optimiser``, ``rng``, ``epoch`` and ``history``.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    ModelFileError
        When the file is truncated, corrupt, not a gradstat.nn file, of an unsupported version,
        or holds an architecture, optimiser or generator that cannot be rebuilt.

    See Also
    --------
    resume_checkpoint : falls back to ``<path>.prev`` when the file is corrupt.
    restore_callbacks : the callbacks' counters saved beside the checkpoint.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from gradstat import nn
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0)])
    >>> rng = np.random.default_rng(0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "ck.safetensors"
    ...     nn.save_checkpoint(path, model, nn.Adam(model), rng, epoch=5)
    ...     checkpoint = nn.load_checkpoint(path)
    >>> checkpoint.epoch, int(checkpoint.rng.integers(1000)) == int(rng.integers(1000))
    (5, True)
    """
    path = pathlib.Path(path)
    meta, arrays = _read(path)
    if meta.get("format") != FORMAT:
        raise ModelFileError(
            f"{path} is not a gradstat.nn file (metadata format={meta.get('format')!r}); for a "
            "PyTorch state_dict build the model and call model.load_state_dict(read_state_dict(path))"
        )
    version = meta.get("version")
    if version not in ("1", VERSION):
        raise ModelFileError(f"{path}: unsupported gradstat.nn file version {version!r}")
    if version == VERSION:
        _verify(path, meta, arrays)
    try:
        return _rebuild(path, meta, arrays, version)
    except ModelFileError:
        raise
    except MemoryError:
        raise ModelFileError(f"{path}: its architecture declares layers too large for memory") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise ModelFileError(f"{path}: the model in this file cannot be rebuilt: {exc}") from None


def resume_checkpoint(*paths: str | pathlib.Path) -> tuple[Checkpoint, pathlib.Path]:
    """The newest checkpoint that loads, and its path.

    ``paths`` are tried newest first, each followed by its ``.prev`` copy; a corrupt or
    unreadable one is skipped with a logged warning.

    Parameters
    ----------
    *paths : str or pathlib.Path
        Checkpoint files, newest first.

    Returns
    -------
    checkpoint : Checkpoint
        The first one that loads.
    path : pathlib.Path
        The file it came from (possibly a ``.prev`` copy).

    Raises
    ------
    FileNotFoundError
        When none of the files (nor their ``.prev`` copies) exists.
    ModelFileError
        When some exist but none loads (the message lists each problem).

    See Also
    --------
    load_checkpoint : one file, no fallback.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from gradstat import nn
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0)])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "ck.safetensors"
    ...     nn.save_checkpoint(path, model, None, None, epoch=1)
    ...     nn.save_checkpoint(path, model, None, None, epoch=2)
    ...     _ = path.write_bytes(b"a crash mid-copy")         # the latest file is corrupt
    ...     checkpoint, used = nn.resume_checkpoint(path)     # logs a warning, uses .prev
    >>> checkpoint.epoch, used.name
    (1, 'ck.safetensors.prev')
    """
    candidates = [c for p in paths for c in (pathlib.Path(p), _previous(pathlib.Path(p)))]
    problems = []
    for candidate in candidates:
        if not candidate.exists():
            continue
        try:
            checkpoint = load_checkpoint(candidate)
        except (ModelFileError, OSError) as exc:
            logger.warning("skipping checkpoint %s: %s", candidate, exc)
            problems.append(str(exc))
            continue
        if problems:
            logger.warning("resuming from the last good checkpoint %s", candidate)
        return checkpoint, candidate
    if not problems:
        raise FileNotFoundError(f"no checkpoint among {[str(p) for p in paths]}")
    raise ModelFileError("no checkpoint could be loaded: " + "; ".join(problems))


# --- writing ---------------------------------------------------------------------------------
def _write(
    path: pathlib.Path,
    model: Layer,
    optimiser: Optimiser | None,
    rng: np.random.Generator | None,
    epoch: int | None,
) -> None:
    if not isinstance(model, Layer):
        raise TypeError(f"save needs a Layer or Sequential, got {type(model).__name__}")
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a directory")
    # np.require keeps a 0-d buffer (BatchNorm's num_batches_tracked) 0-d, as PyTorch saves it
    tensors = {k: np.require(v, requirements="C") for k, v in model.state_dict().items()}
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": json.dumps({"class": qualified_name(type(model)), "config": model.config()}),
    }
    history = getattr(model, "history_", None)
    if history:
        meta["history"] = json.dumps(history)
    if optimiser is not None:
        if optimiser.target is not model:
            raise ValueError("the optimiser is bound to another model")
        tensors.update(
            {f"{OPTIMISER_PREFIX}{k}": np.ascontiguousarray(v) for k, v in optimiser.state_arrays().items()}
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
    write_tensors(path, tensors, meta, keep_previous=epoch is not None)


def write_tensors(
    path: pathlib.Path,
    tensors: Mapping[str, np.ndarray],
    metadata: Mapping[str, str] | None = None,
    *,
    keep_previous: bool = False,
) -> str:
    """Write ``tensors`` to ``path`` as safetensors, with ``metadata`` and the tensors' SHA-256
    checksum (entry ``checksum``), atomically (:func:`write_atomically`); returns the checksum.

    :func:`read_tensors` reads such a file back and verifies the checksum."""
    arrays = {k: np.require(v, requirements="C") for k, v in tensors.items()}
    meta = {**(metadata or {}), "checksum": _checksum(arrays)}
    write_atomically(path, safetensors.numpy.save(arrays, metadata=meta), keep_previous=keep_previous)
    return meta["checksum"]


def read_tensors(path: str | pathlib.Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The metadata and tensors of a file written by :func:`write_tensors`, every size checked
    against the file before use and the checksum verified; ``ModelFileError`` naming the file
    for anything truncated, corrupt or without a checksum, ``FileNotFoundError`` when missing."""
    path = pathlib.Path(path)
    meta, arrays = _read(path)
    _verify(path, meta, arrays)
    return meta, arrays


def write_atomically(path: pathlib.Path, data: bytes, *, keep_previous: bool = False) -> None:
    """Write ``data`` to ``path`` through a flushed temporary file and an atomic rename, with
    the user's umask; ``keep_previous`` keeps the file it replaces as ``path.prev``."""
    directory = path.parent
    _clear_stale_temporaries(path)
    tmp = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        # O_EXCL: never follow or reuse someone else's file; mode 0o666 minus the umask, as open()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if keep_previous and path.is_file():
            _keep_previous(path)
        os.replace(tmp, path)  # atomic: readers see the old file or the new one
        _fsync_directory(directory)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise type(exc)(exc.errno, f"could not save {path}: {reason}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _previous(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(path.name + PREVIOUS_SUFFIX)


def _keep_previous(path: pathlib.Path) -> None:
    """``path`` → ``path.prev`` without a moment where ``path`` is missing."""
    previous = _previous(path)
    tmp = path.parent / f".{previous.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        os.link(path, tmp)
    except OSError:  # no hard links on this file system
        shutil.copyfile(path, tmp)
    os.replace(tmp, previous)


def _clear_stale_temporaries(path: pathlib.Path) -> None:
    """Remove temporary files of saves to ``path`` whose process no longer runs (killed midway)."""
    if os.name != "posix":
        return
    for candidate in path.parent.glob(f".{path.name}*.tmp"):
        pid_text = candidate.name.removesuffix(".tmp").split(".")[-2]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            candidate.unlink(missing_ok=True)
        except OSError:  # the process exists (owned by someone else)
            continue


def _fsync_directory(directory: pathlib.Path) -> None:
    """Make the rename durable (POSIX); where directories cannot be opened, do nothing."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- reading ---------------------------------------------------------------------------------
def _read(path: pathlib.Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Metadata and tensors of the safetensors file at ``path``, every size checked against
    the file before use; ``ModelFileError`` (naming the file) for anything malformed."""
    if path.is_dir():
        raise ModelFileError(f"{path} is a directory, not a model file")
    if not path.exists():
        raise FileNotFoundError(f"no model file {path}")
    data = path.read_bytes()
    if len(data) < 8:
        raise ModelFileError(
            f"{path} is empty or truncated ({len(data)} bytes): not a safetensors model file"
        )
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8 or n > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"{path} is truncated or not a safetensors file: its header declares {n} bytes, "
            f"the file has {len(data) - 8} after the length"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{path} is not a safetensors file: its header is not JSON") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} is not a safetensors file: its header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ModelFileError(f"{path}: the metadata must map names to strings")
    arrays = {key: _tensor(path, key, info, data, 8 + n) for key, info in header.items()}
    return meta, arrays


def _tensor(path: pathlib.Path, key: str, info: Any, data: bytes, start: int) -> np.ndarray:
    """One tensor, a read-only view of the file's bytes after its declared size is checked."""
    try:
        dtype = _DTYPES[info["dtype"]]
        shape = tuple(info["shape"])
        begin, end = info["data_offsets"]
    except (KeyError, TypeError, ValueError):
        raise ModelFileError(
            f"{path}: tensor {key!r} has a malformed entry {info!r} (need a known dtype, shape, data_offsets)"
        ) from None
    if not all(isinstance(d, int) and d >= 0 for d in shape) or not all(
        isinstance(o, int) for o in (begin, end)
    ):
        raise ModelFileError(f"{path}: tensor {key!r} declares shape {shape} and offsets {[begin, end]}")
    nbytes = math.prod(shape) * dtype.itemsize  # Python integers: no overflow
    available = len(data) - start
    if not (0 <= begin <= end <= available) or end - begin != nbytes:
        raise ModelFileError(
            f"{path} is truncated or corrupt: tensor {key!r} of shape {shape} needs {nbytes} bytes "
            f"at {begin}..{end}, the file holds {available} bytes of tensor data"
        )
    return np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=start + begin).reshape(shape)


def _checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over every tensor's key, shape and bytes (little-endian, C order), in key order."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        array = np.require(arrays[key], requirements="C")
        digest.update(f"{key}|{list(array.shape)}|".encode())
        digest.update(array.data)
    return "sha256:" + digest.hexdigest()


def _verify(path: pathlib.Path, meta: dict[str, str], arrays: dict[str, np.ndarray]) -> None:
    stored = meta.get("checksum")
    if stored is None or stored != _checksum(arrays):
        raise ModelFileError(
            f"{path} is corrupt: the checksum of its tensors does not match the one stored in it "
            "(a changed byte or an incomplete copy)"
        )


def _rebuild(
    path: pathlib.Path, meta: dict[str, str], arrays: dict[str, np.ndarray], version: str
) -> Checkpoint:
    spec = _json(path, meta, "architecture")
    if version == VERSION:
        _check_declared_shapes(path, spec, arrays)
    model = layer_class(spec["class"]).from_config(spec["config"])
    if not isinstance(model, Layer):
        raise ModelFileError(f"{path}: {spec['class']!r} is not a layer")
    if version == "1":
        weights = _version1_weights(model, arrays)
    else:
        weights = {k: v for k, v in arrays.items() if not k.startswith(OPTIMISER_PREFIX)}
    model.load_state_dict(weights, strict=True)
    optimiser = None
    if "optimiser" in meta:
        info = _json(path, meta, "optimiser")
        if info["class"] not in OPTIMISERS:
            raise ModelFileError(f"{path}: unknown optimiser {info['class']!r}")
        optimiser = OPTIMISERS[info["class"]](model, **info["hyperparameters"])
        prefix = OPTIMISER_PREFIX if version == VERSION else "optimiser/"
        state = {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}
        if version == "1":
            state = {_version1_key(model, k): v for k, v in state.items()}
        params = model.params
        for key, value in state.items():
            name = key.split("/", 1)[-1]
            if name not in params:
                raise ModelFileError(f"{path}: optimiser state {key!r} for an unknown parameter")
            if value.shape != params[name].shape:
                raise ModelFileError(
                    f"{path}: optimiser state {key!r} has shape {value.shape}, "
                    f"the parameter {params[name].shape}"
                )
        optimiser.load_state(state, int(info["steps"]))
    rng = None
    if "rng" in meta:
        rng_state = _json(path, meta, "rng")
        if rng_state.get("bit_generator") not in _BIT_GENERATORS:
            raise ModelFileError(f"{path}: unknown bit generator {rng_state.get('bit_generator')!r}")
        bit_generator = _BIT_GENERATORS[rng_state["bit_generator"]]()
        bit_generator.state = rng_state
        rng = np.random.Generator(bit_generator)
    if "layer_rngs" in meta:  # e.g. Dropout's generator, for a bit-identical resume
        model.set_random_state(_json(path, meta, "layer_rngs"))
    history = _json(path, meta, "history") if "history" in meta else {}
    if history:
        model.history_ = history  # type: ignore[attr-defined]
    epoch = int(meta.get("epoch", 0))
    if epoch:
        model.epoch_ = epoch  # type: ignore[attr-defined]
    return Checkpoint(model, optimiser, rng, epoch, history)


def _check_declared_shapes(path: pathlib.Path, spec: Any, arrays: dict[str, np.ndarray]) -> None:
    """Before any layer is built: every tensor the architecture declares is in the file with
    the declared shape, so a large declared layer beside a small tensor allocates nothing."""
    declared = declared_shapes(spec)
    missing = [key for key in declared if key not in arrays]
    if missing:
        raise ModelFileError(
            f"{path}: the architecture declares tensors the file does not hold: missing keys {missing}"
        )
    for key, shape in declared.items():
        if arrays[key].shape != shape:
            raise ModelFileError(
                f"{path}: the architecture declares tensor {key!r} of shape {shape}, the file holds "
                f"shape {arrays[key].shape}; nothing was built"
            )


def _json(path: pathlib.Path, meta: dict[str, str], key: str) -> Any:
    try:
        value = json.loads(meta[key])
    except KeyError:
        raise ModelFileError(f"{path}: the metadata has no {key!r} entry") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: the metadata entry {key!r} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{path}: the metadata entry {key!r} must be a JSON object")
    return value


def _version1_key(model: Layer, key: str) -> str:
    """A version-1 parameter name in today's names: lone RNN/LSTM parameters gained ``_l0``."""
    slot, _, name = key.rpartition("/")
    if name not in model.params and f"{name}_l0" in model.params:
        name = f"{name}_l0"
    return f"{slot}/{name}" if slot else name


def _version1_weights(model: Layer, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    params = {k.removeprefix("param/"): v for k, v in arrays.items() if k.startswith("param/")}
    return {_version1_key(model, k): v for k, v in params.items()}
