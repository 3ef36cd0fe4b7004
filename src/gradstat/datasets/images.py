"""Image data sets: MNIST-format (IDX) files from a directory, and the bundled 8×8 digits.

Images come back as (n, 1, height, width) float32 scaled to [0, 1] — the layout
``Conv2D`` expects — and labels as int64. Nothing is downloaded.
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

# IDX type codes (the third byte of the magic number) and their big-endian dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class ImageData:
    """Train and test images with their labels, as :func:`load_idx` returns them.

    Parameters
    ----------
    x_train, x_test : numpy.ndarray
        Images, shape (n, 1, height, width), float32 in [0, 1].
    y_train, y_test : numpy.ndarray
        Labels, shape (n,), int64.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (the MNIST format), raw or gzip-compressed.

    The header is two zero bytes, a type code, the number of dimensions ``ndim``, then ``ndim``
    big-endian uint32 sizes; the values follow, big-endian.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; gzip is recognised by its magic bytes, whatever the name.

    Returns
    -------
    numpy.ndarray
        The values in the file's type (native byte order) and shape.

    Raises
    ------
    ValueError
        If the file is not IDX, or its length does not match the shape in its header.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "two-by-three-idx2-ubyte"
    >>> _ = path.write_bytes(bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]))
    >>> read_idx(path)
    array([[1, 2, 3],
           [4, 5, 6]], dtype=uint8)
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; read_idx needs one IDX file (load_idx reads a folder)")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:  # BadGzipFile, or a file cut short
            raise ValueError(f"{path} is not a readable gzip file ({exc})") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], ">u4"))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    if len(raw) < header:
        raise ValueError(f"{path}: the header declares {ndim} dimensions, the file ends at byte {len(raw)}")
    expected = header + math.prod(shape) * dtype.itemsize  # Python integers: no wrap-around
    if len(raw) != expected:
        raise ValueError(
            f"{path}: the header promises shape {shape} of {dtype.name} "
            f"({expected} bytes with the header), the file has {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(directory: Path, stem: str) -> Path:
    for name in (
        stem,
        f"{stem}.gz",
        stem.replace("-idx", ".idx"),
        f"{stem.replace('-idx', '.idx')}.gz",
    ):
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"no {stem}[.gz] in {directory}")


def load_idx(directory: str | Path) -> ImageData:
    """Load MNIST or Fashion-MNIST from a directory of IDX files.

    The directory holds ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` and the
    ``t10k-…`` pair for the test set, raw or gzip (``.gz``), for example
    ``/usr/share/datasets/fashion-mnist`` from Debian's ``dataset-fashion-mnist``.
    Nothing is downloaded.

    Parameters
    ----------
    directory : str or pathlib.Path
        The folder with the four files.

    Returns
    -------
    ImageData
        Images (n, 1, 28, 28) float32 scaled to [0, 1] (bytes divided by 255), labels int64.

    Raises
    ------
    FileNotFoundError
        If the directory or one of the four files is missing.
    ValueError
        If a file is not IDX, or images and labels do not pair up.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory")
    parts: list[np.ndarray] = []
    for split in ("train", "t10k"):
        images = read_idx(_find(directory, f"{split}-images-idx3-ubyte"))
        labels = read_idx(_find(directory, f"{split}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{directory}: {split} images {images.shape} and labels {labels.shape} "
                "do not pair up as (n, height, width) and (n,)"
            )
        scale = 255.0 if images.dtype == np.uint8 else 1.0
        parts += [(images[:, None] / np.float32(scale)).astype(np.float32), labels.astype(np.int64)]
    return ImageData(*parts)


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """The bundled 8×8 handwritten digits (UCI, 1797 images).

    Each pixel counts the "on" pixels (0–16) of a 4×4 block of the original scan; it is
    divided by 16. The layout is the one :class:`~gradstat.nn.Conv2D` expects; reshape to
    (n, 64) for a :class:`~gradstat.nn.Dense` network.

    Returns
    -------
    images : numpy.ndarray
        Shape (1797, 1, 8, 8), float32 in [0, 1].
    labels : numpy.ndarray
        Shape (1797,), int64 digits 0–9.

    Examples
    --------
    >>> from gradstat.datasets import load_digits_images
    >>> images, labels = load_digits_images()
    >>> images.shape, images.dtype.name, labels[:5].tolist()
    ((1797, 1, 8, 8), 'float32', [0, 1, 2, 3, 4])
    >>> images.reshape(len(images), -1).shape
    (1797, 64)
    """
    with resources.files("gradstat.datasets").joinpath("data/digits.csv.gz").open("rb") as f:
        table = np.loadtxt(gzip.open(f), delimiter=",", skiprows=1, dtype=np.int64)
    images = (table[:, 1:] / np.float32(16.0)).astype(np.float32).reshape(-1, 1, 8, 8)
    return images, table[:, 0]
