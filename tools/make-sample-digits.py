#!/usr/bin/env python3
"""Draws the sample digit images in samples/digits/<label>/ (synthetic pen strokes, no data set involved).

Each digit is a few hand-placed strokes rendered with an anti-aliased round pen, in three looks: dark ink on
light paper with a shading gradient and noise (JPEG, like a phone photo), light on dark (PNG), and a small
binary PGM. Re-run to regenerate: python3 tools/make-sample-digits.py (needs cjpeg from libjpeg-turbo-progs).
"""
import math, os, random, struct, subprocess, zlib

def arc(cx, cy, rx, ry, a0, a1, n=24):
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * i / n)),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * i / n))) for i in range(n + 1)]

# Strokes in a unit box, y pointing down.
DIGITS = {
    0: [arc(0.5, 0.5, 0.28, 0.42, 0, 360, 40)],
    1: [[(0.38, 0.22), (0.56, 0.08), (0.56, 0.92)]],
    2: [arc(0.5, 0.3, 0.28, 0.22, 190, 380) + [(0.2, 0.92), (0.84, 0.92)]],
    3: [arc(0.48, 0.28, 0.26, 0.2, 200, 450) + arc(0.48, 0.69, 0.3, 0.23, 270, 500)],
    4: [[(0.66, 0.92), (0.66, 0.08), (0.14, 0.64), (0.86, 0.64)]],
    5: [[(0.8, 0.08), (0.3, 0.08), (0.26, 0.44)] + arc(0.48, 0.65, 0.3, 0.26, 225, 480)],
    6: [[(0.7, 0.08), (0.4, 0.34)] + arc(0.5, 0.68, 0.26, 0.24, 200, 560)],
    7: [[(0.16, 0.1), (0.84, 0.1), (0.42, 0.92)]],
    8: [arc(0.5, 0.29, 0.2, 0.2, 0, 360, 32), arc(0.5, 0.7, 0.25, 0.22, 0, 360, 32)],
    9: [arc(0.5, 0.32, 0.24, 0.22, 0, 360, 32), [(0.74, 0.32), (0.64, 0.92)]],
}

def render(strokes, w, h, pen, rng, jitter, slant):
    """Returns ink coverage 0..1 per pixel (row-major) for the strokes placed in a w×h canvas."""
    box = min(w, h) * 0.62
    ox, oy = (w - box * 0.8) / 2, (h - box) / 2
    segs = []
    for s in strokes:
        pts = [(ox + (x + slant * (0.5 - y) + rng.uniform(-jitter, jitter)) * box * 0.8,
                oy + (y + rng.uniform(-jitter, jitter)) * box) for x, y in s]
        segs += list(zip(pts, pts[1:]))
    ink = [0.0] * (w * h)
    for (x0, y0), (x1, y1) in segs:
        dx, dy = x1 - x0, y1 - y0
        ll = dx * dx + dy * dy or 1e-9
        for y in range(max(0, int(min(y0, y1) - pen - 2)), min(h, int(max(y0, y1) + pen + 2))):
            for x in range(max(0, int(min(x0, x1) - pen - 2)), min(w, int(max(x0, x1) + pen + 2))):
                t = max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / ll))
                d = math.hypot(x - (x0 + t * dx), y - (y0 + t * dy))
                c = max(0.0, min(1.0, pen - d + 0.5))
                if c > ink[y * w + x]:
                    ink[y * w + x] = c
    return ink

def write_pgm(path, w, h, px):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (w, h) + bytes(px))

def write_png(path, w, h, px):
    raw = b"".join(b"\x00" + bytes(px[y * w:(y + 1) * w]) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "digits")
    rng = random.Random(2026)
    for d, strokes in DIGITS.items():
        folder = os.path.join(root, str(d))
        os.makedirs(folder, exist_ok=True)
        # Photo-like: dark ink on shaded paper, JPEG.
        w, h = 96, 120
        ink = render(strokes, w, h, 4.5, rng, 0.02, 0.15)
        px = []
        for y in range(h):
            for x in range(w):
                paper = 225 - 25 * (x / w) - 15 * (y / h) + rng.uniform(-6, 6)
                px.append(int(max(0, min(255, paper * (1 - ink[y * w + x]) + 40 * ink[y * w + x]))))
        pgm = os.path.join(folder, "photo.pgm")
        write_pgm(pgm, w, h, px)
        subprocess.run(["cjpeg", "-quality", "88", "-outfile", os.path.join(folder, f"photo-{d}.jpg"), pgm], check=True)
        os.remove(pgm)
        # Scan-like: light on dark, PNG, thinner pen, no slant.
        w, h = 64, 64
        ink = render(strokes, w, h, 2.6, rng, 0.015, 0.0)
        write_png(os.path.join(folder, f"scan-{d}.png"), w, h, [int(255 * c) for c in ink])
        # Tiny binary PGM.
        w, h = 40, 48
        ink = render(strokes, w, h, 2.0, rng, 0.01, 0.1)
        write_pgm(os.path.join(folder, f"sketch-{d}.pgm"), w, h, [255 - int(230 * c) for c in ink])

if __name__ == "__main__":
    main()
