"""IDX reading (checked against bytes written from the format's definition) and the digits."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from gradstat.datasets.images import load_digits_images, load_idx, read_idx


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """IDX per the MNIST page: 0x00 0x00, type code, ndim, sizes as big-endian int32, data."""
    head = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(directory: Path, compress: bool, n_train: int = 5, n_test: int = 3) -> list:
    rng = np.random.default_rng(0)
    arrays = []
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        for name, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            data = idx_bytes(array, 0x08)
            path = directory / f"{split}-{name}"
            if compress:
                path.with_name(path.name + ".gz").write_bytes(gzip.compress(data))
            else:
                path.write_bytes(data)
        arrays += [images, labels]
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_reads_mnist_layout(tmp_path, compress):
    images, labels, test_images, test_labels = write_mnist(tmp_path, compress)
    data = load_idx(tmp_path)
    assert data.x_train.shape == (5, 1, 28, 28) and data.x_train.dtype == np.float32
    np.testing.assert_allclose(data.x_train[:, 0] * 255, images, rtol=1e-6)
    np.testing.assert_array_equal(data.y_train, labels)
    assert data.y_train.dtype == np.int64
    np.testing.assert_allclose(data.x_test[:, 0] * 255, test_images, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, test_labels)


@pytest.mark.parametrize(
    ("dtype", "code"), [(np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D), (np.float64, 0x0E)]
)
def test_read_idx_other_types_are_big_endian(tmp_path, dtype, code):
    array = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(array, code))
    out = read_idx(path)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)


def test_bad_files_are_named(tmp_path):
    (tmp_path / "junk").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="junk is not an IDX file"):
        read_idx(tmp_path / "junk")
    short = idx_bytes(np.zeros((2, 2), np.uint8), 0x08)[:-1]
    (tmp_path / "short").write_bytes(short)
    with pytest.raises(ValueError, match=r"shape \(2, 2\) of uint8 .16 bytes.*the file has 15 bytes"):
        read_idx(tmp_path / "short")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_idx(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_idx(tmp_path / "missing")


def test_mismatched_images_and_labels_are_an_error(tmp_path):
    write_mnist(tmp_path, False)
    labels = idx_bytes(np.zeros(4, np.uint8), 0x08)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(labels)
    with pytest.raises(ValueError, match=r"train images \(5, 28, 28\) and labels \(4,\)"):
        load_idx(tmp_path)


def test_bundled_digits_equal_scikit_learns_copy():
    images, labels = load_digits_images()
    reference = load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    np.testing.assert_array_equal(images.reshape(1797, 64) * 16, reference.data)
    np.testing.assert_array_equal(labels, reference.target)
