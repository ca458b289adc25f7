"""Do MINDE's Monte-Carlo standard errors mean what they say?  Trained networks of a benchmark experiment,
each evaluated with 20 evaluation seeds (same network, same held-out rows, new draws of t and of the noise):
the standard deviation of the 20 estimates against the mean reported Monte-Carlo standard error, under the
small-t rule of version 0.2 ("hold") and under version 0.1's ("exact": draws below t_eps weighted by the exact
1/q(t), whose integral has no finite variance for a learned network).

    .venv/bin/python benchmarks/evaluation_spread.py [--experiment data/results/minde-cpu] [--seed 0] [--evals 20]

The networks are the experiment's kept checkpoints (data/models/<experiment>/, outside git; ``replicate`` or
``run`` recreates them).  Writes data/benchmarks/evaluation_spread.json (rows: model, form, rule, evaluations,
mean, sd, range, mc_stderr, ratio = sd / mc_stderr) with its provenance; notebook 09 reads it.  A few seconds per
model on one thread.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
# Models of the first seed: the Gaussian, the heavy tails (1 and 2 dimensions, one degree of freedom), a spiral,
# and one high-dimensional dense task; each for MINDE-C and MINDE-J.
TASKS = ["1v1-normal-0.75", "student-identity-1-1-1", "student-identity-2-2-1", "spiral-multinormal-sparse-5-5-2-2.0",
         "multinormal-dense-25-25-0.5"]  # fmt: skip
RULES = ["hold", "exact"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", type=Path, default=ROOT / "data" / "results" / "minde-cpu")
    parser.add_argument("--seed", type=int, default=0, help="training seed of the models (default 0)")
    parser.add_argument("--evals", type=int, default=20, help="evaluation seeds per model (default 20)")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "benchmarks" / "evaluation_spread.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from minde.experiments.grid import load_model
    from minde.experiments.results import evaluation_spread
    from minde.experiments.runner import git_commit, machine, write_json_atomic

    if args.evals < 2:
        print(f"error: --evals must be at least 2, got {args.evals}", file=sys.stderr)
        return 2
    cells = [(t, e) for t in args.tasks.split(",") for e in ("MINDE-C", "MINDE-J")]
    rows, models = [], []
    for task, estimator in tqdm(cells, desc="models"):
        path = args.experiment / task / estimator / f"seed{args.seed}.json"
        try:
            payload = json.loads(path.read_text())
            est, x, y = load_model(args.experiment, payload)
        except (OSError, ValueError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            return 1
        label = f"{estimator} {task} seed {args.seed}"
        models.append({"model": label, "checkpoint": payload["checkpoint"], "minde_version": payload.get("minde_version"),
                       "gt": payload["gt"]})  # fmt: skip
        for rule in RULES:
            start = time.process_time()
            spread = evaluation_spread([(label, est, x, y)], seeds=range(args.evals), small_t=rule)
            spread = spread.assign(rule=rule, task=task, estimator=estimator, gt=payload["gt"],
                                   cpu_seconds=time.process_time() - start)  # fmt: skip
            rows.extend(spread.to_dict("records"))
    write_json_atomic(args.out, {
        "what": "evaluation-seed spread of trained MINDE networks against their reported Monte-Carlo standard error",
        "experiment": str(args.experiment.relative_to(ROOT) if args.experiment.is_relative_to(ROOT) else args.experiment),
        "training_seed": args.seed, "evaluation_seeds": list(range(args.evals)), "rules": RULES,
        "models": models, "rows": rows,
        "git_commit": git_commit(), "machine": machine(), "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    })  # fmt: skip
    for r in rows:
        print(f"{r['model']:<58} {r['form']:<7} {r['rule']:<6} mean {r['mean']:7.3f} sd {r['sd']:.4f} "
              f"mc_stderr {r['mc_stderr']:.4f} ratio {r['ratio']:.2f} range {r['range']:.3f}")  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
