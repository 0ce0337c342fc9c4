#!/usr/bin/python3
"""Python side of tools/bench-robustness: per image, PIL open + convert once, then for the original and each default
impairment: Pillow's impairment (tools/reference_robustness.py), re-read of a codec's output, and the reference
preprocessing (torchvision Resize + CenterCrop + ToTensor + Normalize). Prints "name images/s", best of the windows.
Usage: bench_robustness_reference.py SECONDS_PER_WINDOW WINDOWS IMAGE..."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import clip_reference as ref  # noqa: E402
import reference_robustness as rr  # noqa: E402


def main():
    seconds, windows, images = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    torch.set_num_threads(1)
    transform = ref.clip_transform()
    for path in images:
        name = os.path.basename(path)
        best = 0.0
        for w in range(-2, windows):
            start = time.perf_counter()
            done = 0
            while time.perf_counter() < start + seconds or done == 0:
                original = rr.load_pixels(path)
                for spec in ["original"] + rr.DEFAULT:
                    img, _, _ = rr.impair(original, spec, name, 0)
                    transform(img)
                done += 1
            rate = done / (time.perf_counter() - start)
            if w >= 0:
                best = max(best, rate)
        print(f"{name} {best:.3f}")


if __name__ == "__main__":
    main()
