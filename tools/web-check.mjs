// Browser side of tools/test-wasm: drives headless chromium over the DevTools protocol (node's WebSocket; no
// puppeteer) on the demo page and prints one JSON line: the digit the page shows after drawing strokes of a 7 through
// its own pointer handlers, the time of that first prediction after page load (real time, not virtual), and the
// visible messages for a file that is not an image and for a blank image, and the model input the page made of each
// IMAGE given (picked through its file input). Saves a screenshot.
//   node --experimental-websocket tools/web-check.mjs URL SCREENSHOT.png SCRATCH_DIR [IMAGE…]
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";

const [url, screenshotPath, scratch, ...imageFiles] = process.argv.slice(2);
const browser = spawn("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
  "--remote-debugging-port=0", "--window-size=960,600", "about:blank"], { stdio: ["ignore", "ignore", "pipe"] });
const fail = (message) => { console.log(JSON.stringify({ error: message })); browser.kill(); process.exit(1); };
setTimeout(() => fail("timed out after 60 s"), 60000).unref();

const endpoint = await new Promise((resolve, reject) => {
  let text = "";
  browser.stderr.on("data", (chunk) => {
    text += chunk;
    const match = text.match(/DevTools listening on (ws:\/\/[^\s]+)/);
    if (match) resolve(match[1]);
  });
  browser.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${text.slice(-400)}`)));
}).catch((error) => fail(error.message));
const { port } = new URL(endpoint);
const pages = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const socket = new WebSocket(pages.find((p) => p.type === "page").webSocketDebuggerUrl);
await new Promise((resolve) => socket.addEventListener("open", resolve));
let nextId = 1;
const waiting = new Map();
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (message.id && waiting.has(message.id)) { waiting.get(message.id)(message); waiting.delete(message.id); }
});
const send = (method, params = {}) => new Promise((resolve, reject) => {
  const id = nextId++;
  waiting.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
  socket.send(JSON.stringify({ id, method, params }));
});
const evaluate = async (expression) => (await send("Runtime.evaluate", { expression, returnByValue: true })).result.value;
const waitFor = async (expression, what) => {
  for (let i = 0; i < 200; i++) {
    const value = await evaluate(expression);
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  fail(`the page never showed ${what}; message: ${await evaluate("document.getElementById('message')?.textContent")}`);
};

await send("Page.enable");
await send("Runtime.enable");
await send("Page.navigate", { url });
const prediction = await waitFor("document.body.dataset.prediction", "a prediction");
const result = {
  prediction: Number(prediction),
  shown: await evaluate("document.getElementById('digit').textContent"),
  first_prediction_ms: Number(await evaluate("document.body.dataset.firstPredictionMs")),
  fetched_ms: Number(await evaluate("document.body.dataset.fetchedMs")),
  instantiated_ms: Number(await evaluate("document.body.dataset.instantiatedMs")),
  ready_ms: Number(await evaluate("document.body.dataset.readyMs")),
  kernels: await evaluate("document.getElementById('info').textContent"),
  load_event_ms: Number(await evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd.toFixed(1)")),
};
const shot = await send("Page.captureScreenshot", { format: "png" });
writeFileSync(screenshotPath, Buffer.from(shot.data, "base64"));

// Bad input through the file picker: a text file, then a blank (white) BMP image.
const bmp = (width, height) => { // 24-bit, white
  const row = Math.ceil((width * 3) / 4) * 4, size = 54 + row * height, b = Buffer.alloc(size, 0xff);
  b.write("BM", 0); b.writeUInt32LE(size, 2); b.writeUInt32LE(0, 6); b.writeUInt32LE(54, 10); b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18); b.writeInt32LE(height, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(24, 28);
  b.writeUInt32LE(0, 30); b.writeUInt32LE(row * height, 34); b.fill(0, 38, 54);
  return b;
};
writeFileSync(`${scratch}/notes.txt`, "not an image\n");
writeFileSync(`${scratch}/blank.bmp`, bmp(40, 30));
const { root } = await send("DOM.getDocument");
const { nodeId } = await send("DOM.querySelector", { nodeId: root.nodeId, selector: "#file" });
const messageAfter = async (file) => {
  await evaluate("document.getElementById('message').textContent = ''");
  await send("DOM.setFileInputFiles", { nodeId, files: [file] });
  return waitFor("document.getElementById('message').className === 'error' && document.getElementById('message').textContent", `an error for ${file}`);
};
result.not_an_image = await messageAfter(`${scratch}/notes.txt`);
result.blank_image = await messageAfter(`${scratch}/blank.bmp`);
// Image files through the picker: the 28×28 input the page gave the model, as hex, for each (to compare with
// `mnistq classify --save-inputs`).
result.inputs = {};
for (const file of imageFiles) {
  const name = file.split("/").pop();
  await evaluate("document.body.dataset.file = ''");
  await send("DOM.setFileInputFiles", { nodeId, files: [file] });
  await waitFor(`document.body.dataset.file === ${JSON.stringify(name)}`, `the input of ${name}`);
  result.inputs[name] = await evaluate("document.body.dataset.input");
}
console.log(JSON.stringify(result));
socket.close();
browser.kill();
process.exit(0);
