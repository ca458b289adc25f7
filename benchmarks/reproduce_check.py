"""Do the committed MINDE estimates come out of their kept networks again?  Each experiment's networks
(data/models/<experiment>/, outside git) are re-evaluated with the current code into a scratch folder
(``minde.experiments.grid.reevaluate``) and every estimate is compared with the committed one.

    .venv/bin/python benchmarks/reproduce_check.py [EXPERIMENT ...]   # default: every experiment with kept networks

Same network, same held-out rows (re-drawn from the task and seed), same evaluation seed: the estimates must be
identical.  Writes data/benchmarks/reproduce_check.json (per experiment: MINDE results, re-evaluated, identical,
largest |difference| and the cells that differ, with the commit and time of its check) and prints one line per
experiment; the rows of experiments not named this time are kept from the existing file.  Exit status 1 when an
estimate differs or a network is missing.  About a second per network on one thread.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "data" / "results"


def compare(experiment: str) -> dict:
    """Re-evaluate one experiment's kept networks into a scratch folder; the comparison with its committed results."""
    from minde.experiments.grid import Cell, reevaluate
    from minde.experiments.runner import load_results

    def key(p: dict) -> str:  # a cell: task, estimator, settings, seed and sample size
        cell = Cell.from_result(p)
        return f"{cell.label()} n {cell.n_samples or 'protocol'}"

    root = RESULTS / experiment
    committed = {key(p): p for p in load_results(root) if p["estimator"].startswith("MINDE")}
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stderr(io.StringIO()) as err:
        again = {key(p): p for p in reevaluate(root, Path(tmp) / experiment, progress=False)}
    differ, largest = [], 0.0
    for cell, payload in again.items():
        gaps = [abs(e["estimate"] - payload["estimates"][name]["estimate"])
                for name, e in committed[cell]["estimates"].items()]  # fmt: skip
        largest = max(largest, *gaps)
        if max(gaps) > 0:
            differ.append(cell)
    return {"experiment": experiment, "minde_results": len(committed), "reevaluated": len(again),
            "identical": len(again) - len(differ), "largest_abs_difference": largest, "differ": differ,
            "missing_networks": len(committed) - len(again), "messages": err.getvalue().strip()}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", nargs="*",
                        help="names under data/results/ (default: those with kept networks, but not rerun-*)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "benchmarks" / "reproduce_check.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from minde.experiments.runner import git_commit, machine, models_dir, write_json_atomic

    names = args.experiments or sorted(p.name for p in RESULTS.iterdir()  # rerun-*: scratch reruns, outside git
                                       if p.is_dir() and models_dir(p).is_dir() and not p.name.startswith("rerun-"))
    missing = [n for n in names if not (RESULTS / n).is_dir()]
    if missing:
        print(f"error: no experiment {', '.join(missing)} under {RESULTS}", file=sys.stderr)
        return 2
    rows = []
    for name in names:
        row = compare(name) | {"git_commit": git_commit(), "checked": datetime.now(UTC).isoformat(timespec="seconds")}
        rows.append(row)
        print(f"{name:<28} {row['identical']:>4} of {row['minde_results']:>4} identical, largest |difference| "
              f"{row['largest_abs_difference']:.3g} nats, networks missing: {row['missing_networks']}", flush=True)
    old = json.loads(args.out.read_text()) if args.out.is_file() else {"rows": []}
    kept = [{"git_commit": old.get("git_commit"), "checked": old.get("finished")} | r for r in old["rows"]]
    merged = {r["experiment"]: r for r in kept} | {r["experiment"]: r for r in rows}
    write_json_atomic(args.out, {
        "what": "committed MINDE estimates against a re-evaluation of their kept networks with the current code",
        "rows": [merged[k] for k in sorted(merged)], "git_commit": git_commit(), "machine": machine(),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    })  # fmt: skip
    print(f"wrote {args.out}")
    return 0 if all(r["identical"] == r["minde_results"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
