// Node side of tools/test-wasm: runs mnistq.wasm (through samples/web/mnistq.js, the page's own wrapper) on an IDX
// image file and prints `index digit s0 … s9 [ood]` per image on stdout, then one JSON line of figures on stderr.
//   node tools/wasm-check.mjs mnistq.wasm model.mnq8 t10k-images-idx3-ubyte
//   node tools/wasm-check.mjs mnistq.wasm model.mnq8 --expect-error     a bad model: prints the runtime's error, exit 0
import { readFileSync } from "node:fs";
import { MnistqRuntime } from "../samples/web/mnistq.js";

const [wasmPath, modelPath, imagesPath] = process.argv.slice(2);
const started = performance.now();
const runtime = await MnistqRuntime.create(readFileSync(wasmPath));
if (imagesPath === "--expect-error") {
  try {
    runtime.loadModel(readFileSync(modelPath));
    console.log("loaded");
  } catch (error) {
    console.log(`error: ${error.message}`);
  }
  process.exit(0);
}
runtime.loadModel(readFileSync(modelPath));
const loadMs = performance.now() - started;

const idx = readFileSync(imagesPath);
const view = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
if (view.getUint32(0) !== 0x803 || view.getUint32(8) !== 28 || view.getUint32(12) !== 28) {
  throw new Error(`${imagesPath}: not an IDX file of 28×28 images`);
}
const count = view.getUint32(4);
const pixels = new Uint8Array(idx.buffer, idx.byteOffset + 16, count * 784);

// Single-image calls, every image (the scores the test compares) and their time.
const lines = [];
// Wall time and this process's CPU time (the machine may be shared: CPU time leaves out other processes' slices).
const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
let start = performance.now(), startCPU = cpuSeconds();
for (let i = 0; i < count; i++) {
  const result = runtime.classify(pixels.subarray(i * 784, (i + 1) * 784));
  // The out-of-distribution score follows when the model has one, as the native lines carry it (edge-common.sh).
  const ood = result.oodScore === null ? "" : ` ${result.oodScore}`;
  lines.push(`${i} ${result.digit} ${Array.from(result.scores).join(" ")}${ood}`);
}
const singleRate = count / ((performance.now() - start) / 1000), singleCPURate = count / (cpuSeconds() - startCPU);
// Batches of 64 (the C API's batch call); their scores must equal the single calls'.
start = performance.now();
startCPU = cpuSeconds();
let batchMismatches = 0;
for (let first = 0; first + 64 <= count; first += 64) {
  const scores = runtime.classifyScores(pixels.subarray(first * 784), 64);
  for (let b = 0; b < 64; b++) {
    const expected = lines[first + b].split(" ").slice(2, 12).join(" ");
    if (Array.from(scores.subarray(b * 10, b * 10 + 10)).join(" ") !== expected) batchMismatches++;
  }
}
const batchRate = Math.floor(count / 64) * 64 / ((performance.now() - start) / 1000);
const batchCPURate = Math.floor(count / 64) * 64 / (cpuSeconds() - startCPU);
process.stdout.write(lines.join("\n") + "\n");
process.stderr.write(JSON.stringify({
  images: count, kernels: runtime.kernelName, load_ms: Math.round(loadMs * 10) / 10,
  single_images_per_s: Math.round(singleRate), batch64_images_per_s: Math.round(batchRate),
  single_cpu_images_per_s: Math.round(singleCPURate), batch64_cpu_images_per_s: Math.round(batchCPURate),
  batch_mismatches: batchMismatches, heap_live_bytes: runtime.x.mnq_heap_live(), heap_peak_bytes: runtime.x.mnq_heap_peak(),
  memory_bytes: runtime.x.memory.buffer.byteLength,
}) + "\n");
