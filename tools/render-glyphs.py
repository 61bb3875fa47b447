#!/usr/bin/python3
"""Renders letters and symbols as MNIST-style 28x28 images: the "not a digit" test set of the OOD score.

Each glyph is drawn white on black from the Debian fonts (fonts-dejavu-core, fonts-liberation) in several faces,
sizes and stroke widths, then normalised the way MNIST's digits were: the ink's bounding box scaled (aspect kept)
to fit 20x20, placed in a 28x28 frame with its centre of mass at the centre. Output: two IDX files (images
u8 [n, 28, 28], labels u8 [n] = index into GLYPHS) and a glyphs.txt listing GLYPHS in label order.

Usage: /usr/bin/python3 tools/render-glyphs.py OUT_DIR        (needs python3-pil; tools/install-deps installs it)

Excluded glyphs, because in handwriting they ARE digits (a reader could not tell them apart either):
O o (0), I l | (1), Z z (2), S s (5), B (8), g q (9), b (6). Everything else of A-Z, a-z, ASCII punctuation and a
set of math symbols is rendered.
"""
import os, struct, sys
from PIL import Image, ImageDraw, ImageFont

EXCLUDED = set("OoIl|ZzSsBgqb")
MATH = "+−×÷=≠<>≤≥±∑∏∫√∞≈∂∆πλμΩαβγθ"
GLYPHS = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + "!\"#$%&'()*,-./:;?@[\\]^_`{}~" + MATH
          if c not in EXCLUDED]
FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"]
FACES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Oblique.ttf",
         "LiberationSans-Regular.ttf", "LiberationSerif-Regular.ttf", "LiberationSerif-Italic.ttf",
         "LiberationMono-Bold.ttf", "LiberationSansNarrow-Regular.ttf"]
# (font size in px, stroke width in px): small sizes with thin strokes, large ones with thick strokes.
SIZES = [(24, 0), (40, 1), (64, 3)]


def font_paths():
    found = []
    for face in FACES:
        for directory in FONT_DIRS:
            path = os.path.join(directory, face)
            if os.path.exists(path):
                found.append(path)
                break
    return found


def mnist_normalise(image):
    """The ink of a white-on-black grayscale image, fitted in 20x20 and centred by mass in 28x28 (as MNIST)."""
    box = image.getbbox()
    if box is None:
        return None
    ink = image.crop(box)
    w, h = ink.size
    scale = 20.0 / max(w, h)
    ink = ink.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    pixels = list(ink.getdata())
    total = sum(pixels)
    if total == 0:
        return None
    w, h = ink.size
    cx = sum(v * (i % w) for i, v in enumerate(pixels)) / total
    cy = sum(v * (i // w) for i, v in enumerate(pixels)) / total
    frame = Image.new("L", (28, 28), 0)
    frame.paste(ink, (round(14 - cx - 0.5), round(14 - cy - 0.5)))
    return frame


def render(char, path, size, stroke):
    font = ImageFont.truetype(path, size)
    canvas = Image.new("L", (size * 3, size * 3), 0)
    draw = ImageDraw.Draw(canvas)
    if font.getmask(char).getbbox() is None:  # the face has no glyph for it
        return None
    draw.text((size, size // 2), char, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    return mnist_normalise(canvas)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: render-glyphs.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    paths = font_paths()
    if len(paths) < 4:
        sys.exit("render-glyphs.py: fewer than 4 of the fonts found; run tools/install-deps (fonts-dejavu-core, fonts-liberation)")
    images, labels = bytearray(), bytearray()
    for label, char in enumerate(GLYPHS):
        for path in paths:
            for size, stroke in SIZES:
                frame = render(char, path, size, stroke)
                if frame is not None:
                    images += frame.tobytes()
                    labels.append(label)
    count = len(labels)
    with open(os.path.join(out, "glyphs-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28) + images)
    with open(os.path.join(out, "glyphs-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + labels)
    with open(os.path.join(out, "glyphs.txt"), "w", encoding="utf-8") as f:
        f.write("".join(GLYPHS) + "\n")
    print(f"{count} images of {len(GLYPHS)} glyphs in {len(paths)} faces", file=sys.stderr)


if __name__ == "__main__":
    main()
