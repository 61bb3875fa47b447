#!/usr/bin/env bash
# fp32 training kernels (sgemm, im2col/col2im, bias row sums): GMAC/s per CNN training shape against the plain
# reference loop, measured in the same process with thread CPU time (the machine is shared), medians of repeats.
#   tools/bench-gemm.sh                         all training shapes
#   tools/bench-gemm.sh --shape NT,32,400,196   your own shapes (tAtB,m,n,k; repeatable); --repeats N, --millis T
# Env: SCRATCH (default .build-gemm).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
flags=(-c release -Xswiftc -target-cpu -Xswiftc native --scratch-path "${SCRATCH:-.build-gemm}")
swift build "${flags[@]}" --product mnistq-bench >&2
"$(swift build "${flags[@]}" --show-bin-path)/mnistq-bench" gemm "$@"
