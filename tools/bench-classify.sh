#!/usr/bin/env bash
# Benchmark of `mnistq classify` on 10,000 MNIST-test JPEGs (28x28, q90): end-to-end images/s with 2 jobs, peak RSS,
# accuracy against the labels, then the per-stage split measured in process by `mnistq-bench classify`.
#   tools/bench-classify.sh                    model: $MNISTQ_MODEL, else samples/mnistq-int8.mnq8
#   tools/bench-classify.sh --jobs 1           further flags go to `mnistq classify`
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
flags=(-c release -Xswiftc -target-cpu -Xswiftc native)
scratch=(--scratch-path "${BENCH_SCRATCH:-.build}")
swift build "${flags[@]}" "${scratch[@]}" --product mnistq >&2
swift build "${flags[@]}" "${scratch[@]}" --product mnistq-bench >&2
bin="$(swift build "${flags[@]}" "${scratch[@]}" --show-bin-path)"
export MNIST_DIR="${MNIST_DIR:-$root/../shared/mnist}"
model="${MNISTQ_MODEL:-$root/samples/mnistq-int8.mnq8}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin/mnistq-bench" classify --write-fixtures "$work/jpegs"
echo "== mnistq classify --jobs 2 on $(find "$work/jpegs" -type f | wc -l) files (page cache warm: second of two runs)"
"$bin/mnistq" classify --model "$model" --recursive --jobs 2 --format csv --no-progress "$@" "$work/jpegs" > /dev/null 2>&1 || true
/usr/bin/time -v "$bin/mnistq" classify --model "$model" --recursive --jobs 2 --format csv --no-progress "$@" "$work/jpegs" \
  > "$work/out.csv" 2> "$work/err.txt" || true
grep -E "^classified|^worker time" "$work/err.txt"
grep -E "Elapsed \(wall|Maximum resident" "$work/err.txt" | sed 's/^\s*/  /'
echo "  rows: $(($(wc -l < "$work/out.csv") - 1)), errors: $(grep -c ',error,' "$work/out.csv" || true)"
echo "== per stage, in process (one thread)"
"$bin/mnistq-bench" classify --model "$model"
