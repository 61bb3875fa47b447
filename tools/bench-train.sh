#!/usr/bin/env bash
# One training epoch of the reference recipe (SGD lr 0.1, momentum 0.9, batch 64, shuffled), mnistq vs PyTorch,
# side by side in one run, alternating, on the same number of threads. Prints each run and the ratio of medians.
#   tools/bench-train.sh [--threads 2] [--rounds 3]
# Needs PyTorch in a private venv (benchmark only): python3 -m venv /tmp/refbench &&
#   /tmp/refbench/bin/pip install numpy torch --find-links /opt/wheels     (override with REFBENCH_PYTHON=...)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
threads=2; rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
data="${MNIST_DIR:-$root/../shared/mnist}"
python="${REFBENCH_PYTHON:-/tmp/refbench/bin/python}"
ref="$root/../shared/bench/reference_bench.py"
flags=(-c release -Xswiftc -target-cpu -Xswiftc native)
swift build "${flags[@]}" --product mnistq >&2
bin="$(swift build "${flags[@]}" --show-bin-path)/mnistq"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

ours=(); theirs=()
for r in $(seq "$rounds"); do
  "$bin" train --recipe reference --epochs 1 --seed "$r" --threads "$threads" --data "$data" \
    --out "$work/bench.mnqf" --force --quiet >/dev/null  # --force: each round replaces the last
  s=$(python3 -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(r[-1]['train_seconds'])" "$work/bench.metrics.csv")
  ours+=("$s"); echo "round $r: mnistq  ${s} s/epoch" >&2
  t=$("$python" "$ref" train --data "$data" --threads "$threads" | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['seconds'])")
  theirs+=("$t"); echo "round $r: pytorch ${t} s/epoch" >&2
done
python3 - "$threads" "${ours[*]}" "${theirs[*]}" <<'PY'
import json, statistics, sys
threads, ours, theirs = int(sys.argv[1]), [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
mo, mt = statistics.median(ours), statistics.median(theirs)
print(json.dumps(dict(what="train epoch, reference recipe", threads=threads, mnistq_seconds=ours, pytorch_seconds=theirs,
                      mnistq_median=mo, pytorch_median=mt, mnistq_images_per_s=round(60000 / mo),
                      pytorch_images_per_s=round(60000 / mt), ratio_mnistq_over_pytorch=round(mo / mt, 3))))
PY
