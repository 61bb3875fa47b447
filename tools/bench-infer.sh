#!/usr/bin/env bash
# Int8 inference speed: mnistq's runtime vs ONNX Runtime int8 (and PyTorch) in the same run, and the ratios.
#
# Usage: tools/bench-infer.sh [MODEL.mnq8]      (default: $MNISTQ_MODEL, else random valid layers)
# Needs the reference venv (see ../shared/bench/reference_bench.py header):
#   python3 -m venv /tmp/refbench && /tmp/refbench/bin/pip install numpy torch onnx onnxruntime onnxscript --find-links /opt/wheels
# Env: REFBENCH_PYTHON (default /tmp/refbench/bin/python), MNIST_DIR (default ../shared/mnist),
#      MNISTQ_GOLDEN_DIR (default ../shared/golden), SCRATCH (default .build-bench).
# Order: ours, ORT/PyTorch, ours again (timing drifts; the ratio uses the median of our two runs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="${REFBENCH_PYTHON:-/tmp/refbench/bin/python}"
mnist="${MNIST_DIR:-$root/../shared/mnist}"
golden="${MNISTQ_GOLDEN_DIR:-$root/../shared/golden}"
scratch="${SCRATCH:-.build-bench}"
model="${1:-${MNISTQ_MODEL:-}}"
model_args=()
[ -n "$model" ] && model_args=(--model "$model")

swift build -c release -Xswiftc -target-cpu -Xswiftc native --scratch-path "$scratch" --product mnistq-bench >&2
bench="$(swift build -c release -Xswiftc -target-cpu -Xswiftc native --scratch-path "$scratch" --show-bin-path)/mnistq-bench"

out1="$("$bench" int8 "${model_args[@]}")"; echo "$out1"
ref="$("$python" "$root/../shared/bench/reference_bench.py" infer --data "$mnist" --golden "$golden" --threads 1 2>/dev/null)"
echo "$ref"
out2="$("$bench" int8 "${model_args[@]}")"; echo "$out2"

OURS1="$(grep '^RESULT' <<<"$out1")" OURS2="$(grep '^RESULT' <<<"$out2")" REF="$ref" python3 - <<'PY'
import json, os
def fields(line): return {k: float(v) for k, v in (p.split("=") for p in line.split()[2:]) if k != "kernels"}
a, b = fields(os.environ["OURS1"]), fields(os.environ["OURS2"])
ours = {k: (a[k] + b[k]) / 2 for k in a}
ort = next(json.loads(l) for l in os.environ["REF"].splitlines() if '"ORT int8"' in l)
print("\n== mnistq int8 vs ONNX Runtime int8, same run, 1 thread ==")
print(f"batch-64, 10k pass (same method as the ORT script): mnistq {ours['pass10k_images_per_s']:.0f} images/s, "
      f"ORT int8 {ort['batch64_images_per_s']} images/s  → ratio {ours['pass10k_images_per_s'] / ort['batch64_images_per_s']:.2f}x (target ≥ 1.5x)")
print(f"batch-64, median single 64-image call: mnistq {ours['batch64_images_per_s']:.0f} images/s → ratio "
      f"{ours['batch64_images_per_s'] / ort['batch64_images_per_s']:.2f}x")
print(f"batch-1 latency median: mnistq {ours['batch1_median_us']:.1f} µs in-process, ORT int8 {ort['batch1_us_median']} µs "
      f"(from Python)  → {ort['batch1_us_median'] / ours['batch1_median_us']:.1f}x faster (target ≤ 60 µs)")
print(f"mnistq 10k pass by thread CPU time (unaffected by other load): {ours['pass10k_cpu_images_per_s']:.0f} images/s; "
      f"arena {ours['arena_bytes']:.0f} bytes")
PY
