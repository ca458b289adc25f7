"""CPU time per model-step against the number of models trained together (the runner's ``--group-size``).

    .venv/bin/python benchmarks/stack_size.py [--dims 1,3,5,25,50] [--members 1,2,4,8,16,27] [--variant c]

Times the stacked training step (``minde.training.train_score_networks`` through
``minde.experiments.speed.step_milliseconds``) of ``members`` networks of one shape under the ``cpu`` protocol's
optimiser settings (batch 256, lr 2e-3, cosine schedule, one torch thread), on the process CPU clock, with the
calibration of :func:`minde.experiments.speed.machine_speed` taken first so the rows can be compared with results
recorded on another day.  It is the measurement behind the grid's scheduling cost (``minde.experiments.grid._cost``)
and behind training the three seeds of a shape as one stack (``minde-adaptive``).  Writes
data/benchmarks/stack_size.json.  Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from minde.experiments.grid import PROTOCOLS
from minde.experiments.speed import machine_speed, step_milliseconds
from minde.score_network import ScoreNetwork


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", default="1,3,5,25,50", help="d for d x d tasks")
    parser.add_argument("--members", default="1,2,4,8,16,27", help="models trained together")
    parser.add_argument("--variant", default="c", choices=("c", "j"))
    out = Path(__file__).resolve().parents[1] / "data" / "benchmarks" / "stack_size.json"
    parser.add_argument("--out", type=Path, default=out)
    args = parser.parse_args()
    cpu = PROTOCOLS["cpu"].minde
    calibration = machine_speed()
    print(f"machine: {calibration['ms_per_model_step']:.2f} ms per model-step (calibration)")
    print(f"{'task':6s} {'models':>6s} {'ms/step':>8s} {'ms/model-step':>13s}")
    rows = []
    for dim in (int(d) for d in args.dims.split(",")):
        steps = 150 if dim <= 5 else 40  # a 50 x 50 stack of 27 takes ~0.3 s per step
        for members in (int(m) for m in args.members.split(",")):
            ms = step_milliseconds(dim, args.variant, steps, cpu["batch_size"], members, warmup=20, lr=cpu["lr"],
                                   lr_schedule=cpu["lr_schedule"], clock=time.process_time)  # fmt: skip
            rows.append({"task": f"{dim}x{dim}", "dim": dim, "variant": args.variant, "members": members,
                         "width": ScoreNetwork(dim, dim).width, "steps_timed": steps, "ms_per_step": ms,
                         "ms_per_model_step": ms / members})  # fmt: skip
            print(f"{dim}x{dim:<4d} {members:6d} {ms:8.2f} {ms / members:13.2f}", flush=True)
    payload = {"rows": rows, "calibration": calibration, "command": "python benchmarks/stack_size.py",
               "torch": torch.__version__, "machine": platform.platform(), "processor": platform.processor(),
               "date": time.strftime("%Y-%m-%d")}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
