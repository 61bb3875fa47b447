// The page: a drawing pad, image files, the 28×28 input and the ten probabilities, all from mnistq.wasm.
import { MnistqRuntime } from "./mnistq.js";

const $ = (id) => document.getElementById(id);
const pad = $("pad"), padContext = pad.getContext("2d", { willReadFrequently: true });
const input28 = $("input28").getContext("2d");
const params = new URLSearchParams(location.search);
const maxFileBytes = 40 << 20, maxPixels = 16e6; // 16 MP of RGBA is 64 MB of the module's memory
let runtime = null, firstPredictionMs = null;

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}
window.addEventListener("error", (event) => say(`Error: ${event.message}`, true));
window.addEventListener("unhandledrejection", (event) => say(`Error: ${event.reason?.message ?? event.reason}`, true));

// ---- Bars
for (let d = 0; d < 10; d++) {
  $("bars").insertAdjacentHTML("beforeend", `<span>${d}</span><div><div class="bar" id="bar${d}" style="width:0"></div></div><span id="p${d}"></span>`);
}
function show(pixels, result) {
  const image = input28.createImageData(28, 28);
  for (let i = 0; i < 784; i++) image.data.set([pixels[i], pixels[i], pixels[i], 255], 4 * i);
  input28.putImageData(image, 0, 0);
  $("digit").textContent = result ? String(result.digit) : "–";
  document.body.dataset.prediction = result ? String(result.digit) : "";
  for (let d = 0; d < 10; d++) {
    const p = result ? result.probabilities[d] : 0;
    $(`bar${d}`).style.width = `${Math.round(p * 200)}px`;
    $(`bar${d}`).className = result && d === result.digit ? "bar top" : "bar";
    $(`p${d}`).textContent = result ? `${(p * 100).toFixed(1)}%` : "";
  }
  // A model with an out-of-distribution section says when the drawing does not look like a digit (as `mnistq
  // classify` reports "unsure"); the digit it would have said stays shown.
  $("ood").textContent = result && result.notADigit
    ? `Not sure this is a digit (out-of-distribution score ${result.oodScore}, threshold ${runtime.ood.threshold}).` : "";
  if (result && firstPredictionMs === null) {
    firstPredictionMs = performance.now();
    document.body.dataset.firstPredictionMs = firstPredictionMs.toFixed(1);
    $("info").textContent += ` First prediction ${firstPredictionMs.toFixed(0)} ms after page load.`;
  }
}

/** Preprocesses RGBA pixels in the module (as `mnistq classify` does) and classifies them. */
function classifyRGBA(rgba, width, height) {
  let pixels;
  try {
    pixels = runtime.preprocess(rgba, width, height, 4);
  } catch (error) {
    show(new Uint8Array(784), null);
    say(error.message, true);
    return;
  }
  const result = runtime.classify(pixels);
  // The model's input, for tests that compare it with `mnistq classify --save-inputs`.
  document.body.dataset.input = Array.from(pixels, (v) => v.toString(16).padStart(2, "0")).join("");
  show(pixels, result);
  say(`Prediction: ${result.digit} (${(result.probabilities[result.digit] * 100).toFixed(1)}%)`);
}

// ---- Drawing pad: white ink on black, as MNIST digits are. 140×140 pixels shown at 280 CSS pixels: the module
// preprocesses every pixel of it on each update (as `mnistq classify` would a PNG of it), so fewer is faster.
function clearPad() {
  padContext.fillStyle = "#000";
  padContext.fillRect(0, 0, pad.width, pad.height);
}
function classifyPad() {
  if (!runtime) return;
  const { data } = padContext.getImageData(0, 0, pad.width, pad.height);
  classifyRGBA(data, pad.width, pad.height);
}
let drawing = false, last = null, pending = false;
function point(event) {
  const box = pad.getBoundingClientRect();
  return { x: (event.clientX - box.left) * pad.width / box.width, y: (event.clientY - box.top) * pad.height / box.height };
}
function strokeTo(p) {
  padContext.strokeStyle = "#fff";
  padContext.lineWidth = 10;
  padContext.lineCap = padContext.lineJoin = "round";
  padContext.beginPath();
  padContext.moveTo(last.x, last.y);
  padContext.lineTo(p.x, p.y);
  padContext.stroke();
  last = p;
  if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; classifyPad(); }); }
}
pad.addEventListener("pointerdown", (event) => {
  drawing = true; last = point(event); pad.setPointerCapture?.(event.pointerId); strokeTo(point(event));
});
pad.addEventListener("pointermove", (event) => { if (drawing) strokeTo(point(event)); });
for (const type of ["pointerup", "pointercancel"]) pad.addEventListener(type, () => { if (drawing) { drawing = false; classifyPad(); } });
$("clear").addEventListener("click", () => { clearPad(); show(new Uint8Array(784), null); say("Draw a digit."); });

