#!/usr/bin/python3
"""PyTorch CPU throughput of the CLIP image tower (images/s vs batch size): the reference our ONNX Runtime engine
is compared with.

Towers are random-init with the same seed as `tools/make-bench-models` exports, so the Java benchmark can load
the ONNX of exactly these towers. Each (tower, batch) config gets one warm-up batch and then timed batches until
--max-seconds or --max-iters is reached (at least one). Configs whose single batch is estimated (from the largest
batch timed so far) to exceed --max-seconds are skipped and shown as such: ViT-L/14 on 2 cores runs at ~1-2 images/s.
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

import clip_tower as ct  # noqa: E402

FIELDS = ["arch", "batch", "threads", "iterations", "seconds", "images_per_s", "ms_per_batch", "status"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="bench_inference_reference.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--archs", default="tiny,vit-b-16,vit-l-14",
                   help=f"comma-separated towers from {sorted(ct.ARCHS)} (default: all three)")
    p.add_argument("--batch-sizes", default="1,8,32", help="comma-separated batch sizes (default 1,8,32)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help=f"torch intra-op threads (default all "
                   f"cores: {os.cpu_count()})")
    p.add_argument("--seed", type=int, default=0, help="random-init seed (default 0, as tools/make-bench-models)")
    p.add_argument("--max-seconds", type=float, default=20.0, help="time budget per config incl. warm-up (default 20)")
    p.add_argument("--max-iters", type=int, default=50, help="most timed batches per config (default 50)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up batches per config (default 1)")
    p.add_argument("--csv", metavar="FILE", help="also write the results as CSV")
    args = p.parse_args(argv)
    args.archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    unknown = [a for a in args.archs if a not in ct.ARCHS]
    if unknown:
        p.error(f"unknown arch {unknown}; choose from {sorted(ct.ARCHS)}")
    try:
        args.batch_sizes = sorted({int(b) for b in args.batch_sizes.split(",") if b.strip()})
    except ValueError:
        p.error("--batch-sizes must be comma-separated integers")
    if not args.batch_sizes or args.batch_sizes[0] < 1 or args.threads < 1 or args.max_iters < 1:
        p.error("batch sizes, --threads and --max-iters must be positive")
    return args


def bench_config(tower, batch: int, args, est_s_per_image):
    row = {"batch": batch, "threads": args.threads}
    if est_s_per_image is not None and est_s_per_image * batch * (args.warmup + 1) > args.max_seconds:
        est = est_s_per_image * batch
        return dict(row, iterations=0, seconds=0.0, images_per_s=float("nan"), ms_per_batch=est * 1e3,
                    status=f"skipped: ~{est:.1f}s per batch exceeds --max-seconds {args.max_seconds:g}")
    size = tower.cfg.image_size
    x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    for _ in range(args.warmup):
        tower(x)
    iters, t0 = 0, time.perf_counter()
    while iters < args.max_iters:
        tower(x)
        iters += 1
        if time.perf_counter() - start >= args.max_seconds:
            break
    elapsed = time.perf_counter() - t0
    return dict(row, iterations=iters, seconds=elapsed, images_per_s=batch * iters / elapsed,
                ms_per_batch=elapsed / iters * 1e3, status="ok")


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cpu = platform.processor() or platform.machine()
    print(f"PyTorch {torch.__version__} CPU ({cpu}), {args.threads} threads, seed {args.seed}, "
          f"≤{args.max_seconds:g}s / ≤{args.max_iters} batches per config", flush=True)
    rows = []
    with torch.inference_mode():
        for arch in args.archs:
            tower = ct.random_init(ct.ARCHS[arch], args.seed)
            est = None  # seconds per image, to skip configs whose one batch cannot fit the budget
            for batch in args.batch_sizes:
                row = dict(bench_config(tower, batch, args, est), arch=arch)
                if row["status"] == "ok":  # per-image time of the largest batch measured so far
                    est = row["seconds"] / (row["iterations"] * batch)
                rows.append(row)
                print(f"  {arch:9s} batch {batch:3d}: " + (f"{row['images_per_s']:8.2f} images/s "
                      f"({row['ms_per_batch']:.1f} ms/batch, {row['iterations']} batches)"
                      if row["status"] == "ok" else row["status"]), flush=True)
            del tower

    print(f"\n{'arch':10s} {'batch':>5s} {'images/s':>10s} {'ms/batch':>10s} {'batches':>8s}")
    for r in rows:
        ips = f"{r['images_per_s']:10.2f}" if r["status"] == "ok" else f"{'skipped':>10s}"
        print(f"{r['arch']:10s} {r['batch']:5d} {ips} {r['ms_per_batch']:10.1f} {r['iterations']:8d}")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: (f"{r[k]:.4f}" if isinstance(r[k], float) else r[k]) for k in FIELDS})
        print(f"written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
