#!/usr/bin/python3
"""PyTorch CPU throughput of the full-width res50nodown (Corvi2023) at batch 1, per image size: the reference side
of the detector benchmark (tools/bench-detectors), beside ONNX Runtime on the same network.

The network is random-init with the same seed as `tools/make-bench-models res50nodown` exports (seed 0), so the
Java benchmark can load the ONNX of exactly this network. The reference scores images one at a time at native size,
so every size is timed at batch 1: one warm-up forward pass, then timed passes until --max-seconds or --max-iters
(at least one). Its cost grows with the pixel count (about 64 G multiply-adds at 224x224, 1.3 T at 1024x1024), so
a size whose one pass is estimated (from the largest size timed so far) to exceed --max-seconds is skipped and
shown as such.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import res50nodown as rn  # noqa: E402

FIELDS = ["runtime", "arch", "height", "width", "threads", "iterations", "seconds", "images_per_s", "s_per_image", "status"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="bench_res50nodown_reference.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="res50nodown", choices=sorted(rn.ARCHS), help="network (default res50nodown)")
    p.add_argument("--sizes", default="224x224,512x512", help="comma-separated HEIGHTxWIDTH (default 224x224,512x512)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help=f"torch intra-op threads (default all cores: {os.cpu_count()})")
    p.add_argument("--seed", type=int, default=0, help="random-init seed (default 0, as tools/make-bench-models)")
    p.add_argument("--max-seconds", type=float, default=30.0, help="time budget per size incl. warm-up (default 30)")
    p.add_argument("--max-iters", type=int, default=20, help="most timed passes per size (default 20)")
    p.add_argument("--onnx", metavar="MODEL_DIR", help="also time onnxruntime for Python (CPU, same threads, same "
                   "input) on MODEL_DIR/model.onnx, e.g. target/bench-models/res50nodown-random-seed0 (export it "
                   "with tools/make-bench-models res50nodown); needs onnxruntime importable")
    p.add_argument("--device", default="cpu", help="torch device (default cpu; cuda on a GPU machine: then "
                   "onnxruntime uses its CUDA provider)")
    p.add_argument("--csv", metavar="FILE", help="also write the results as CSV")
    args = p.parse_args(argv)
    try:
        args.sizes = [tuple(int(v) for v in s.strip().lower().split("x")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error("--sizes must be comma-separated HEIGHTxWIDTH, e.g. 224x224,512x512")
    if not args.sizes or any(len(s) != 2 or min(s) < 1 for s in args.sizes):
        p.error("--sizes must be comma-separated HEIGHTxWIDTH with positive integers")
    if args.threads < 1 or args.max_iters < 1:
        p.error("--threads and --max-iters must be positive")
    return args


def bench_size(run, runtime: str, h: int, w: int, args, est_s_per_pixel):
    row = {"runtime": runtime, "arch": args.arch, "height": h, "width": w, "threads": args.threads}
    if est_s_per_pixel is not None and est_s_per_pixel * h * w * 2 > args.max_seconds:
        est = est_s_per_pixel * h * w
        return dict(row, iterations=0, seconds=0.0, images_per_s=float("nan"), s_per_image=est,
                    status=f"skipped: ~{est:.1f}s per image, 2 passes exceed --max-seconds {args.max_seconds:g}")
    g = torch.Generator().manual_seed(1)
    pixels = torch.randint(0, 256, (1, 3, h, w), generator=g).float() / 255.0
    x = (pixels - torch.tensor(rn.IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(rn.IMAGENET_STD).view(1, 3, 1, 1)
    run = run(x)  # prepares the input for the runtime; returns one forward pass
    start = time.perf_counter()
    run()  # warm-up
    iters, t0 = 0, time.perf_counter()
    while iters < args.max_iters:
        run()
        iters += 1
        if time.perf_counter() - start >= args.max_seconds:
            break
    elapsed = time.perf_counter() - t0
    return dict(row, iterations=iters, seconds=elapsed, images_per_s=iters / elapsed, s_per_image=elapsed / iters,
                status="ok")


def torch_runner(args):
    net = rn.random_init(rn.ARCHS[args.arch], args.seed).to(args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)

    def prepare(x):
        x = x.to(args.device)

        def run():
            net(x)
            sync()
        return run
    return prepare


def ort_runner(args):
    try:
        import onnxruntime as ort
    except ImportError:
        raise SystemExit("bench_res50nodown_reference.py: --onnx needs onnxruntime for this Python (a venv made "
                         "with /usr/bin/python3 -m venv --system-site-packages, then pip install onnxruntime)")
    path = os.path.join(args.onnx, "model.onnx")
    if not os.path.isfile(path):
        raise SystemExit(f"bench_res50nodown_reference.py: {path} not found (tools/make-bench-models {args.arch})")
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    providers = (["CUDAExecutionProvider"] if args.device.startswith("cuda") else []) + ["CPUExecutionProvider"]
    session = ort.InferenceSession(path, options, providers=providers)

    def prepare(x):
        feed = {"pixel_values": x.numpy()}
        return lambda: session.run(["logit"], feed)
    return prepare


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cpu = platform.processor() or platform.machine()
    print(f"PyTorch {torch.__version__} {args.device} ({cpu}), {args.threads} threads, {args.arch} seed {args.seed}, batch 1, "
          f"≤{args.max_seconds:g}s / ≤{args.max_iters} passes per size", flush=True)
    runtimes = [("pytorch", torch_runner(args))]
    if args.onnx:
        runtimes.append(("onnxruntime", ort_runner(args)))
    rows = []
    with torch.inference_mode():
        for h, w in args.sizes:
            for runtime, run in runtimes:
                est = next((r["s_per_image"] / (r["height"] * r["width"]) for r in reversed(rows)
                            if r["runtime"] == runtime and r["status"] == "ok"), None)
                row = bench_size(run, runtime, h, w, args, est)
                rows.append(row)
                print(f"  {runtime:11s} {h}x{w}: " + (
                    f"{row['images_per_s']:8.3f} images/s ({row['s_per_image']:.3f} s/image, {row['iterations']} "
                    "passes)" if row["status"] == "ok" else row["status"]), flush=True)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
            writer.writeheader()
            for r in rows:
                writer.writerow({k: (f"{r[k]:.4f}" if isinstance(r[k], float) else r[k]) for k in FIELDS})
        print(f"written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
