// The mnistq WebAssembly runtime from JavaScript: load a model file, classify 28×28 pixels. Works in browsers and in
// node (>= 18) alike; no dependencies. The module (tools/build-wasm) exports include/mnistq.h's C API, so this file
// only moves bytes in and out of its linear memory.
export class MnistqRuntime {
  /** Instantiates mnistq.wasm from its bytes (no imports). */
  static async create(wasmBytes) {
    const { instance } = await WebAssembly.instantiate(wasmBytes, {});
    return new MnistqRuntime(instance.exports);
  }

  constructor(exports) {
    this.x = exports;
    this.arenaSize = exports.mnistq_arena_size();
    this.arena = this.alloc(this.arenaSize);
    this.pixels = this.alloc(784 * 64);
    this.scores = this.alloc(4 * 10 * 64);
    this.oodScore = this.alloc(4); // mnistq_classify_ood's output, allocated once (classify runs per drawn stroke)
    this.handle = this.alloc(32);
    this.trial = this.alloc(32); // a model being loaded: the loaded one stays usable if the new file is bad
    this.image = 0;
    this.loaded = false;
  }

  alloc(bytes) {
    const pointer = this.x.mnq_alloc(bytes);
    if (!pointer) throw new Error(`mnistq.wasm: out of memory allocating ${bytes} bytes`);
    return pointer;
  }
  get bytes() { return new Uint8Array(this.x.memory.buffer); }
  cString(pointer) {
    const bytes = this.bytes;
    let end = pointer;
    while (bytes[end]) end++;
    return new TextDecoder().decode(bytes.subarray(pointer, end));
  }
  statusError(status, what) {
    return new Error(`${what}: ${this.x.mnistq_status_message(status) ? this.cString(this.x.mnistq_status_message(status)) : status}`);
  }

  /**
   * Loads a model file: an in-place image (`mnistq export --flash`, or the `mnistq-int8.mnqi` tools/build-wasm writes)
   * is checked where it is copied, with no inflating; a packed .mnq8 is unpacked by the runtime first. Throws the
   * runtime's own error text when the file is bad.
   */
  loadModel(fileBytes) {
    const file = this.alloc(Math.max(1, fileBytes.length));
    const lengthOut = this.alloc(4);
    try {
      this.bytes.set(fileBytes, file);
      let status = this.x.mnistq_model_init(this.trial, file, fileBytes.length);
      if (status === 0) return this.adopt(file, () => {});
      if (status !== 15) throw this.statusError(status, "model"); // 15: MNISTQ_NOT_IN_PLACE, a packed file
      status = this.x.mnistq_unpacked_size(file, fileBytes.length, lengthOut);
      if (status !== 0) throw this.statusError(status, "model");
      const imageLength = new Uint32Array(this.x.memory.buffer, lengthOut, 1)[0];
      const image = this.alloc(imageLength);
      status = this.x.mnistq_unpack(file, fileBytes.length, image, imageLength);
      if (status === 0) status = this.x.mnistq_model_init(this.trial, image, imageLength);
      if (status !== 0) {
        this.x.mnq_free(image);
        throw this.statusError(status, "model");
      }
      this.adopt(image, () => this.x.mnq_free(file));
    } catch (error) {
      this.x.mnq_free(file);
      throw error;
    } finally {
      this.x.mnq_free(lengthOut);
    }
  }

  /** A packed .mnq8 file as an in-place image (a copy), or throws the runtime's error text. */
  unpack(fileBytes) {
    const file = this.alloc(Math.max(1, fileBytes.length)), lengthOut = this.alloc(4);
    try {
      this.bytes.set(fileBytes, file);
      let status = this.x.mnistq_unpacked_size(file, fileBytes.length, lengthOut);
      if (status !== 0) throw this.statusError(status, "model");
      const imageLength = new Uint32Array(this.x.memory.buffer, lengthOut, 1)[0];
      const image = this.alloc(imageLength);
      status = this.x.mnistq_unpack(file, fileBytes.length, image, imageLength);
      const copy = this.bytes.slice(image, image + imageLength);
      this.x.mnq_free(image);
      if (status !== 0) throw this.statusError(status, "model");
      return copy;
    } finally {
      this.x.mnq_free(lengthOut);
      this.x.mnq_free(file);
    }
  }

