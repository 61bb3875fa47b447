#!/usr/bin/env bash
# The portable path (the generic-vector kernel family: what a CPU without a dedicated family runs) against ONNX
# Runtime int8, in tight pairs: each pair runs `mnistq-bench int8 --families` (one round) and then one ONNX Runtime
# pass over the same images, so a slow spell of the shared machine hits both sides of a pair; prints every pair's
# rates and ratio, then the median ratio and the ratio of the best rates.
#
# Usage: tools/bench-portable.sh [PAIRS] [MODEL.mnq8]   (default 16 pairs, samples/mnistq-int8.mnq8)
# Env: IMAGES (mnist-test, strokes or noise: the images of both sides; default mnist-test), REFBENCH_PYTHON (default
#      /tmp/refbench/bin/python, the venv of tools/bench-infer.sh), MNIST_DIR, MNISTQ_GOLDEN_DIR, SCRATCH
#      (default .build-bench-portable).
# ONNX Runtime: the golden float model quantized by ../shared/bench/reference_bench.py's recipe (QDQ, per-channel
# S8S8, MinMax on 1,000 training images), one thread, batches of 64, process CPU time. mnistq: a plain
# `swift build -c release` (what a SwiftPM dependency gets), the vector family's batch-64 calls by thread CPU time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pairs="${1:-16}"
model="${2:-$root/samples/mnistq-int8.mnq8}"
images="${IMAGES:-mnist-test}"
python="${REFBENCH_PYTHON:-/tmp/refbench/bin/python}"
export MNIST_DIR="${MNIST_DIR:-$root/../shared/mnist}"
export MNISTQ_GOLDEN_DIR="${MNISTQ_GOLDEN_DIR:-$root/../shared/golden}"
scratch="${SCRATCH:-.build-bench-portable}"
case "$images" in mnist-test|strokes|noise) ;; *) echo "IMAGES: mnist-test, strokes or noise, not '$images'" >&2; exit 2 ;; esac

swift build -c release --scratch-path "$scratch" --product mnistq-bench >&2
bench="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/mnistq-bench"
workdir="$root/$scratch/ort"
mkdir -p "$workdir"

# One ONNX Runtime pass over the images (the int8 model is made once, in $workdir), printing its images/s by CPU time.
ort_pass() {
  IMAGES="$images" WORKDIR="$workdir" REFERENCE="$root/../shared/bench/reference_bench.py" "$python" - 2>/dev/null <<'PY'
import os, sys, time
import numpy as np
sys.argv = ["reference_bench.py"]
source = open(os.environ["REFERENCE"]).read().split("ap = argparse.ArgumentParser()")[0]
exec(compile(source, "reference_bench.py", "exec"))  # its model, data loader and recipe, not its command line
import onnxruntime as ort
from onnxruntime.quantization import quantize_static, QuantFormat, QuantType, CalibrationMethod, CalibrationDataReader
from onnxruntime.quantization.shape_inference import quant_pre_process
workdir = os.environ["WORKDIR"]
xtr, ytr, xte, yte = load_mnist(os.environ["MNIST_DIR"])
qpath = os.path.join(workdir, "int8.onnx")
if not os.path.exists(qpath):
    fm = golden_model(os.environ["MNISTQ_GOLDEN_DIR"])
    fpath, ppath = os.path.join(workdir, "float.onnx"), os.path.join(workdir, "float_pre.onnx")
    torch.onnx.export(fm, (torch.zeros(1, 1, 28, 28),), fpath, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=17, dynamo=False)
    quant_pre_process(fpath, ppath)
    class Reader(CalibrationDataReader):
        def __init__(self): self.batches = [xtr[i:i + 100] for i in range(0, 1000, 100)]
        def get_next(self): return {"input": self.batches.pop(0)} if self.batches else None
    quantize_static(ppath, qpath, Reader(), quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8,
                    activation_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
options = ort.SessionOptions(); options.intra_op_num_threads = 1; options.inter_op_num_threads = 1
session = ort.InferenceSession(qpath, options, providers=["CPUExecutionProvider"])
run = lambda x: session.run(None, {"input": x})[0]
rng = np.random.RandomState(0)
if os.environ["IMAGES"] == "mnist-test":
    x = xte
else:  # strokes: random values on a quarter of the pixels; noise: every pixel random (ORT's speed ignores values)
    x = rng.randint(0, 256, size=(10000, 1, 28, 28)).astype(np.float32) / np.float32(255)
    if os.environ["IMAGES"] == "strokes": x *= (rng.randint(0, 4, size=x.shape) == 0)
for i in range(0, 640, 64): run(x[i:i + 64])
start = time.process_time()
for i in range(0, 10000, 64): run(x[i:i + 64])
print(round(10000 / (time.process_time() - start)))
PY
}

ratios=() ours_rates=() ort_rates=()
for i in $(seq 1 "$pairs"); do
  ours="$("$bench" int8 --model "$model" --families --images "$images" --rounds 1 | grep '^RESULT' \
          | grep -o 'vector_cpu_images_per_s=[0-9]*' | cut -d= -f2)"
  theirs="$(ort_pass)"
  ratio="$(python3 -c "print(f'{$ours / $theirs:.3f}')")"
  echo "pair $i: vector $ours images/s, ONNX Runtime int8 $theirs images/s, ratio $ratio"
  ratios+=("$ratio") ours_rates+=("$ours") ort_rates+=("$theirs")
done
RATIOS="${ratios[*]}" OURS="${ours_rates[*]}" ORT="${ort_rates[*]}" IMAGES="$images" python3 - <<'PY'
import os, statistics
r = [float(v) for v in os.environ["RATIOS"].split()]
ours = [int(v) for v in os.environ["OURS"].split()]; ort = [int(v) for v in os.environ["ORT"].split()]
print(f"RESULT portable-vs-ort images={os.environ['IMAGES']} pairs={len(r)} median_ratio={statistics.median(r):.3f} "
      f"min_ratio={min(r):.3f} max_ratio={max(r):.3f} best_vector={max(ours)} best_ort={max(ort)} "
      f"best_ratio={max(ours) / max(ort):.3f}")
PY
