#!/usr/bin/env python3
"""png_check: is FILE a well-formed PNG that shows something?

Usage: tests/png_check.py FILE [MIN_W MIN_H]

Checks the signature, every chunk's CRC, IHDR (8-bit gray, RGB or RGBA, no interlace, at
least MIN_W x MIN_H pixels, default 64 x 64), the IDAT stream (inflates to exactly the
scanlines IHDR announces, filters 0-4 undone), IEND last, and that the image is not blank:
at least 0.5 % of its pixels differ from the most common colour (the background) and it
has at least 3 colours. Prints one line "png_check: FILE: W x H, N colours, P % drawn" and
exits 0, or names what is wrong and exits 1.
"""
import struct
import sys
import zlib

SIG = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 6: 4}   # gray, RGB, RGBA (8 bit)


def fail(path, why):
    print(f"png_check: {path}: {why}")
    sys.exit(1)


def unfilter(raw, w, h, bpp, path):
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        fail(path, f"image data inflates to {len(raw)} bytes, IHDR needs {h * (stride + 1)}")
    out = bytearray(h * stride)
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f > 4:
            fail(path, f"scanline {y} has filter type {f} (0-4 allowed)")
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return out


def main():
    if len(sys.argv) not in (2, 4):
        print(__doc__.strip().splitlines()[2])
        sys.exit(2)
    path = sys.argv[1]
    min_w, min_h = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) == 4 else (64, 64)
    try:
        data = open(path, "rb").read()
    except OSError as e:
        fail(path, f"cannot read: {e.strerror}")
    if not data.startswith(SIG):
        fail(path, "no PNG signature")
    pos, chunks = len(SIG), []
    while pos < len(data):
        if pos + 12 > len(data):
            fail(path, f"truncated chunk at byte {pos}")
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if len(body) != n or pos + 12 + n > len(data):
            fail(path, f"chunk {kind!r} at byte {pos} runs past the end")
        crc = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            fail(path, f"chunk {kind!r} at byte {pos}: CRC mismatch")
        chunks.append((kind, body))
        pos += 12 + n
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        fail(path, "IHDR must come first and IEND last")
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if depth != 8 or ctype not in CHANNELS or interlace:
        fail(path, f"bit depth {depth}, colour type {ctype}, interlace {interlace}: expected 8-bit gray/RGB/RGBA, no interlace")
    if w < min_w or h < min_h:
        fail(path, f"{w} x {h} pixels, smaller than {min_w} x {min_h}")
    bpp = CHANNELS[ctype]
    try:
        raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    except zlib.error as e:
        fail(path, f"image data does not inflate: {e}")
    px = unfilter(raw, w, h, bpp, path)
    counts = {}
    for i in range(0, len(px), bpp):
        key = bytes(px[i:i + bpp])
        counts[key] = counts.get(key, 0) + 1
    bg = max(counts.values())
    drawn = 100.0 * (w * h - bg) / (w * h)
    if len(counts) < 3 or drawn < 0.5:
        fail(path, f"blank: {len(counts)} colours, {drawn:.2f} % of the pixels off the background")
    print(f"png_check: {path}: {w} x {h}, {len(counts)} colours, {drawn:.1f} % drawn")


if __name__ == "__main__":
    main()
