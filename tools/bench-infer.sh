#!/usr/bin/env bash
# Int8 inference speed: mnistq's runtime vs ONNX Runtime int8 (and PyTorch) in the same run, and the ratios.
#
# Usage: tools/bench-infer.sh [MODEL.mnq8]      (default: $MNISTQ_MODEL, else random valid layers)
# Needs the reference venv (see ../shared/bench/reference_bench.py header):
#   python3 -m venv /tmp/refbench && /tmp/refbench/bin/pip install numpy torch onnx onnxruntime onnxscript --find-links /opt/wheels
# Env: REFBENCH_PYTHON (default /tmp/refbench/bin/python), MNIST_DIR (default ../shared/mnist),
#      MNISTQ_GOLDEN_DIR (default ../shared/golden), SCRATCH (default .build-bench).
# Order: ours, ORT/PyTorch (+ ORT int8 re-timed by CPU time), ours again (the ratio uses the mean of our two runs),
# ours with the pure-Swift kernels (--portable).
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
workdir="${TMPDIR:-/tmp}/mnistq-bench-infer-$$"
ref="$("$python" "$root/../shared/bench/reference_bench.py" infer --data "$mnist" --golden "$golden" --threads 1 --workdir "$workdir" 2>/dev/null)"
echo "$ref"
# ORT int8 again on the model the script just wrote, same session options, timed by process CPU time too (the machine
# is shared: wall time includes other processes' slices, CPU time does not).
ort_cpu="$(MNIST="$mnist" QPATH="$workdir/int8.onnx" "$python" - <<'PY'
import gzip, json, os, time
import numpy as np, onnxruntime as ort
x = np.frombuffer(gzip.open(os.path.join(os.environ["MNIST"], "t10k-images-idx3-ubyte.gz")).read(), np.uint8)[16:]
x = (x.reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255))
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
s = ort.InferenceSession(os.environ["QPATH"], so, providers=["CPUExecutionProvider"])
f = lambda b: s.run(None, {"input": b})[0]
for i in range(0, 640, 64): f(x[i:i + 64])
wall, cpu = [], []
for _ in range(5):
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, 10000, 64): f(x[i:i + 64])
    wall.append(10000 / (time.perf_counter() - t0)); cpu.append(10000 / (time.process_time() - c0))
print(json.dumps(dict(what="ORT int8 rerun", batch64_images_per_s=float(np.median(wall)), batch64_cpu_images_per_s=float(np.median(cpu)))))
PY
)"
echo "$ort_cpu"
rm -rf "$workdir"
out2="$("$bench" int8 "${model_args[@]}")"; echo "$out2"
out3="$("$bench" int8 "${model_args[@]}" --portable)"; echo "$out3"
# The in-place model's kernel families side by side (fastest, the generic-vector kernels a CPU without a dedicated family
# runs, and the portable C kernels).
out4="$("$bench" int8 "${model_args[@]}" --families)"; echo "$out4"

OURS1="$(grep '^RESULT' <<<"$out1")" OURS2="$(grep '^RESULT' <<<"$out2")" OURS3="$(grep '^RESULT' <<<"$out3")" \
FAMILIES="$(grep '^RESULT' <<<"$out4")" REF="$ref" ORTCPU="$ort_cpu" python3 - <<'PY'
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
oc = json.loads(os.environ["ORTCPU"])
print(f"batch-64, 10k pass by CPU time (immune to other load): mnistq {ours['pass10k_cpu_images_per_s']:.0f} images/s, "
      f"ORT int8 {oc['batch64_cpu_images_per_s']:.0f} images/s  → ratio {ours['pass10k_cpu_images_per_s'] / oc['batch64_cpu_images_per_s']:.2f}x")
p = fields(os.environ["OURS3"])
print(f"pure-Swift kernels (--portable): 10k pass CPU time {p['pass10k_cpu_images_per_s']:.0f} images/s → ratio "
      f"{p['pass10k_cpu_images_per_s'] / oc['batch64_cpu_images_per_s']:.2f}x; wall {p['pass10k_images_per_s']:.0f} images/s → "
      f"{p['pass10k_images_per_s'] / ort['batch64_images_per_s']:.2f}x; batch-1 median {p['batch1_median_us']:.1f} µs")
f = {k: float(v) for k, v in (p.split("=") for p in os.environ["FAMILIES"].split()[2:]) if k.endswith("_per_s")}
print(f"in-place model, batch-64 calls by CPU time: vector kernels {f['vector_cpu_images_per_s']:.0f} images/s → "
      f"{f['vector_cpu_images_per_s'] / oc['batch64_cpu_images_per_s']:.2f}x ORT int8 (CPU time); portable C "
      f"{f['portable_c_cpu_images_per_s']:.0f} → {f['portable_c_cpu_images_per_s'] / oc['batch64_cpu_images_per_s']:.2f}x; "
      f"fastest {f['fastest_cpu_images_per_s']:.0f}")
print(f"arena {ours['arena_bytes']:.0f} bytes")
PY
