#!/usr/bin/env python3
"""Makes samples/training/: a small labelled set for the embed -> train -> evaluate demo and the CLI tests.

real/      crops and rescales of the three real photographs bundled in samples/uploads/ (matplotlib, scikit-learn)
smooth/    a stand-in "generator": smooth colour gradients with soft blobs (procedural, seeded)
stripes/   a second stand-in "generator": sinusoidal stripe patterns with mild noise (procedural, seeded)

These are not AI-generated images: they exist so the commands have real files with two or more types to run on.
Deterministic (seed 0). Usage: /usr/bin/python3 tools/make_training_samples.py [--out samples/training] [--per-type 12]
"""
import argparse
import math
import os

import numpy as np
from PIL import Image, ImageFilter

SIZE = 192
REAL_SOURCES = ["grace_hopper.jpg", "china.jpg", "flower.jpg"]


def real_images(src_dir, n, rng):
    sources = [Image.open(os.path.join(src_dir, f)).convert("RGB") for f in REAL_SOURCES]
    for i in range(n):
        img = sources[i % len(sources)]
        w, h = img.size
        side = int(min(w, h) * rng.uniform(0.45, 0.9))
        left = int(rng.integers(0, w - side + 1))
        top = int(rng.integers(0, h - side + 1))
        yield img.crop((left, top, left + side, top + side)).resize((SIZE, SIZE), Image.BICUBIC)


def smooth_images(n, rng):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    for _ in range(n):
        c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        angle = rng.uniform(0, math.pi)
        t = (np.cos(angle) * xx + np.sin(angle) * yy)
        t = (t - t.min()) / (t.max() - t.min())
        img = (1 - t)[..., None] * c0 + t[..., None] * c1
        for _ in range(4):
            cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.08, 0.3)
            blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
            img = img * (1 - blob) + blob * rng.uniform(0, 255, 3)
        yield Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.5))


def stripe_images(n, rng):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    for _ in range(n):
        img = np.zeros((SIZE, SIZE, 3))
        for ch in range(3):
            f = rng.uniform(0.02, 0.15)
            angle = rng.uniform(0, math.pi)
            img[..., ch] = 127.5 + 100 * np.sin(f * (np.cos(angle) * xx + np.sin(angle) * yy) + rng.uniform(0, 6.3))
        img += rng.normal(0, 6, img.shape)
        yield Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="samples/training")
    ap.add_argument("--uploads", default="samples/uploads", help="folder with the three real photographs")
    ap.add_argument("--per-type", type=int, default=12)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    for typ, images in [("real", real_images(args.uploads, args.per_type, rng)),
                        ("smooth", smooth_images(args.per_type, rng)),
                        ("stripes", stripe_images(args.per_type, rng))]:
        folder = os.path.join(args.out, typ)
        os.makedirs(folder, exist_ok=True)
        for i, img in enumerate(images):
            img.save(os.path.join(folder, f"{typ}-{i:02d}.jpg"), quality=85)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
