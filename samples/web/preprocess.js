// Canvas and photo → 28×28 MNIST-style pixels, in JavaScript: ink found against the background (border median),
// cropped to its bounding box, scaled to fit 20×20 (area average), placed so its centre of mass is at (14, 14).
// This is the page's stand-in for the preprocessing core that `mnistq classify` uses (MNISTQImage); once that core
// builds as a dependency-free module for Embedded Swift (branch `photos`), mnistq.wasm exports it and the page calls
// it instead, so that both preprocess byte for byte alike. Until then this is the one place they can differ.

/** Grayscale (0...255) of RGBA pixels: Rec. 601 luma, composited on white where transparent. */
export function grayFromRGBA(rgba, width, height) {
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const a = rgba[4 * i + 3] / 255;
    const luma = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
    gray[i] = Math.round(luma * a + 255 * (1 - a));
  }
  return gray;
}

function borderMedian(gray, width, height) {
  const histogram = new Uint32Array(256);
  let count = 0;
  for (let x = 0; x < width; x++) { histogram[gray[x]]++; histogram[gray[(height - 1) * width + x]]++; count += 2; }
  for (let y = 1; y < height - 1; y++) { histogram[gray[y * width]]++; histogram[gray[y * width + width - 1]]++; count += 2; }
  let seen = 0;
  for (let v = 0; v < 256; v++) { seen += histogram[v]; if (seen * 2 >= count) return v; }
  return 255;
}

/**
 * 784 MNIST-style pixels (0 = background) from a grayscale image, or throws an Error whose message says what is
 * wrong (no ink). Light or dark backgrounds both work: ink is the difference from the border's median.
 */
export function mnistStyle(gray, width, height) {
  const background = borderMedian(gray, width, height);
  const ink = new Float32Array(width * height);
  let strongest = 0;
  for (let i = 0; i < ink.length; i++) {
    const v = background >= 128 ? background - gray[i] : gray[i] - background;
    ink[i] = v > 0 ? v : 0;
    if (ink[i] > strongest) strongest = ink[i];
  }
  if (strongest < 24) throw new Error("no digit found: the image is empty or has no contrast");
  const noise = 0.08 * strongest;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      ink[i] = ink[i] > noise ? (ink[i] - noise) * 255 / (strongest - noise) : 0;
      if (ink[i] > 0) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
    }
  }
  const boxWidth = x1 - x0 + 1, boxHeight = y1 - y0 + 1;
  const scale = 20 / Math.max(boxWidth, boxHeight);
  const outWidth = Math.max(1, Math.round(boxWidth * scale)), outHeight = Math.max(1, Math.round(boxHeight * scale));
  // Area-average downscale (or nearest for upscaling) of the box into outWidth × outHeight.
  const small = new Float32Array(outWidth * outHeight);
  for (let oy = 0; oy < outHeight; oy++) {
    const sy0 = y0 + oy / scale, sy1 = y0 + (oy + 1) / scale;
    for (let ox = 0; ox < outWidth; ox++) {
      const sx0 = x0 + ox / scale, sx1 = x0 + (ox + 1) / scale;
      let sum = 0, area = 0;
      for (let y = Math.floor(sy0); y < Math.min(Math.ceil(sy1), y1 + 1); y++) {
        const wy = Math.min(y + 1, sy1) - Math.max(y, sy0);
        for (let x = Math.floor(sx0); x < Math.min(Math.ceil(sx1), x1 + 1); x++) {
          const wx = Math.min(x + 1, sx1) - Math.max(x, sx0);
          sum += ink[y * width + x] * wx * wy; area += wx * wy;
        }
      }
      small[oy * outWidth + ox] = area > 0 ? sum / area : 0;
    }
  }
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < outHeight; y++) for (let x = 0; x < outWidth; x++) {
    const v = small[y * outWidth + x]; mass += v; mx += v * x; my += v * y;
  }
  const dx = Math.round(14 - (mass > 0 ? mx / mass : outWidth / 2)), dy = Math.round(14 - (mass > 0 ? my / mass : outHeight / 2));
  const pixels = new Uint8Array(784);
  for (let y = 0; y < outHeight; y++) for (let x = 0; x < outWidth; x++) {
    const tx = x + dx, ty = y + dy;
    if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) pixels[ty * 28 + tx] = Math.min(255, Math.round(small[y * outWidth + x]));
  }
  return pixels;
}
