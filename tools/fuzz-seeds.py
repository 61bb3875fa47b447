#!/usr/bin/env python3
"""Seed inputs for the fuzz targets (tools/fuzz), made from nothing but the standard library.

  fuzz-seeds.py payload MODEL.mnq8 DIR   the sample model's inflated payload (packed form, input byte 0 = 0) for
                                         the model-payload target; tools/fuzz runs this on every fuzz run
  fuzz-seeds.py commit ROOT              (re)writes the small committed seeds in ROOT/Tests/Fuzz/Seeds/

The committed seeds are deterministic: running `commit` again gives the same bytes.
"""
import gzip
import os
import struct
import sys
import zlib

HEADER_LENGTH = 20  # packed model header: magic, version, flags, header length, payload length, compressed length


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def payload_seeds(model_path, directory):
    data = open(model_path, "rb").read()
    compressed_length = struct.unpack_from("<I", data, 16)[0]
    payload = zlib.decompress(data[HEADER_LENGTH:HEADER_LENGTH + compressed_length])
    write(directory, "sample-payload", b"\x00" + payload)
    write(directory, "sample-payload-reference", b"\x02" + payload)


def digit(size=28):
    """A plain '1'-like stroke on black, size×size, 0 = background."""
    pixels = bytearray(size * size)
    for y in range(size // 5, size - size // 5):
        for x in range(size // 2 - 2, size // 2 + 2):
            pixels[y * size + x] = 255
    return bytes(pixels)


def png(width, height, color_type, bit_depth, rows, interlace=0, palette=None, filters=(0,)):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(bytes([filters[i % len(filters)]]) + row for i, row in enumerate(rows))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace))
    if palette is not None:
        out += chunk(b"PLTE", palette)
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def idx_images(count, rows, columns):
    return struct.pack(">IIII", 0x803, count, rows, columns) + digit(rows) * count


def commit_seeds(root):
    seeds = os.path.join(root, "Tests", "Fuzz", "Seeds")
    pixels = digit()
    rows8 = [pixels[y * 28:(y + 1) * 28] for y in range(28)]

    image = os.path.join(seeds, "image")
    write(image, "gray8.png", png(28, 28, 0, 8, rows8))
    write(image, "gray8-filters.png", png(28, 28, 0, 8, rows8, filters=(0, 1, 2, 3, 4)))
    write(image, "gray8-interlaced.png", png(28, 28, 0, 8, rows8, interlace=1))
    write(image, "gray1.png", png(16, 16, 0, 1, [bytes([0xF0, 0x0F])] * 16))
    write(image, "gray16.png", png(8, 8, 0, 16, [bytes(range(16))] * 8, filters=(1,)))
    write(image, "rgb8.png", png(8, 8, 2, 8, [bytes(range(24))] * 8, filters=(4,)))
    write(image, "rgba8.png", png(8, 8, 6, 8, [bytes(range(32))] * 8, filters=(3,)))
    write(image, "graya8.png", png(8, 8, 4, 8, [bytes(range(16))] * 8, filters=(2,)))
    write(image, "palette4.png", png(8, 8, 3, 4, [bytes([0x01, 0x23, 0x45, 0x67])] * 8,
                                     palette=bytes(range(0, 48))))
    write(image, "pgm8.pgm", b"P5\n# seed\n28 28\n255\n" + pixels)
    write(image, "pgm16.pgm", b"P5 4 4 65535\n" + bytes(range(32)))
    write(image, "raw.raw", pixels)
    write(image, "idx-3.idx", idx_images(3, 28, 28))
    write(image, "idx-3.idx.gz", gzip.compress(idx_images(3, 28, 28), mtime=0))
    write(image, "labels.idx", struct.pack(">II", 0x801, 4) + bytes([0, 1, 2, 9]))

    idx = os.path.join(seeds, "idx-gzip")
    write(idx, "images.idx", idx_images(2, 28, 28))
    write(idx, "images.idx.gz", gzip.compress(idx_images(2, 28, 28), mtime=0))
    write(idx, "two-members.gz", gzip.compress(idx_images(1, 28, 28)[:100], mtime=0)
          + gzip.compress(idx_images(1, 28, 28)[100:], mtime=0))
    write(idx, "labels.idx", struct.pack(">II", 0x801, 5) + bytes([3, 1, 4, 1, 5]))
    write(idx, "labels.idx.gz", gzip.compress(struct.pack(">II", 0x801, 5) + bytes([3, 1, 4, 1, 5]), mtime=0))

    inflate = os.path.join(seeds, "inflate")
    text = b"mnistq " * 40 + bytes(range(256))
    for level in (0, 1, 6, 9):
        write(inflate, "level%d" % level, zlib.compress(text, level))
    for wbits in (9, 12):
        c = zlib.compressobj(9, zlib.DEFLATED, wbits)
        write(inflate, "window%d" % wbits, c.compress(text) + c.flush())
    c = zlib.compressobj(6, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    write(inflate, "huffman-only", c.compress(text) + c.flush())
    c = zlib.compressobj(6, zlib.DEFLATED, 15, 9, zlib.Z_FIXED)
    write(inflate, "fixed", c.compress(text) + c.flush())
    c = zlib.compressobj(6, zlib.DEFLATED, 15)
    write(inflate, "two-blocks", c.compress(text[:200]) + c.flush(zlib.Z_FULL_FLUSH) + c.compress(text[200:]) + c.flush())
    write(inflate, "empty", zlib.compress(b""))
    write(inflate, "run", zlib.compress(b"\x00" * 3000, 9))

    jpeg = os.path.join(seeds, "jpeg")
    for d in (0, 3, 7):
        data = open(os.path.join(root, "samples", "digits", str(d), "photo-%d.jpg" % d), "rb").read()
        write(jpeg, "photo-%d" % d, b"\x00" + data)
        write(jpeg, "photo-%d-reduced" % d, b"\x01" + data)

    model = os.path.join(seeds, "model-file")
    packed = open(os.path.join(root, "samples", "mnistq-int8.mnq8"), "rb").read()
    write(model, "header-only", packed[:HEADER_LENGTH])
    write(model, "truncated", packed[:64])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "payload":
        payload_seeds(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "commit":
        commit_seeds(sys.argv[2])
    else:
        sys.exit(__doc__)
