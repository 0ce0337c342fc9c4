#!/usr/bin/python3
"""Measure the reference preprocessing (PIL 9.4 + torchvision 0.14) in images/s on ONE core, for comparison with
src/test/java/io/clipguard/bench/PreprocessBenchmark.java on the same fixtures (the upload mix of
tools/make_upload_mix.py by default).

Four measurements per file, mirroring the Java cases:
  decodeResizeCropNormalize:exact  Image.open(BytesIO(bytes)).convert('RGB') -> Resize(224, BICUBIC) -> CenterCrop(224)
                                   -> ToTensor() -> Normalize(CLIP mean/std)
  decodeResizeCropNormalize:fast   the same with Image.draft('RGB', size) first: a JPEG decodes at 1/2, 1/4 or 1/8
                                   scale in the IDCT, keeping the shorter side >= 448 (no-op for other formats)
  decode:exact                     Image.open(BytesIO(bytes)).convert('RGB') alone (convert loads the pixels)
  resizeCropNormalize:             the same on an image decoded once beforehand

Each figure is the best of 5 windows, per wall-clock second and per CPU second of this process (time.process_time(),
which other jobs sharing the core do not inflate), as the Java side measures.

torch.set_num_threads(1); run with /usr/bin/python3. --json prints machine-readable results (used by tools/bench-preprocess).
"""
import argparse
import io
import json
import os
import sys
import time

FIXTURES = ["phone_4032x3024_q90.jpg", "photo_1920x1080.jpg", "photo_512x512.jpg", "square_1024x1024.png",
            "square_1024x1024.webp", "screenshot_1920x1080.png"]
MIN_SHORTER_SIDE = 448  # fast mode: 2 x the resize target
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


REPEATS = 5


def rate(fn, seconds, warmup):
    """(calls per wall-clock second, calls per CPU second of this process) of fn, each the best of REPEATS windows of
    `seconds` (after `warmup` seconds of warm-up), so that other jobs on a shared machine lower the figures as little
    as possible (the Java side does the same, io.clipguard.bench.BestOfWindows)."""
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        fn()
    best, best_cpu = 0.0, 0.0
    for _ in range(REPEATS):
        calls, start, start_cpu = 0, time.perf_counter(), time.process_time()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        best = max(best, calls / elapsed)
        best_cpu = max(best_cpu, calls / max(time.process_time() - start_cpu, 1e-9))
    return best, best_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target",
                                                         "upload-mix"),
                        help="folder holding the fixtures (default: target/upload-mix, made by tools/make_upload_mix.py)")
    parser.add_argument("--fixtures", nargs="+", default=FIXTURES, help="file names (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per case (default: %(default)s)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up time per case (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    import torch
    import torchvision.transforms as T
    from PIL import Image

    torch.set_num_threads(1)
    transform = T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224), T.ToTensor(),
                           T.Normalize(CLIP_MEAN, CLIP_STD)])
    results = []
    for i, name in enumerate(args.fixtures, 1):
        print(f"[{i}/{len(args.fixtures)}] {name}", file=sys.stderr)
        with open(os.path.join(args.images, name), "rb") as f:
            data = f.read()
        decoded = Image.open(io.BytesIO(data)).convert("RGB")
        def open_fast():
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            shorter = min(w, h)
            if shorter >= 2 * MIN_SHORTER_SIDE:
                # draft picks the smallest scale whose size is still >= the requested one in both dimensions
                im.draft("RGB", (-(-w * MIN_SHORTER_SIDE // shorter), -(-h * MIN_SHORTER_SIDE // shorter)))
            return im.convert("RGB")

        full = rate(lambda: transform(Image.open(io.BytesIO(data)).convert("RGB")), args.seconds, args.warmup)
        fast = rate(lambda: transform(open_fast()), args.seconds, args.warmup)
        decode_only = rate(lambda: Image.open(io.BytesIO(data)).convert("RGB"), args.seconds, args.warmup)
        no_decode = rate(lambda: transform(decoded), args.seconds, args.warmup)
        results.append({"fixture": name, "decodeResizeCropNormalize:exact": full, "decodeResizeCropNormalize:fast": fast,
                        "decode:exact": decode_only, "resizeCropNormalize": no_decode})
    if args.json:
        print(json.dumps(results))
    else:
        print(f"{'fixture':<26} {'exact decode+preprocess':>24} {'fast (draft)':>13} {'decode only':>12} "
              f"{'preprocess only':>16}  (img/s, then img per CPU s)")
        for r in results:
            for i in range(2):
                print(f"{r['fixture'] if i == 0 else '':<26} {r['decodeResizeCropNormalize:exact'][i]:>24.1f} "
                      f"{r['decodeResizeCropNormalize:fast'][i]:>13.1f} {r['decode:exact'][i]:>12.1f} "
                      f"{r['resizeCropNormalize'][i]:>16.1f}")


if __name__ == "__main__":
    main()
