#!/usr/bin/env bash
# Promote finished version-0.2 runs: data/results-next/<X> replaces data/results/<X>, whose 0.1 results move to
# data/archive/v0.1/results/<X> (kept for the before/after comparisons of notebooks 05 and 09); the networks move from
# data/models-next/<X> to data/models/<X>.  Usage: bash benchmarks/promote_v02.sh EXPERIMENT...
set -euo pipefail
cd "$(dirname "$0")/.."
for x in "$@"; do
    [ -d "data/results-next/$x" ] || { echo "no data/results-next/$x" >&2; exit 1; }
    if find "data/results-next/$x" -name '*.claim' | grep -q .; then echo "$x is still running (claims)" >&2; exit 1; fi
    if [ -d "data/results/$x" ]; then
        mkdir -p data/archive/v0.1/results
        if [ -d "data/archive/v0.1/results/$x" ]; then
            # archived earlier (a copy, so that notebooks could already point at it): it must hold the same results
            diff -rq -x summary.csv "data/results/$x" "data/archive/v0.1/results/$x" \
                || { echo "data/archive/v0.1/results/$x differs from data/results/$x" >&2; exit 1; }
            git rm -r -q "data/results/$x"
            rm -rf "data/results/$x"
        else
            git mv "data/results/$x" "data/archive/v0.1/results/$x"
        fi
    fi
    mv "data/results-next/$x" "data/results/$x"
    if [ "$x" = mnist-consistency ]; then
        # the 0.2 rerun computed the MINDE cells only; the baselines' cells (their code did not change) come along
        for d in data/archive/v0.1/results/$x/*/*/; do
            est=$(basename "$d"); test_dir=$(basename "$(dirname "$d")")
            case "$est" in MINDE-*) continue ;; esac
            [ -d "data/results/$x/$test_dir/$est" ] || cp -r "$d" "data/results/$x/$test_dir/$est"
        done
    fi
    if [ -d "data/models-next/$x" ]; then mkdir -p data/models; rm -rf "data/models/$x"; mv "data/models-next/$x" "data/models/$x"; fi
    git add "data/results/$x"
    echo "promoted $x"
done
