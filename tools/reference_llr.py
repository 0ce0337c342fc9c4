#!/usr/bin/python3
"""Reference LLRs for golden tests: PIL + torchvision + PyTorch, the pipeline the Java service must reproduce.

For each image file in --images (sorted by name): PIL Image.open(p).convert('RGB') → torchvision
Resize(224, BICUBIC) → CenterCrop(224) → ToTensor → Normalize(CLIP mean/std) → PyTorch tower (tools/clip_tower.py,
built from the same weights as the model folder's ONNX) → L2 normalise (if the manifest says l2_normalize=engine)
→ linear head → LLR. Writes CSV `name,llr`. Files PIL cannot open are listed on stderr and left out of the CSV.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import UnidentifiedImageError  # noqa: E402

import clip_reference as ref  # noqa: E402
import clip_tower as ct  # noqa: E402

GOLDEN = os.path.join("src", "test", "resources", "golden")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="reference_llr.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", default=os.path.join("models", "tiny-clip-test"),
                   help="model folder with manifest.json (default models/tiny-clip-test)")
    p.add_argument("--weights", help="PyTorch weights of the same tower (default MODEL_DIR/weights.pt; an "
                   "open_clip_pytorch_model.bin works too, with --arch)")
    p.add_argument("--arch", choices=sorted(ct.ARCHS), help="tower shape for checkpoints without a saved config")
    p.add_argument("--quick-gelu", action="store_true", help="QuickGELU tower (only with --arch checkpoints)")
    p.add_argument("--head", help="linear head JSON (default MODEL_DIR/head.json)")
    p.add_argument("--images", default=os.path.join(GOLDEN, "images"), help=f"image folder (default {GOLDEN}/images)")
    p.add_argument("--out", default=os.path.join(GOLDEN, "reference-llr.csv"),
                   help=f"CSV to write (default {GOLDEN}/reference-llr.csv); '-' for stdout")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    return p.parse_args(argv)


class ClipReference:
    """The CLIP detector as the reference runs it: tower + Clip224 transform + head, from a model folder."""

    def __init__(self, model_dir: str, weights=None, head=None, arch=None, quick_gelu: bool = False):
        for path in (os.path.join(model_dir, "manifest.json"), head or os.path.join(model_dir, "head.json"),
                     weights or os.path.join(model_dir, "weights.pt")):
            if not os.path.isfile(path):
                raise SystemExit(f"{path} not found (see --help for --model-dir, --head, --weights)")
        self.manifest = ref.read_json(os.path.join(model_dir, "manifest.json"))
        self.head = ref.read_json(head or os.path.join(model_dir, "head.json"))
        if self.head.get("model_id") != self.manifest["id"]:
            raise SystemExit(f"head model_id {self.head.get('model_id')!r} != model {self.manifest['id']!r}")
        self.tower = ct.load_tower(weights or os.path.join(model_dir, "weights.pt"), arch=arch, quick_gelu=quick_gelu,
                                   l2_normalize=self.manifest["l2_normalize"] == "graph")
        width = self.tower.cfg.width
        if width != self.manifest["output"]["dim"] or len(self.head["weights"]) != width:
            raise SystemExit(f"tower width {width}, manifest dim {self.manifest['output']['dim']},"
                             f" head {len(self.head['weights'])} weights — they must agree")
        pre = self.manifest["preprocess"]
        if pre["resize"]["size"] != pre["crop"]["size"]:
            raise SystemExit("only resize size == crop size (Clip224) is implemented")
        self.transform = ref.clip_transform(pre["crop"]["size"], pre["mean"], pre["std"])

    @torch.no_grad()
    def llr(self, image) -> float:
        """One PIL RGB image, batch 1, as the reference scores it; float64 LLR from the float32 features."""
        features = self.tower(self.transform(image).unsqueeze(0)).numpy()
        return float(ref.llr(features, self.head, l2_normalize=self.manifest["l2_normalize"] == "engine")[0])


def image_names(folder: str) -> list:
    if not os.path.isdir(folder):
        raise SystemExit(f"image folder {folder} does not exist (run from the repository root, or pass --images DIR)")
    return sorted(n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n)))


def open_images(folder: str, skipped: list):
    """(index, count, name, PIL RGB image) per file PIL can open, as the reference opens it; the others are
    appended to `skipped` as 'name: error' and left out."""
    names = image_names(folder)
    for i, name in enumerate(names, 1):
        try:
            image = ref.load_rgb(os.path.join(folder, name))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:  # PIL's decoding errors
            skipped.append(f"{name}: {type(e).__name__}: {e}")
            continue
        yield i, len(names), name, image


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    image_names(args.images)
    try:
        clip = ClipReference(args.model_dir, args.weights, args.head, args.arch, args.quick_gelu)
    except SystemExit as e:
        raise SystemExit(f"reference_llr.py: {e}") from None
    rows, skipped = [], []
    for i, count, name, image in open_images(args.images, skipped):
        value = clip.llr(image)
        rows.append((name, value))
        print(f"\r[{i}/{count}] {name[:50]:50s} LLR {value:+.6f}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="")
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "llr"])
        for name, value in rows:
            writer.writerow([name, repr(value)])
    finally:
        if out is not sys.stdout:
            out.close()
    signs = np.sign([v for _, v in rows]) if rows else np.zeros(0)
    print(f"{len(rows)} images scored ({int((signs > 0).sum())} LLR > 0, {int((signs <= 0).sum())} ≤ 0)"
          + (f"; written to {args.out}" if args.out != "-" else ""), file=sys.stderr)
    for line in skipped:
        print(f"not decodable by PIL, left out: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
