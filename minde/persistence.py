"""Checkpoints of a fitted ``MINDE``: one file with its configuration, preprocessing, weights and (optionally) its
held-out split, written atomically, with a format version and a SHA-256 of the content.

``MINDE.save`` and ``MINDE.load`` call :func:`save` and :func:`load`.  ``load`` reads with ``weights_only=True`` (no
code is unpickled) and refuses a missing, empty, corrupt or foreign file, another format version, and a file edited
after saving (its configuration no longer matches its weights).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .score_network import ScoreNetwork
from .validation import RankGaussianizer, Standardizer

if TYPE_CHECKING:
    from .estimator import MINDE

__all__ = ["CHECKPOINT_FORMAT", "checkpoint_state", "save", "load"]

#: Version of the file ``MINDE.save`` writes; ``MINDE.load`` refuses others.
CHECKPOINT_FORMAT = 2


def checkpoint_state(estimator: MINDE, include_data: bool) -> dict:
    """The content of a checkpoint of the fitted ``estimator`` (what ``save`` writes), with its SHA-256."""
    state = {
        "format": CHECKPOINT_FORMAT,
        "kind": "minde.MINDE",
        "config": estimator.config(),
        "state_dict": {k: v.detach().cpu() for k, v in estimator.net.state_dict().items()},
        "dims": [estimator.net.dim_x, estimator.net.dim_y],
        "x_standardizer": _preprocessor_state(estimator._x_std),
        "y_standardizer": _preprocessor_state(estimator._y_std),
        "test": [estimator._test[0].cpu(), estimator._test[1].cpu()] if include_data and estimator._test is not None else None,
        # plain built-in types only, so that load(weights_only=True) accepts them
        "fit_info": {k: v if type(v) in (int, float, str, bool, type(None)) else str(v) for k, v in estimator.fit_info.items()},
    }
    state["sha256"] = _state_digest(state)
    return state


def save(estimator: MINDE, path: str | os.PathLike, include_data: bool = True) -> None:
    """Save config, preprocessing, weights (plain state_dict) and, with ``include_data``, the held-out split,
    atomically, with a format version and a SHA-256 of the content that ``load`` checks."""
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    buf = io.BytesIO()
    torch.save(checkpoint_state(estimator, include_data), buf)
    with open(tmp, "wb") as fh:
        fh.write(buf.getvalue())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load(cls: type[MINDE], path: str | os.PathLike, device: str = "auto") -> MINDE:
    """Load a model saved by ``save`` (``weights_only=True``: no code is unpickled).

    A missing, empty, corrupt or foreign file, a checkpoint of another format version, or one whose content
    was edited (its configuration no longer matches its weights) raises ``ValueError`` naming the file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several kinds (RuntimeError, UnpicklingError, EOFError, ...)
        raise ValueError(f"{path} is not a readable MINDE checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or state.get("kind") != "minde.MINDE":
        raise ValueError(f"{path} is not a MINDE checkpoint (no 'kind': 'minde.MINDE' record)")
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} has checkpoint format {state.get('format')!r}; this version of minde reads format "
                         f"{CHECKPOINT_FORMAT} (retrain, or load it with the minde version that wrote it)")  # fmt: skip
    if state.get("sha256") != _state_digest(state):
        raise ValueError(f"{path} was modified after it was saved: its content does not match its SHA-256 "
                         "(configuration and weights no longer belong together)")  # fmt: skip
    try:
        obj = cls(**state["config"], device=device)
        dx, dy = state["dims"]
        obj.net = ScoreNetwork(dx, dy, obj.width, obj.n_blocks).to(obj.device)
        obj.net.load_state_dict(state["state_dict"])
        obj._x_std = _preprocessor_from_state(state["x_standardizer"], obj.preprocess)
        obj._y_std = _preprocessor_from_state(state["y_standardizer"], obj.preprocess)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{path}: inconsistent MINDE checkpoint ({type(exc).__name__}: {exc})") from None
    obj.net.eval().requires_grad_(False)
    obj._test = tuple(a.to(obj.device) for a in state["test"]) if state["test"] is not None else None
    obj.fit_info = state["fit_info"]
    return obj


def _state_digest(state: dict) -> str:
    """SHA-256 of a checkpoint's content (everything but the digest itself), in a canonical order."""
    h = hashlib.sha256()

    def feed(obj: object) -> None:
        if isinstance(obj, Tensor):
            t = obj.detach().cpu().contiguous()
            h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        elif isinstance(obj, dict):
            for k in sorted(obj, key=str):
                h.update(f"K{k}".encode())
                feed(obj[k])
        elif isinstance(obj, (list, tuple)):
            h.update(f"L{len(obj)}".encode())
            for v in obj:
                feed(v)
        else:
            h.update(json.dumps(obj, sort_keys=True, default=str).encode())

    feed({k: v for k, v in state.items() if k != "sha256"})
    return h.hexdigest()


def _preprocessor_state(p: Standardizer | RankGaussianizer) -> list:
    if isinstance(p, Standardizer):
        return [torch.as_tensor(p.mean), torch.as_tensor(p.std)]
    return [[torch.as_tensor(k) for k in p.knots], [torch.as_tensor(z) for z in p.z]]


def _preprocessor_from_state(state: list, kind: str) -> Standardizer | RankGaussianizer:
    if kind == "standardize":
        return Standardizer(*(a.numpy() for a in state))
    return RankGaussianizer([k.numpy() for k in state[0]], [z.numpy() for z in state[1]])
