"""Accuracy of MINDE on the 1x1 and 5x5 Gaussians as a function of training steps and CPU time.

    .venv/bin/python benchmarks/accuracy.py [--budgets 2500,5000,10000,20000] [--seeds 0]

Two training recipes, each trained from scratch at every budget:
  paper  batch 128, lr 1e-3, constant learning rate (the authors' recipe for dims <= 5)
  fast   batch 256, lr 2e-3, cosine decay to 0 (this project's opt-in recipe; ``lr_schedule="cosine"``)
100k samples, half held out; MI evaluated on the 50k held-out rows with 4 Monte-Carlo repeats.
Writes data/benchmarks/accuracy.json and prints a table (error = estimate - ground truth, nats).
Run it on an otherwise idle machine: CPU seconds are what the training loop used (one thread).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from minde import MINDE
from minde.gaussian import GaussianPair

RECIPES = {
    "paper": {"batch_size": 128, "lr": 1e-3, "lr_schedule": "constant"},
    "fast": {"batch_size": 256, "lr": 2e-3, "lr_schedule": "cosine"},
}
PAIRS = {"1x1": GaussianPair.correlated(0.75), "5x5": GaussianPair.dense(5, 5, 0.5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", default="2500,5000,10000,20000")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--recipes", default="paper,fast")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "benchmarks" / "accuracy.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    print("task var recipe seed  steps  cpu_s     err err_sig stderr")
    for task, pair in PAIRS.items():
        gt = pair.mutual_information()
        for seed in (int(s) for s in args.seeds.split(",")):
            x, y = pair.sample(100_000, seed=100 + seed)
            for variant in ("c", "j"):
                for recipe in args.recipes.split(","):
                    for steps in (int(b) for b in args.budgets.split(",")):
                        est = MINDE(variant=variant, steps=steps, test_fraction=0.5, mc_repeats=4, seed=seed, **RECIPES[recipe])
                        cpu = time.process_time()
                        est.fit(x, y)
                        cpu = time.process_time() - cpu
                        r = est.mutual_information()
                        rows.append({"task": task, "variant": variant, "recipe": recipe, "seed": seed, "steps": steps,
                                     "cpu_seconds": cpu, "wall_seconds": est.fit_info["train_seconds"], "gt": gt,
                                     "mi": r.mi, "mi_stderr": r.mi_stderr, "mi_sigma": r.mi_sigma,
                                     "mi_sigma_stderr": r.mi_sigma_stderr})  # fmt: skip
                        print(f"{task:4s} {variant:3s} {recipe:6s} {seed:<4d} {steps:6d} {cpu:6.1f} {r.mi - gt:+7.3f} "
                              f"{r.mi_sigma - gt:+7.3f} {r.mi_stderr:6.3f}", flush=True)  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/accuracy.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items() if k != "out")
    payload = {"rows": rows, "command": command, "recipes": RECIPES, "torch": torch.__version__,
               "machine": platform.platform(), "date": time.strftime("%Y-%m-%d")}  # fmt: skip
    args.out.write_text(json.dumps(payload, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