// ---- Image files: decoded by the browser without colour management (a PNG's pixels as stored), preprocessed in
// the module at full size (the preprocessing reduces large photos itself, as the command does).
async function classifyFile(file) {
  if (!runtime) return;
  if (file.size > maxFileBytes) return say(`${file.name}: ${(file.size / 1048576).toFixed(0)} MB is too large (limit 40 MB)`, true);
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch {
    return say(`${file.name}: not an image this browser can decode (JPEG, PNG, GIF, WebP, BMP)`, true);
  }
  if (bitmap.width * bitmap.height > maxPixels) {
    return say(`${file.name}: ${bitmap.width}×${bitmap.height} is too large (limit 16 megapixels)`, true);
  }
  const { width, height } = bitmap;
  const context = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  classifyRGBA(context.getImageData(0, 0, width, height).data, width, height);
  document.body.dataset.file = file.name;
}
$("file").addEventListener("change", () => { if ($("file").files[0]) classifyFile($("file").files[0]); });
$("drop").addEventListener("dragover", (event) => { event.preventDefault(); $("drop").classList.add("over"); });
$("drop").addEventListener("dragleave", () => $("drop").classList.remove("over"));
$("drop").addEventListener("drop", (event) => {
  event.preventDefault();
  $("drop").classList.remove("over");
  const file = event.dataTransfer.files[0];
  if (file) classifyFile(file); else say("Drop an image file (nothing usable was dropped)", true);
});

// ---- Self-test (tools/test-wasm): ?selftest=7 draws strokes of a 7 through the pad's own pointer handlers.
const strokes = {
  7: [[[60, 60], [220, 60]], [[220, 60], [180, 140], [140, 230]]],
  1: [[[140, 40], [140, 240]]],
};
function drawSelfTest(digit) {
  const box = pad.getBoundingClientRect();
  const fire = (type, [x, y]) => pad.dispatchEvent(new PointerEvent(type, {
    bubbles: true, pointerId: 1, clientX: box.left + x * box.width / 280, clientY: box.top + y * box.height / 280, // 280 × 280 units
  }));
  for (const stroke of strokes[digit]) {
    fire("pointerdown", stroke[0]);
    for (let i = 1; i < stroke.length; i++) {
      for (let t = 1; t <= 8; t++) {
        const [ax, ay] = stroke[i - 1], [bx, by] = stroke[i];
        fire("pointermove", [ax + (bx - ax) * t / 8, ay + (by - ay) * t / 8]);
      }
    }
    fire("pointerup", stroke[stroke.length - 1]);
  }
}

// ---- Start: the runtime and the model in parallel.
async function start() {
  clearPad();
  show(new Uint8Array(784), null);
  // Default: the sample model as the in-place image tools/build-wasm writes beside the module (checked where it is
  // copied, no inflating at page load); ?model=URL loads any .mnq8 or .mnqi (a packed file is unpacked first).
  const modelURL = params.get("model") ?? "mnistq-int8.mnqi";
  const [wasm, model] = await Promise.all([
    fetch("mnistq.wasm").then((r) => { if (!r.ok) throw new Error(`mnistq.wasm: HTTP ${r.status} (run tools/build-wasm first)`); return r.arrayBuffer(); }),
    fetch(modelURL).then((r) => { if (!r.ok) throw new Error(`${modelURL}: HTTP ${r.status}${params.has("model") ? "" : " (run tools/build-wasm first)"}`); return r.arrayBuffer(); }),
  ]);
  document.body.dataset.fetchedMs = performance.now().toFixed(1);
  const loaded = await MnistqRuntime.create(wasm);
  document.body.dataset.instantiatedMs = performance.now().toFixed(1);
  try {
    loaded.loadModel(new Uint8Array(model));
  } catch (error) {
    document.body.dataset.state = "model-error";
    return say(`Cannot use ${modelURL}: ${error.message}`, true);
  }
  runtime = loaded;
  document.body.dataset.state = "ready";
  document.body.dataset.readyMs = performance.now().toFixed(1);
  $("info").textContent = `Runtime ${runtime.cString(runtime.x.mnistq_version())}, kernels: ${runtime.kernelName}, model ${(model.byteLength / 1024).toFixed(0)} KB.`;
  say("Draw a digit.");
  const selfTest = params.get("selftest");
  if (selfTest && strokes[selfTest]) drawSelfTest(selfTest);
}
start().catch((error) => { document.body.dataset.state = "error"; say(`Error: ${error.message}`, true); });
