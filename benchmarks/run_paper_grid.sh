#!/usr/bin/env bash
# Every run behind data/results/ for issue 5 (paper table, Figure 1, ablations), in order of priority.
# Resumable: rerunning skips finished cells; stop it with `kill <pid>` (finished cells are kept).
# Usage: bash benchmarks/run_paper_grid.sh [SEEDS]     (SEEDS of the MINDE grid, default 0-2)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SEEDS=${1:-0-2}
run() { "$PY" -m minde.experiments run --jobs "${JOBS:-2}" --no-progress "$@"; }

# 1. the benchmark table, seed 0: MINDE-C and MINDE-J on the 40 tasks (cpu protocol)
run --experiment minde-cpu --protocol cpu --tasks all --estimators MINDE-C,MINDE-J --seeds 0
# 2. Figure 1: sparse 3x3 with growing MI, plain / half-cube / spiral (baselines at the benchmark's N = 10 000)
run --experiment figure1-cpu --protocol cpu --tasks figure1-coarse --estimators MINDE-C,MINDE-J --seeds 0
run --experiment figure1-baselines-10k --protocol cpu --n-samples 10000 --tasks figure1 --estimators CCA,KSG,InfoNCE --seeds 0
run --experiment figure1-cpu --protocol cpu --tasks figure1 --estimators MINDE-C,MINDE-J --seeds 0
run --experiment figure1-baselines-10k --protocol cpu --n-samples 10000 --tasks figure1 --estimators CCA,KSG,DoE,InfoNCE,NWJ,DV,MINE --seeds 0
# 3. the baselines of the benchmark table, on the benchmark's N = 10 000
run --experiment baselines-10k --protocol cpu --n-samples 10000 --tasks all --estimators CCA,KSG,DoE,InfoNCE,NWJ,DV,MINE --seeds 0
# 4. ablations (seed 0) on three tasks: VP vs VE, importance sampling off, training length, 10k samples
ABL=1v1-normal-0.75,multinormal-dense-5-5-0.5,half_cube-multinormal-sparse-5-5-2-2.0
run --experiment ablations-cpu --protocol cpu --tasks $ABL --estimators MINDE-C,MINDE-J --set sde=ve
run --experiment ablations-cpu --protocol cpu --tasks $ABL --estimators MINDE-C,MINDE-J --set importance_sampling=False
for steps in 5000 10000 20000; do
  run --experiment ablations-cpu --protocol cpu --tasks $ABL --estimators MINDE-C,MINDE-J --set steps=$steps
done
run --experiment ablations-cpu-n11000 --protocol cpu --n-samples 11000 --tasks $ABL --estimators MINDE-C,MINDE-J
run --experiment ablations-cpu --protocol cpu --tasks $ABL --estimators MINDE-C,MINDE-J --set steps=80000
# 5. the remaining seeds of the MINDE grid
run --experiment minde-cpu --protocol cpu --tasks all --estimators MINDE-C,MINDE-J --seeds "$SEEDS"
