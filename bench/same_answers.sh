#!/usr/bin/env bash
# The baseline's answers of one checkout, written to a directory, so that two checkouts
# (say main and a branch that makes the hot path cheaper) can be compared byte for byte:
#   bench/same_answers.sh CHECKOUT OUTDIR [AUCTION ...]
#   diff -r OUTDIR_MAIN OUTDIR_BRANCH && echo identical
# For every auction: each screened candidate's whole baseline fill (`bench candidates
# --fills`: trade, route legs and amounts, gas, clearing prices) and the JSON that
# `tributary solve --engine baseline --workers 1` prints with time to finish (600 s: a loaded machine took 55 s for 5,000 orders).
# CHECKOUT's bench/candidates.py must have --fills (copy it into an older checkout).
set -euo pipefail
checkout=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
shift 2
python=${PYTHON:-/work/main/.venv/bin/python}
auctions=("$@")
if [ ${#auctions[@]} -eq 0 ]; then
    auctions=("$checkout"/../shared/data/auctions/*.json /work/gen/gen-*.json)
fi
log=${out%/}.log  # the runs' logging (timings: not compared)
: >"$log"
cd "$checkout"  # `python -m` puts the working directory ahead of PYTHONPATH
for auction in "${auctions[@]}"; do
    auction=$(realpath "$auction")
    name=$(basename "$auction" .json)
    PYTHONPATH=$checkout "$python" -m bench candidates --auction "$auction" --engine baseline \
        --fills "$out/$name.fills" >/dev/null 2>>"$log"
    PYTHONPATH=$checkout "$python" -m solver.cli \
        solve --auction "$auction" --engine baseline --workers 1 --time-limit 600 \
        >"$out/$name.solve.json" 2>>"$log"
    echo "$name: $(grep -vc ' null$' "$out/$name.fills") fills, $(wc -c <"$out/$name.solve.json") bytes of solve JSON"
done
