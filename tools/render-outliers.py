#!/usr/bin/python3
"""Renders TRAINING outliers for `mnistq train --outlier-exposure`: letters and symbols, MNIST-style 28x28.

The same characters as the "not a digit" test set (tools/render-glyphs.py's GLYPHS: no digit look-alikes), but
drawn from other font families than that test set uses, so the test figure measures fonts the network never saw:
GNU FreeFont (fonts-freefont-ttf) and the URW base 35 (fonts-urw-base35), never DejaVu or Liberation. Each
(face, glyph) pair is drawn VARIANTS times with a seeded random size, stroke width, slant, aspect and rotation,
then normalised as MNIST (tools/render-glyphs.py's mnist_normalise). Output: one IDX image file (u8 [n, 28, 28]).

Usage: /usr/bin/python3 tools/render-outliers.py OUT.idx [--variants N] [--seed S]
(needs python3-pil, fonts-freefont-ttf, fonts-urw-base35; tools/install-deps installs them)
"""
import argparse, glob, importlib.util, math, os, random, struct, sys
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("render_glyphs", os.path.join(HERE, "render-glyphs.py"))
render_glyphs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_glyphs)

# Families disjoint from the test set's (DejaVu, Liberation). D050000L (dingbats) maps no letters.
FONT_GLOBS = ["/usr/share/fonts/truetype/freefont/*.ttf", "/usr/share/fonts/opentype/urw-base35/*.otf"]
SKIPPED_FACES = {"D050000L.otf"}
TEST_FAMILIES = ("dejavu", "liberation")
MISSING = "\U0010FFFD"  # a private-use code point no face draws: what a face's "missing glyph" box looks like


def faces():
    paths = sorted(p for g in FONT_GLOBS for p in glob.glob(g) if os.path.basename(p) not in SKIPPED_FACES)
    assert not any(f in p.lower() for p in paths for f in TEST_FAMILIES)
    return paths


def has_glyph(font, char):
    mask = font.getmask(char)
    if mask.getbbox() is None:
        return False
    missing = font.getmask(MISSING)
    return not (mask.size == missing.size and bytes(mask) == bytes(missing))


def render(char, path, rng):
    size = rng.randint(22, 64)
    font = ImageFont.truetype(path, size)
    if not has_glyph(font, char):
        return None
    stroke = rng.choice([0, 0, 1, 2, 3]) if size >= 36 else rng.choice([0, 0, 1])
    canvas = Image.new("L", (size * 3, size * 3), 0)
    ImageDraw.Draw(canvas).text((size, size // 2), char, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    # Slant and aspect (an affine map), then a small rotation: handwriting-like variety the faces lack.
    shear, aspect = rng.uniform(-0.3, 0.3), rng.uniform(0.75, 1.3)
    w, h = canvas.size
    canvas = canvas.transform((w, h), Image.AFFINE, (aspect, shear, -shear * h / 2 + (1 - aspect) * w / 2, 0, 1, 0),
                              resample=Image.BILINEAR)
    canvas = canvas.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)
    return render_glyphs.mnist_normalise(canvas)


def main():
    parser = argparse.ArgumentParser(description="Renders training outliers (letters/symbols) as an IDX file.")
    parser.add_argument("out")
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = faces()
    if len(paths) < 10:
        sys.exit("render-outliers.py: fewer than 10 faces found; run tools/install-deps (fonts-freefont-ttf, fonts-urw-base35)")
    rng = random.Random(args.seed)
    images = bytearray()
    count = 0
    for char in render_glyphs.GLYPHS:
        for path in paths:
            for _ in range(args.variants):
                frame = render(char, path, rng)
                if frame is not None:
                    images += frame.tobytes()
                    count += 1
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28) + images)
    os.replace(tmp, args.out)
    print(f"{count} images of {len(render_glyphs.GLYPHS)} glyphs in {len(paths)} faces", file=sys.stderr)


if __name__ == "__main__":
    main()
