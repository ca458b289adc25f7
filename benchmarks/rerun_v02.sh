#!/usr/bin/env bash
# Version 0.2 (the bounded small-t rule, SDE.integration_points "hold"): every committed MINDE experiment of
# version 0.1 run again, cell for cell (`replicate`: same tasks, seeds, settings and sample sizes), into
# data/results-next/ while it runs; the networks are kept in data/models-next/ (`reevaluate` re-reads them).
# Resumable: rerun this script to continue.  JOBS=2 worker processes by default.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
INTO=${INTO:-data/results-next}
rep() { "$PY" -m minde.experiments replicate --into "$INTO" --jobs "${JOBS:-2}" --no-progress "$@"; }
# an experiment already promoted (benchmarks/promote_v02.sh) has its 0.1 results archived: nothing left to replicate
promoted() { [ -d "data/archive/v0.1/results/$1" ] && [ ! -d "$INTO/$1" ]; }

promoted minde-cpu || rep --experiment minde-cpu --seeds 0
promoted minde-cpu || rep --experiment minde-cpu --seeds 1-2
promoted figure1-cpu || rep --experiment figure1-cpu
promoted beyond-cpu || rep --experiment beyond-cpu
promoted minde-10k || rep --experiment minde-10k
promoted ablations-cpu || rep --experiment ablations-cpu
promoted ablations-cpu-n11000 || rep --experiment ablations-cpu-n11000
promoted minde-10k-beyond || rep --experiment minde-10k-beyond
