#!/usr/bin/env bash
# Issue 7 / notebook 09: candidate improvements of MINDE, each one change against the benchmark grid `minde-cpu`
# (same cpu protocol, same seeds, same data).  Resumable: finished cells are skipped.  `make beyond`.
#
#   bash benchmarks/run_beyond.sh          # seed 0 of every ablation, then seeds 1-2
#   JOBS=1 bash benchmarks/run_beyond.sh   # one worker process
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
run() { "$PY" -m minde.experiments run --jobs "${JOBS:-2}" --no-progress "$@"; }
SPIRALS=spiral-multinormal-sparse-3-3-2-2.0,spiral-multinormal-sparse-5-5-2-2.0,spiral-multinormal-sparse-25-25-2-2.0

for seeds in 0 1-2; do
  # heavy tails: rank-Gaussianise every coordinate (MI-preserving) before training
  run --experiment beyond-cpu --protocol cpu --tasks heavy-tails --estimators MINDE-C,MINDE-J --set preprocess=rank_gauss --seeds $seeds
  # spirals (missed by MINDE-C at 40k steps, width 64/128): wider, longer, deeper (n_blocks=4: 3x3 and 5x5 only)
  run --experiment beyond-cpu --protocol cpu --tasks $SPIRALS --estimators MINDE-C --set width=256 --seeds $seeds
  run --experiment beyond-cpu --protocol cpu --tasks $SPIRALS --estimators MINDE-C --set steps=80000 --seeds $seeds
  run --experiment beyond-cpu --protocol cpu --tasks $SPIRALS --estimators MINDE-C --set n_blocks=2 --seeds $seeds
  run --experiment beyond-cpu --protocol cpu --tasks ${SPIRALS%,*} --estimators MINDE-C --set n_blocks=4 --seeds $seeds
  run --experiment beyond-cpu --protocol cpu --tasks $SPIRALS --estimators MINDE-J --set n_blocks=2 --seeds $seeds
  # the benchmark's own sample size: 10 000 samples (9 091 train / 909 held out), 10 000 steps against overfitting
  run --experiment minde-10k --protocol cpu --n-samples 10000 --tasks all --estimators MINDE-C,MINDE-J --set steps=10000 --seeds $seeds
  # at 10 000 samples: MINDE-C with four residual blocks, and with rank-Gaussianised inputs (40 tasks each)
  run --experiment minde-10k-beyond --protocol cpu --n-samples 10000 --tasks all --estimators MINDE-C --set steps=10000 --set n_blocks=4 --seeds $seeds
  run --experiment minde-10k-beyond --protocol cpu --n-samples 10000 --tasks all --estimators MINDE-C --set steps=10000 --set preprocess=rank_gauss --seeds $seeds
done
