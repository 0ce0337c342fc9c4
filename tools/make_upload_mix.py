#!/usr/bin/python3
"""Make the upload-mix benchmark fixtures from the committed golden photos (too large to commit, made at bench time).

Writes to OUT (default target/upload-mix):
  phone_4032x3024_q90.jpg   12 MP phone photo: quality 90, 4:2:0
  photo_1920x1080.jpg       1080p photo, quality 90, 4:2:0
  photo_512x512.jpg         small photo, quality 90, 4:2:0
  square_1024x1024.png      1 MP photo as PNG (8-bit RGB)
  square_1024x1024.webp     the same as lossy WebP (quality 80)
  screenshot_1920x1080.png  synthetic 1080p UI screenshot (flat colours, text, a photo thumbnail)

The photos are the golden ones (china.jpg, flower.jpg, grace_hopper.jpg) upscaled bicubic, plus seeded Gaussian grain
(sigma 4 levels) so that they carry the detail and noise of camera images: upscaled photos alone are smooth and decode
faster than real ones. Deterministic (fixed seed). Run with /usr/bin/python3 (PIL 9.4, numpy).
"""
import argparse
import os

import numpy as np
from PIL import Image, ImageDraw

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "images")


def photo(name, width, height, seed):
    """A golden photo cropped to the aspect ratio, upscaled bicubic to width x height, with grain."""
    im = Image.open(os.path.join(GOLDEN, name)).convert("RGB")
    w, h = im.size
    target = width / height
    if w / h > target:
        cw = int(h * target)
        im = im.crop(((w - cw) // 2, 0, (w - cw) // 2 + cw, h))
    else:
        ch = int(w / target)
        im = im.crop((0, (h - ch) // 2, w, (h - ch) // 2 + ch))
    im = im.resize((width, height), Image.BICUBIC)
    rng = np.random.default_rng(seed)
    a = np.asarray(im).astype(np.float32) + rng.normal(0, 4, (height, width, 3)).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))


def screenshot(width, height):
    im = Image.new("RGB", (width, height), (246, 247, 249))
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, width, 56), fill=(32, 33, 36))
    d.rectangle((0, 56, 260, height), fill=(255, 255, 255))
    for i in range(14):
        d.text((24, 80 + 36 * i), f"Menu item {i + 1}", fill=(60, 64, 67))
    d.text((24, 20), "clipguard - moderation dashboard", fill=(255, 255, 255))
    for row in range(6):
        y = 90 + row * 150
        d.rectangle((300, y, width - 40, y + 130), fill=(255, 255, 255), outline=(218, 220, 224))
        for line in range(5):
            d.text((470, y + 14 + 22 * line), f"upload-{row * 5 + line:04d}  llr {0.37 * (line - 2):+.3f}  "
                   f"probability 0.4{line}  label real  scored 2026-11-29T16:0{line}:00Z", fill=(32, 33, 36))
        thumb = photo(["china.jpg", "flower.jpg", "grace_hopper.jpg"][row % 3], 150, 110, row)
        im.paste(thumb, (310, y + 10))
    for x in range(300, width - 40):  # a gradient bar, as charts have
        d.line((x, height - 60, x, height - 40), fill=(x % 256, 120, 255 - x % 256))
    return im


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="target/upload-mix", help="output folder (default: %(default)s)")
    out = p.parse_args().out
    os.makedirs(out, exist_ok=True)
    photo("china.jpg", 4032, 3024, 1).save(os.path.join(out, "phone_4032x3024_q90.jpg"), quality=90, subsampling=2)
    photo("flower.jpg", 1920, 1080, 2).save(os.path.join(out, "photo_1920x1080.jpg"), quality=90, subsampling=2)
    photo("grace_hopper.jpg", 512, 512, 3).save(os.path.join(out, "photo_512x512.jpg"), quality=90, subsampling=2)
    square = photo("china.jpg", 1024, 1024, 4)
    square.save(os.path.join(out, "square_1024x1024.png"))
    square.save(os.path.join(out, "square_1024x1024.webp"), quality=80)
    screenshot(1920, 1080).save(os.path.join(out, "screenshot_1920x1080.png"))
    for name in sorted(os.listdir(out)):
        print(f"{name:28s} {os.path.getsize(os.path.join(out, name)):>10,d} bytes")


if __name__ == "__main__":
    main()
