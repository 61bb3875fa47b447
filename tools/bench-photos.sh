#!/usr/bin/env bash
# Accuracy of the preprocessing + int8 model on the seeded photo-like test set (issue 9's figures), per class:
# MNIST test digits rendered as low-contrast pen on grey paper, frames and page edges, dust specks, shadowed corners,
# sensor noise σ 40, a small digit in a 12 MP frame, cropped phone photos and thin strokes (each must reach 95%),
# plus the MNIST test images as dark-on-light photo-like JPEGs and as 28×28 JPEGs (each must reach 99.3%).
# The images are rendered in memory from MNIST (never stored); see Sources/MNISTQPhotoSet.
#   tools/bench-photos.sh                                   all 10,000 test digits per class, 1,000 for 12 MP
#   tools/bench-photos.sh --count 2000 --count-12mp 300     a quicker subset
#   tools/bench-photos.sh --classes shadow --failures DIR   keep each miss and the 28×28 the model saw (PGM)
#   tools/bench-photos.sh --classes noise-40 --write DIR    write the JPEGs as DIR/<class>/<label>/<index>.jpg, e.g. for
#                                                           `mnistq classify --recursive DIR/noise-40 --save-inputs OUT`
# Model: $MNISTQ_MODEL, else samples/mnistq-int8.mnq8.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
flags=(-c release -Xswiftc -target-cpu -Xswiftc native)
scratch=(--scratch-path "${BENCH_SCRATCH:-.build}")
swift build "${flags[@]}" "${scratch[@]}" --product mnistq-bench >&2
bin="$(swift build "${flags[@]}" "${scratch[@]}" --show-bin-path)"
export MNIST_DIR="${MNIST_DIR:-$root/../shared/mnist}"
echo "== CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))"
"$bin/mnistq-bench" photos --model "${MNISTQ_MODEL:-$root/samples/mnistq-int8.mnq8}" "$@"
