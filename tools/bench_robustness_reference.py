#!/usr/bin/python3
"""Python side of tools/bench-robustness: per image, PIL open + convert once (from the file's bytes, read beforehand as
the Java side reads them), then for the original and each default impairment: Pillow's impairment
(tools/reference_robustness.py), re-read of a codec's output, and the reference preprocessing (torchvision Resize +
CenterCrop + ToTensor + Normalize). Prints "name images/s images/cpu-s", each the best of the windows: per wall-clock
second and per second of the process's CPU time (time.process_time), as RobustnessBenchmark does.
Usage: bench_robustness_reference.py SECONDS_PER_WINDOW WINDOWS IMAGE...
       bench_robustness_reference.py --breakdown REPEATS IMAGE...
         per image one line "name step=ms ... total=ms", the best of REPEATS timings of each step: decode (the
         original) and each impairment with its re-read and preprocessing (as RobustnessBenchmark --breakdown)."""
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import clip_reference as ref  # noqa: E402
import reference_robustness as rr  # noqa: E402


def decode(data: bytes):
    """rr.load_pixels from bytes in memory: the reference's convert('RGB'), without the file's metadata."""
    img = rr.read_back(data)
    img.info = {}
    return img


def breakdown(repeats, images, transform):
    for path in images:
        name = os.path.basename(path)
        with open(path, "rb") as f:
            data = f.read()
        original = decode(data)
        steps = [("decode", lambda: decode(data))]
        for spec in ["original"] + rr.DEFAULT:
            steps.append((spec, lambda spec=spec: transform(rr.impair(original, spec, name, 0)[0])))
        parts, total = [], 0.0
        for label, work in steps:
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                work()
                best = min(best, time.perf_counter() - start)
            parts.append(f"{label}={best * 1000:.2f}")
            total += best * 1000
        print(f"{name} {' '.join(parts)} total={total:.2f}")


def main():
    torch.set_num_threads(1)
    transform = ref.clip_transform()
    if sys.argv[1] == "--breakdown":
        breakdown(int(sys.argv[2]), sys.argv[3:], transform)
        return
    seconds, windows, images = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    for path in images:
        name = os.path.basename(path)
        with open(path, "rb") as f:
            data = f.read()
        best = best_cpu = 0.0
        for w in range(-2, windows):
            start_cpu = time.process_time()
            start = time.perf_counter()
            done = 0
            while time.perf_counter() < start + seconds or done == 0:
                original = decode(data)
                for spec in ["original"] + rr.DEFAULT:
                    img, _, _ = rr.impair(original, spec, name, 0)
                    transform(img)
                done += 1
            rate = done / (time.perf_counter() - start)
            cpu_rate = done / (time.process_time() - start_cpu)
            if w >= 0:
                best, best_cpu = max(best, rate), max(best_cpu, cpu_rate)
        print(f"{name} {best:.3f} {best_cpu:.3f}")


if __name__ == "__main__":
    main()