  /** The trial handle holds the model whose image is at `image`: make it current, free the previous image. */
  adopt(image, done) {
    [this.handle, this.trial] = [this.trial, this.handle];
    if (this.image && this.image !== image) this.x.mnq_free(this.image);
    this.image = image;
    this.loaded = true;
    this.scoreScale = this.x.mnistq_score_scale(this.handle);
    this.kernelName = this.cString(this.x.mnistq_kernel_name(this.handle));
    // "Not a digit": the model's out-of-distribution defaults, when it carries the section (null otherwise).
    this.ood = null;
    if (this.x.mnistq_ood_defaults) {
      const out = this.alloc(8);
      try {
        const status = this.x.mnistq_ood_defaults(this.handle, out, out + 4);
        if (status === 0) {
          this.ood = { threshold: new Int32Array(this.x.memory.buffer, out, 1)[0],
                       minConfidence: new Float32Array(this.x.memory.buffer, out + 4, 1)[0] };
        } else if (status !== 19) { // 19: MNISTQ_ERROR_NO_OOD, a model quantized without the section
          throw this.statusError(status, "model");
        }
      } finally {
        this.x.mnq_free(out);
      }
    }
    done();
  }

  /** Scores of `count` (1...64) images of 784 bytes each, back to back: Int32Array(count × 10), a copy. */
  classifyScores(pixels, count = 1) {
    if (!this.loaded) throw new Error("no model loaded");
    if (count < 1 || count > 64 || pixels.length < count * 784) throw new Error(`classify: need ${count} × 784 pixels`);
    this.bytes.set(pixels.subarray(0, count * 784), this.pixels);
    const status = count === 1
      ? this.x.mnistq_classify(this.handle, this.pixels, this.arena, this.arenaSize, this.scores, 0)
      : this.x.mnistq_classify_batch(this.handle, this.pixels, count, this.arena, this.arenaSize, this.scores, 0);
    if (status !== 0) throw this.statusError(status, "classify");
    return new Int32Array(this.x.memory.buffer.slice(this.scores, this.scores + 40 * count));
  }

  /**
   * The 784 pixels the model sees for a width × height image of RGBA (channels 4: a canvas's getImageData, a decoded
   * photo) or gray (channels 1) pixels: MNISTQPreprocess in the module, as `mnistq classify` preprocesses. Throws
   * when no digit stands out (a blank image) or the image is unusable.
   */
  preprocess(pixels, width, height, channels = 4) {
    if (!this.x.mnq_preprocess) throw new Error("this mnistq.wasm has no preprocessing (rebuild it with tools/build-wasm)");
    const input = this.alloc(Math.max(1, width * height * channels)), out = this.alloc(784);
    try {
      this.bytes.set(pixels.subarray(0, width * height * channels), input);
      const status = this.x.mnq_preprocess(input, width, height, channels, out);
      if (status === 1) throw new Error("no digit found: nothing stands out from the background");
      if (status !== 0) throw new Error(`cannot preprocess a ${width}×${height} image`);
      return this.bytes.slice(out, out + 784);
    } finally {
      this.x.mnq_free(out);
      this.x.mnq_free(input);
    }
  }

  /**
   * One image: the digit (lowest on a tie), the ten scores, the softmax of score × scoreScale and, for a model with an
   * out-of-distribution section, its score and whether the image is "not a digit" by the model's defaults (as
   * `mnistq classify` reports `unsure`: confidence below the minimum, or the score above the threshold).
   */
  classify(pixels) {
    let scores, oodScore = null;
    if (this.ood) {
      if (!this.loaded) throw new Error("no model loaded");
      if (pixels.length < 784) throw new Error("classify: need 784 pixels");
      this.bytes.set(pixels.subarray(0, 784), this.pixels);
      const status = this.x.mnistq_classify_ood(this.handle, this.pixels, this.arena, this.arenaSize, this.scores, 0,
                                                this.oodScore);
      if (status !== 0) throw this.statusError(status, "classify");
      oodScore = new Int32Array(this.x.memory.buffer, this.oodScore, 1)[0];
      scores = new Int32Array(this.x.memory.buffer.slice(this.scores, this.scores + 40));
    } else {
      scores = this.classifyScores(pixels, 1);
    }
    let digit = 0;
    for (let d = 1; d < 10; d++) if (scores[d] > scores[digit]) digit = d;
    const exps = Array.from(scores, (s) => Math.exp((s - scores[digit]) * this.scoreScale));
    const sum = exps.reduce((a, b) => a + b, 0);
    const probabilities = exps.map((e) => e / sum);
    const notADigit = this.ood ? probabilities[digit] < this.ood.minConfidence || oodScore > this.ood.threshold : null;
    return { digit, scores, probabilities, oodScore, notADigit };
  }
}
