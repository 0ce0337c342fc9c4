#!/usr/bin/python3
"""Fusion parity fixtures: the reference's two-detector system on the golden images, the six rules on hand-made
logit vectors, and the cost of res50nodown.

Golden (default): for each image of --images that PIL opens (sorted by name; the others are listed on stderr and
left out, as tools/reference_llr.py does), the reference's formulation at batch 1:
  - the CLIP detector: reference_llr.py's LLR of models/tiny-clip-test (Clip224, tower, L2 norm, head);
  - res50nodown: PIL open, convert('RGB'), ToTensor, Normalize(ImageNet), no resize, no crop, the PyTorch network of
    tools/res50nodown.py with models/tiny-res50nodown-test/weights.pt; its float32 logit;
  - the six rules over the float64 row (CLIP, res50nodown) with the reference's formulas (tools/fusion.py
    reference_fusion: scipy logsumexp / log_expit, softminusinv), checked against the stable form.
Writes `filename,tiny-clip-test,tiny-res50nodown-test,<six rules>` with 17 significant digits.

Cases (--cases): the six rules on hand-made vectors of 1, 2 and 3 detectors (extremes, ties, failed detectors);
each value is the float64 nearest to the exact one (mpmath, 1500 digits, confirmed at 3000), and the stable float64
form must agree with it. Cost (--cost): multiply-adds of res50nodown and ViT-L/14, counted with forward hooks.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import fusion  # noqa: E402
import reference_llr  # noqa: E402
import res50nodown as rn  # noqa: E402

GOLDEN = reference_llr.GOLDEN
DEFAULT_OUT = os.path.join(GOLDEN, "reference-fusion.csv")
DEFAULT_CASES = os.path.join("src", "test", "resources", "fusion", "fusion-cases.csv")
FAILED = "failed"
STABLE_TOLERANCE = 1e-12  # |stable - exact| <= tol * max(1, |exact|); the stable form is far better on these rows


def fmt(value: float) -> str:
    return "%.17g" % value


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="reference_fusion.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip-model-dir", default=os.path.join("models", "tiny-clip-test"),
                   help="CLIP model folder with head.json and weights.pt (default models/tiny-clip-test)")
    p.add_argument("--resnet-model-dir", default=os.path.join("models", "tiny-res50nodown-test"),
                   help="res50nodown model folder with manifest.json and weights.pt (default "
                        "models/tiny-res50nodown-test)")
    p.add_argument("--images", default=os.path.join(GOLDEN, "images"), help=f"image folder (default {GOLDEN}/images)")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"golden CSV to write (default {DEFAULT_OUT}); '-' for stdout")
    p.add_argument("--cases", nargs="?", const=DEFAULT_CASES, metavar="CSV",
                   help=f"write the hand-made cases instead (default path {DEFAULT_CASES})")
    p.add_argument("--cost", action="store_true", help="print the multiply-add counts instead")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    return p.parse_args(argv)


# ------------------------------------------------------------------------------------------------------- golden

def fuse_row(logits) -> list:
    """The reference's fusion of one image's detector logits, checked against the stable float64 form."""
    values = []
    for rule in fusion.RULES:
        value = float(fusion.reference_fusion(np.asarray([logits], dtype=np.float64), rule)[0])
        stable = fusion.stable_fusion(logits, rule)
        if not abs(value - stable) <= STABLE_TOLERANCE * max(1.0, abs(value)):
            raise SystemExit(f"{rule} of {logits}: reference formula {value!r}, stable form {stable!r}")
        values.append(value)
    return values


class Res50NoDownReference:
    """res50nodown as the reference runs it, from a model folder: the whole image at native size (PIL RGB, ToTensor,
    Normalize), batch 1, out[:, 0] of the float32 output. A manifest `max_pixels` (none in the reference) caps it as
    the engine does: a larger image is centre-cropped (torchvision CenterCrop) to NativeResolutionPreprocessor's
    cropSize."""

    threshold = 0.0  # a logit model labels at 0

    def __init__(self, model_dir: str):
        self.manifest = reference_llr.ref.read_json(os.path.join(model_dir, "manifest.json"))
        if self.manifest.get("output", {}).get("kind") != "logit":
            raise SystemExit(f"{model_dir} is not a logit model (manifest output.kind)")
        self.id = self.manifest["id"]
        self.net = rn.load_net(os.path.join(model_dir, "weights.pt"))
        pre = self.manifest["preprocess"]
        self.transform = rn.native_transform(pre["mean"], pre["std"])
        self.max_pixels = pre.get("max_pixels") or 0

    @staticmethod
    def crop_size(width: int, height: int, max_pixels: int):
        """(width, height) under a pixel cap, as NativeResolutionPreprocessor.cropSize."""
        if max_pixels <= 0 or width * height <= max_pixels:
            return width, height
        side = math.isqrt(max_pixels)
        if width <= side:
            return width, min(height, max_pixels // width)
        if height <= side:
            return min(width, max_pixels // height), height
        return side, side

    @torch.no_grad()
    def llr(self, image) -> float:
        w, h = self.crop_size(*image.size, self.max_pixels)
        if (w, h) != image.size:
            image = __import__("torchvision").transforms.functional.center_crop(image, [h, w])
        return float(self.net(self.transform(image).unsqueeze(0)).numpy()[:, 0][0])


def golden(args) -> int:
    torch.set_grad_enabled(False)
    reference_llr.image_names(args.images)
    clip = reference_llr.ClipReference(args.clip_model_dir)
    resnet = Res50NoDownReference(args.resnet_model_dir)
    columns = [clip.manifest["id"], resnet.id]
    rows, skipped, t0 = [], [], time.monotonic()
    for i, count, name, image in reference_llr.open_images(args.images, skipped):
        clip_llr = clip.llr(image)
        resnet_logit = resnet.llr(image)  # float32 logit stored as float64 beside the other model
        logits = [clip_llr, resnet_logit]
        rows.append([name, *logits, *fuse_row(logits)])
        print(f"\r[{i}/{count}] {name[:40]:40s} {image.size[0]}x{image.size[1]} clip {clip_llr:+.4f} "
              f"res50nodown {resnet_logit:+.4f} ({time.monotonic() - t0:.0f}s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="")
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["filename", *columns, *fusion.RULES])
        for name, *values in rows:
            writer.writerow([name, *map(fmt, values)])
    finally:
        if out is not sys.stdout:
            out.close()
    spread = np.ptp([r[2] for r in rows]) if rows else 0.0
    print(f"{len(rows)} images; res50nodown logit spread (max - min) {spread:.4f}"
          + (f"; written to {args.out}" if args.out != "-" else ""), file=sys.stderr)
    for line in skipped:
        print(f"not decodable by PIL, left out: {line}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------------------- cases

# (case, logits per configured detector; FAILED marks a detector that failed on the image)
CASES = [
    ("one-zero", [0.0]),
    ("one-positive", [1.5]),
    ("one-negative", [-2.25]),
    ("one-700", [700.0]),
    ("one-minus-700", [-700.0]),
    ("one-tiny", [1e-300]),
    ("one-minus-tiny", [-1e-300]),
    ("two-zeros-soft-or-is-ln3", [0.0, 0.0]),
    ("two-opposite", [1.0, -1.0]),
    ("two-positive", [2.0, 3.0]),
    ("two-negative", [-3.0, -2.0]),
    ("two-tie", [5.0, 5.0]),
    ("two-700", [700.0, 700.0]),
    ("two-minus-700", [-700.0, -700.0]),
    ("two-700-mixed", [700.0, -700.0]),
    ("two-1000", [1000.0, 1000.0]),
    ("two-minus-1000", [-1000.0, -1000.0]),
    ("two-tiny", [1e-300, 1e-300]),
    ("two-tiny-mixed", [1e-300, -1e-300]),
    ("two-zero-tiny", [0.0, 1e-300]),
    ("two-30-mixed", [30.0, -30.0]),
    ("two-small-large", [-0.5, 40.0]),
    ("two-golden-like", [0.2967535771310411, -1.1165640275733728]),
    ("three-zeros", [0.0, 0.0, 0.0]),
    ("three-ascending", [1.0, 2.0, 3.0]),
    ("three-centred", [-1.0, 0.0, 1.0]),
    ("three-700", [700.0, 700.0, 700.0]),
    ("three-minus-700", [-700.0, -700.0, -700.0]),
    ("three-700-mixed", [700.0, -700.0, 0.0]),
    ("three-tie-two", [2.0, 2.0, -5.0]),
    ("three-tie-all", [-2.0, -2.0, -2.0]),
    ("three-tiny-mixed", [1e-300, -1e-300, 0.0]),
    ("three-small", [0.1, -0.2, 0.3]),
    ("three-extremes-tiny", [-700.0, 1e-300, 700.0]),
    ("three-very-negative", [-30.0, -31.0, -32.0]),
    ("three-1000-mixed", [1000.0, -1000.0, 0.0]),
    ("failed-second-of-two", [1.5, FAILED]),
    ("failed-first-of-two", [FAILED, -0.25]),
    ("failed-both-of-two-dead-letter", [FAILED, FAILED]),
    ("failed-middle-of-three", [1.0, FAILED, 2.0]),
    ("failed-two-of-three", [FAILED, FAILED, -3.0]),
    ("failed-middle-zeros-soft-or-is-ln3", [0.0, FAILED, 0.0]),
    ("failed-one-extreme-left", [FAILED, 700.0, -700.0]),
    ("failed-all-three-dead-letter", [FAILED, FAILED, FAILED]),
]


def cases(path: str) -> int:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    worst = 0.0
    reference_differs = []
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["case", "detectors", "x1", "x2", "x3", *fusion.RULES])
        for name, values in CASES:
            scored = [v for v in values if v != FAILED]
            cells = [FAILED if v == FAILED else repr(float(v)) for v in values] + [""] * (3 - len(values))
            fused = []
            for rule in (fusion.RULES if scored else ()):
                exact = float(fusion.exact_fusion(scored, rule))
                if exact != float(fusion.exact_fusion(scored, rule, dps=3000)):
                    raise SystemExit(f"{name} {rule}: 1500 digits are not enough")
                stable = fusion.stable_fusion(scored, rule)
                err = abs(stable - exact) / max(1.0, abs(exact))
                if not err <= STABLE_TOLERANCE:
                    raise SystemExit(f"{name} {rule}: stable form {stable!r}, exact {exact!r}")
                worst = max(worst, err)
                literal = float(fusion.reference_fusion(np.asarray([scored]), rule)[0])
                if not (math.isfinite(literal) and abs(literal - exact) <= 1e-9 * max(1.0, abs(exact))):
                    reference_differs.append(f"{name} {rule}: reference formula {literal!r}, exact {exact!r}")
                fused.append(fmt(exact))
            writer.writerow([name, len(values), *cells, *(fused or [""] * len(fusion.RULES))])
    print(f"{len(CASES)} cases written to {path}; stable float64 form vs exact: max |error| / max(1, |value|) "
          f"= {worst:.3g}", file=sys.stderr)
    for line in reference_differs:
        print(f"the reference's own formula is off here: {line}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------------------- cost

def count_macs(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Multiply-adds of Conv2d and Linear layers (and attention's two matrix products when the model says how
    many it does), counted on one forward pass with hooks."""
    total = [0]

    def conv_hook(m, inp, out):
        total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        total[0] += out.numel() * m.in_features

    hooks = [m.register_forward_hook(conv_hook if isinstance(m, torch.nn.Conv2d) else linear_hook)
             for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return total[0]


def res50nodown_macs_analytic(cfg: rn.NetConfig, h: int, w: int) -> int:
    """The same count without running the network (for sizes too large to run here)."""
    def conv(cin, cout, k, stride, pad, hw):
        oh, ow = (hw[0] + 2 * pad - k) // stride + 1, (hw[1] + 2 * pad - k) // stride + 1
        return cin * cout * k * k * oh * ow, (oh, ow)

    macs, hw = conv(3, cfg.stem_width, 7, 1, 3, (h, w))
    inplanes = cfg.stem_width
    for stage, (planes, blocks) in enumerate(zip(cfg.widths, cfg.blocks)):
        for b in range(blocks):
            stride = 2 if stage > 0 and b == 0 else 1
            m1, _ = conv(inplanes, planes, 1, 1, 0, hw)
            m2, hw2 = conv(planes, planes, 3, stride, 1, hw)
            m3, _ = conv(planes, planes * rn.EXPANSION, 1, 1, 0, hw2)
            macs += m1 + m2 + m3
            if stride != 1 or inplanes != planes * rn.EXPANSION:
                macs += conv(inplanes, planes * rn.EXPANSION, 1, stride, 0, hw)[0]
            inplanes, hw = planes * rn.EXPANSION, hw2
    return macs + cfg.feature_dim


def vit_macs(cfg):
    """ViT tower, analytic: (patch embedding + linear layers, attention's QK^T and AV products)."""
    tokens, width = cfg.tokens, cfg.width
    patch = 3 * cfg.patch_size * cfg.patch_size * width * cfg.grid ** 2
    linear = tokens * width * (3 * width + width + 2 * cfg.mlp_dim)  # qkv, out_proj, c_fc, c_proj
    return patch + cfg.layers * linear, cfg.layers * 2 * tokens * tokens * width


def cost() -> int:
    import clip_tower as ct

    torch.set_grad_enabled(False)
    full = rn.ARCHS["res50nodown"]
    net = rn.random_init(full, 0)
    print("multiply-adds per image (1 MAC = 2 FLOP); conv + linear layers, batch norm / ReLU / pooling left out")
    for h, w in ((224, 224), (256, 256)):
        hooked = count_macs(net, torch.zeros(1, 3, h, w))
        analytic = res50nodown_macs_analytic(full, h, w)
        if hooked != analytic:
            raise SystemExit(f"hook count {hooked} != analytic {analytic} at {h}x{w}")
        print(f"res50nodown {h}x{w}: {hooked / 1e9:8.2f} G MAC (hooks = analytic)")
    for h, w, label in ((1024, 1024, "1 MP"), (768, 1024, "0.79 MP, 4:3"), (3072, 4096, "12.6 MP phone photo")):
        print(f"res50nodown {h}x{w} ({label}): {res50nodown_macs_analytic(full, h, w) / 1e9:8.1f} G MAC (analytic)")
    standard = res50nodown_macs_analytic(full, 224, 224)
    tv = __import__("torchvision").models.resnet50(num_classes=1).eval()
    print(f"torchvision ResNet-50 (stride-2 stem) 224x224: {count_macs(tv, torch.zeros(1, 3, 224, 224)) / 1e9:8.2f}"
          f" G MAC; res50nodown / ResNet-50 = {standard / count_macs(tv, torch.zeros(1, 3, 224, 224)):.1f}x")
    vit = ct.ARCHS["vit-l-14"]
    linear, attention = vit_macs(vit)
    total = linear + attention
    # Hooks see nn.Conv2d / nn.Linear only; the tower's fused qkv projection is a bare parameter (F.linear).
    hooked = count_macs(ct.random_init(vit, 0), torch.zeros(1, 3, 224, 224))
    qkv = vit.layers * vit.tokens * vit.width * 3 * vit.width
    if hooked + qkv != linear:
        raise SystemExit(f"ViT hook count {hooked} + qkv {qkv} != analytic {linear}")
    print(f"ViT-L/14 224x224: {total / 1e9:8.1f} G MAC ({linear / 1e9:.1f} G patch embedding + linear layers, "
          f"hooks = analytic; {attention / 1e9:.1f} G attention products)")
    print(f"res50nodown 224x224 / ViT-L/14 = {standard / total:.2f}x; "
          f"res50nodown 1024x1024 / ViT-L/14 = {res50nodown_macs_analytic(full, 1024, 1024) / total:.1f}x")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.cost:
        return cost()
    if args.cases:
        return cases(args.cases)
    return golden(args)


if __name__ == "__main__":
    sys.exit(main())
