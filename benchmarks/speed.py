"""Optimiser steps per second of MINDE's training loop (default network, batch 128).

    .venv/bin/python benchmarks/speed.py [--steps 2000] [--threads 1,2]

Measures plain training steps (sample a batch, draw t and roles, forward, backward, Adam, EMA) for the
default-width network on a 1x1 task (width 64) and a 25x25 task (width 128), with each thread setting.
The authors' code costs 8-11.5 ms per step up to 5x5 and 14-19 ms at 25x25 on this kind of machine with
one thread (docs/paper.md §8).  Writes data/benchmarks/speed.json (with machine provenance).
Run it on an otherwise idle machine: on 2 cores a busy second core distorts the numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from minde.score_network import ScoreNetwork
from minde.sde import VPSDE
from minde.training import torch_threads, train_score_network

AUTHORS_MS = {"1x1": (8.0, 11.5), "25x25": (14.0, 19.0)}


def measure(dim: int, threads: int, steps: int, batch: int, variant: str) -> float:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(100_000, dim, generator=gen)
    y = torch.randn(100_000, dim, generator=gen)
    with torch_threads(threads):
        net = ScoreNetwork(dim, dim)
        train_score_network(net, VPSDE(), x, y, variant, steps=200, batch_size=batch, progress=False)  # warm-up
        start = time.perf_counter()
        train_score_network(net, VPSDE(), x, y, variant, steps=steps, batch_size=batch, progress=False)
        return (time.perf_counter() - start) / steps * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "benchmarks" / "speed.json")
    args = parser.parse_args()
    rows = []
    print(f"{'task':6s} {'variant':7s} {'threads':7s} {'width':5s} {'ms/step':>8s} {'steps/s':>8s} {'vs authors':>12s}")
    for name, dim in (("1x1", 1), ("25x25", 25)):
        for variant in ("c", "j"):
            for threads in (int(t) for t in args.threads.split(",")):
                ms = measure(dim, threads, args.steps, args.batch, variant)
                lo, hi = AUTHORS_MS[name]
                rows.append({"task": name, "variant": variant, "threads": threads, "width": ScoreNetwork(dim, dim).width,
                             "batch": args.batch, "ms_per_step": ms, "steps_per_s": 1e3 / ms,
                             "speedup_vs_authors": [lo / ms, hi / ms]})  # fmt: skip
                print(f"{name:6s} {variant:7s} {threads:<7d} {rows[-1]['width']:<5d} {ms:8.2f} {1e3 / ms:8.0f} "
                      f"{lo / ms:5.1f}-{hi / ms:4.1f}x")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"rows": rows, "command": "python benchmarks/speed.py", "torch": torch.__version__,
               "machine": platform.platform(), "processor": platform.processor(), "date": time.strftime("%Y-%m-%d")}  # fmt: skip
    args.out.write_text(json.dumps(payload, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
