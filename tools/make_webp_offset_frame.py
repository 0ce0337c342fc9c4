#!/usr/bin/python3
"""Write an animated WebP whose first frame is smaller than the canvas and sits at an offset, beside PIL 9.4's
Image.open(..).convert("RGB") of it saved as PNG (src/test/resources/webp/offset_first_frame_96x64.*).

libwebp's own encoders always emit a full-canvas first frame, so the RIFF is assembled here: VP8X (alpha +
animation), ANIM (opaque white background, which PIL ignores: it composites onto transparent black), a 40x30 red
frame at (20, 10) and a full-canvas green one, each a lossless VP8L bitstream from PIL.
Usage: /usr/bin/python3 tools/make_webp_offset_frame.py [--out DIR]   (default: src/test/resources/webp)
"""
import argparse
import io
import os
import struct

from PIL import Image

WIDTH, HEIGHT = 96, 64


def chunk(tag, payload):
    return tag + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def u24(value):
    return struct.pack("<I", value)[:3]


def vp8l_chunk(image):
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", lossless=True)
    data = buffer.getvalue()
    assert data[12:16] == b"VP8L", "PIL wrote " + repr(data[12:16])
    size = struct.unpack("<I", data[16:20])[0]
    return data[12:20 + size + (size & 1)]


def frame(x, y, image, duration_ms=100):
    # ANMF: offset / 2, size - 1, duration, flags (0: alpha-blend, no dispose), then the frame's bitstream chunk.
    return chunk(b"ANMF", u24(x // 2) + u24(y // 2) + u24(image.width - 1) + u24(image.height - 1)
                 + u24(duration_ms) + bytes([0]) + vp8l_chunk(image))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test",
                                                      "resources", "webp"))
    out = parser.parse_args().out
    vp8x = chunk(b"VP8X", bytes([0x10 | 0x02, 0, 0, 0]) + u24(WIDTH - 1) + u24(HEIGHT - 1))
    anim = chunk(b"ANIM", bytes([255, 255, 255, 255]) + struct.pack("<H", 0))  # BGRA background, loop forever
    body = (b"WEBP" + vp8x + anim + frame(20, 10, Image.new("RGB", (40, 30), (200, 30, 60)))
            + frame(0, 0, Image.new("RGB", (WIDTH, HEIGHT), (20, 180, 60))))
    data = b"RIFF" + struct.pack("<I", len(body)) + body
    name = os.path.join(out, f"offset_first_frame_{WIDTH}x{HEIGHT}")
    with open(name + ".webp", "wb") as f:
        f.write(data)
    Image.open(io.BytesIO(data)).convert("RGB").save(name + ".pil-rgb.png")
    print(name + ".webp", name + ".pil-rgb.png")


if __name__ == "__main__":
    main()
