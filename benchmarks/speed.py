"""Optimiser steps per second of MINDE's training loop (default network, batch 128).

    .venv/bin/python benchmarks/speed.py [--steps 2000] [--threads 1,2] [--members 1,4,8] [--precision float32,bfloat16]

Measures plain training steps (sample a batch, draw t and roles, forward, backward, Adam, EMA) for the
default-width network on a 1x1 task (width 64) and a 25x25 task (width 128), with each thread setting, and with
``members`` models of one shape trained together (``minde.training.train_score_networks``: the runner's grouping)
in each ``precision``; ``ms_per_model_step`` is the time of one step divided by the number of models.
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

from minde.experiments.speed import step_milliseconds
from minde.score_network import ScoreNetwork

AUTHORS_MS = {"1x1": (8.0, 11.5), "25x25": (14.0, 19.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--members", default="1", help="models trained together, e.g. 1,4,8")
    parser.add_argument("--precision", default="float32", help="float32 and/or bfloat16")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "benchmarks" / "speed.json")
    args = parser.parse_args()
    rows = []
    print(f"{'task':6s} {'variant':7s} {'threads':7s} {'models':6s} {'precision':9s} {'ms/model-step':>13s} {'vs authors':>12s}")
    for name, dim in (("1x1", 1), ("25x25", 25)):
        for variant in ("c", "j"):
            for threads in (int(t) for t in args.threads.split(",")):
                for members in (int(m) for m in args.members.split(",")):
                    for precision in args.precision.split(","):
                        ms = step_milliseconds(dim, variant, args.steps, args.batch, members, precision, threads) / members
                        lo, hi = AUTHORS_MS[name]
                        rows.append({"task": name, "variant": variant, "threads": threads, "members": members,
                                     "precision": precision, "width": ScoreNetwork(dim, dim).width, "batch": args.batch,
                                     "ms_per_model_step": ms, "model_steps_per_s": 1e3 / ms,
                                     "speedup_vs_authors": [lo / ms, hi / ms]})  # fmt: skip
                        print(f"{name:6s} {variant:7s} {threads:<7d} {members:<6d} {precision:9s} {ms:13.2f} "
                              f"{lo / ms:5.1f}-{hi / ms:4.1f}x", flush=True)  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"rows": rows, "command": "python benchmarks/speed.py", "torch": torch.__version__,
               "machine": platform.platform(), "processor": platform.processor(), "date": time.strftime("%Y-%m-%d")}  # fmt: skip
    args.out.write_text(json.dumps(payload, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
