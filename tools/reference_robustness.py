#!/usr/bin/python3
"""Reference of `tools/clipguard robustness`: every impairment done by Pillow 9.4, scored by the reference pipeline.

Impairments (the spec syntax of the command; Python's round is half-to-even):
  jpeg:Q     img.save(f, "JPEG", quality=Q), then Image.open(f).convert("RGB")
  webp:Q     img.save(f, "WEBP", quality=Q), then read back
  resize:S   img.resize((round(w*S), round(h*S)), Image.BICUBIC)
  crop:F     cw, ch = round(w*F), round(h*F); l, t = (w-cw)//2, (h-ch)//2; img.crop((l, t, l+cw, t+ch))
  blur:R     img.filter(ImageFilter.GaussianBlur(R))
  social:1   long side down to at most 2048 (s = 2048/max(w,h); resize((max(1,round(w*s)), max(1,round(h*s))),
             BICUBIC) only when it is longer), then JPEG 85; social:2: 1024 and JPEG 75
  dmid       per image, java.util.Random(31*seed + String.hashCode(filename)) draws side in [160, min(w,h,2048)],
             x in [0, w-side], y in [0, h-side], quality in [65, 100] (nextInt, in that order);
             img.crop((x, y, x+side, y+side)).resize((200, 200), LANCZOS if side > 200 else BICUBIC), JPEG quality
  a+b        chain: b applied to a's (read back) output

Two jobs (one --model-dir, the CLIP detector):
  fixtures  Pillow's outputs of each impairment on a few small golden images (PNG for pixels, the encoded bytes for
            codecs) and their reference LLRs, under src/test/resources/robustness/ (Java tests compare against them).
  metrics   the command's robustness.csv on a labelled folder (real/ + one folder per generator) with the same
            metrics as `evaluate`: auc, bacc (score > head threshold), tpr@1%fpr, tpr@5%fpr, per generator and AVG.

Fused (--model-dir given more than once, in the command's order: the CLIP detector and logit models such as
models/tiny-res50nodown-test): only the metrics job. Every impaired image is scored by every detector (res50nodown
as tools/reference_fusion.py runs it: native size, the manifest's max_pixels honoured), the logits are fused by
--fusion (tools/fusion.py, the reference's formula checked against the stable form, as reference_fusion.py does),
and the table has, per impairment, the rows of `llr` (the fusion, bacc at --fusion-threshold) and then one row set
per detector id (bacc at its own threshold: the head's, 0 for a logit model): what robustness.csv holds.
Default output reference-robustness-fused-<rule>.csv, and -llr.csv beside it with every column per image.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

import clip_reference as ref  # noqa: E402
import fusion  # noqa: E402
import reference_fusion  # noqa: E402
import reference_llr  # noqa: E402

DEFAULT = ["jpeg:95", "jpeg:90", "jpeg:80", "jpeg:70", "jpeg:60", "jpeg:50",
           "resize:1.5", "resize:0.75", "resize:0.5", "resize:0.25",
           "crop:0.9", "crop:0.75", "crop:0.5",
           "blur:0.5", "blur:1", "blur:2",
           "webp:80", "webp:50",
           "social:1", "social:2",
           "dmid"]
FIXTURES = os.path.join("src", "test", "resources", "robustness")
FIXTURE_IMAGES = ["jpeg422_225x301.jpg", "jpeg444_97x61.jpg"]
# Extra fixtures: a chain, and DMID's two resize filters with fixed draws (side, x, y, quality).
EXTRA = ["resize:0.5+jpeg:70", "crop:0.5+blur:2"]
DMID_FIXED = {"dmid-lanczos": (217, 3, 41, 83), "dmid-bicubic": (180, 20, 100, 65)}


class TooSmall(Exception):
    pass


# --- java.util.Random and String.hashCode, so that DMID's draws are the Java command's --------------------------
class JavaRandom:
    MASK = (1 << 48) - 1

    def __init__(self, seed: int):
        self.seed = (seed ^ 0x5DEECE66D) & self.MASK

    def _next(self, bits: int) -> int:
        self.seed = (self.seed * 0x5DEECE66D + 0xB) & self.MASK
        r = self.seed >> (48 - bits)
        return r - (1 << 32) if r >= 1 << 31 else r

    def next_int(self, bound: int) -> int:
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if to_int32(u - r + m) >= 0:
                return r
            u = self._next(31)


def to_int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def to_int64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def java_string_hash(s: str) -> int:
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = to_int32(31 * h + int.from_bytes(data[i:i + 2], "big"))
    return h


def dmid_draws(img: Image.Image, name: str, seed: int):
    w, h = img.size
    largest = min(w, h, 2048)
    if largest < 160:
        raise TooSmall(f"dmid of a {w}x{h} image leaves no 160-pixel square")
    rnd = JavaRandom(to_int64(31 * seed + java_string_hash(name)))
    side = 160 + rnd.next_int(largest - 160 + 1)
    x = rnd.next_int(w - side + 1)
    y = rnd.next_int(h - side + 1)
    q = 65 + rnd.next_int(100 - 65 + 1)
    return side, x, y, q


# --- the impairments ----------------------------------------------------------------------------------------------
def load_pixels(path: str) -> Image.Image:
    """The reference's load_rgb, without the file's metadata: the command impairs pixels, and Pillow would otherwise
    write the original's JPEG comment (im.info["comment"]) into every JPEG it saves."""
    img = ref.load_rgb(path)
    img.info = {}
    return img


def encode(img: Image.Image, fmt: str, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, quality=quality)
    return buf.getvalue()


def read_back(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")


def resize(img, w, h, spec, filt=Image.BICUBIC):
    if w < 1 or h < 1:
        raise TooSmall(f"{spec} of a {img.size[0]}x{img.size[1]} image leaves {w}x{h}")
    return img.resize((w, h), filt)


def dmid_apply(img, side, x, y, q):
    crop = img.crop((x, y, x + side, y + side))
    return encode(crop.resize((200, 200), Image.LANCZOS if side > 200 else Image.BICUBIC), "JPEG", q)


def step(img: Image.Image, spec: str, name: str, seed: int, draws: dict):
    """One step: returns (PIL image, encoded bytes or None)."""
    op, _, value = spec.partition(":")
    w, h = img.size
    if op in ("jpeg", "webp"):
        data = encode(img, "JPEG" if op == "jpeg" else "WEBP", int(value))
        return read_back(data), data
    if op == "resize":
        s = float(value)
        return resize(img, round(w * s), round(h * s), spec), None
    if op == "crop":
        f = float(value)
        cw, ch = round(w * f), round(h * f)
        if cw < 1 or ch < 1:
            raise TooSmall(f"{spec} of a {w}x{h} image leaves {cw}x{ch}")
        left, top = (w - cw) // 2, (h - ch) // 2
        return img.crop((left, top, left + cw, top + ch)), None
    if op == "blur":
        return img.filter(ImageFilter.GaussianBlur(float(value))), None
    if op == "social":
        long_side, q = (2048, 85) if value in ("", "1") else (1024, 75)
        if max(w, h) > long_side:
            s = long_side / max(w, h)
            img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BICUBIC)
        data = encode(img, "JPEG", q)
        return read_back(data), data
    if op == "dmid":
        side, x, y, q = dmid_draws(img, name, seed)
        draws.update(dmid_side=side, dmid_x=x, dmid_y=y, dmid_quality=q,
                     dmid_filter="lanczos" if side > 200 else "bicubic")
        data = dmid_apply(img, side, x, y, q)
        return read_back(data), data
    raise ValueError(f"unknown impairment {spec}")


def impair(img: Image.Image, spec: str, name: str, seed: int):
    """Returns (the image as scored, encoded bytes of a codec that came last or None, drawn parameters)."""
    draws, data = {}, None
    if spec == "original":
        return img, None, draws
    for part in spec.split("+"):
        img, data = step(img, part, name, seed, draws)
    return img, data, draws


# --- scoring and metrics ------------------------------------------------------------------------------------------
def detector(model_dir: str):
    """The reference of one --model-dir: the CLIP detector (reference_llr.ClipReference, its head's threshold) or a
    logit model (reference_fusion.Res50NoDownReference, threshold 0); each has .id, .threshold and .llr(img)."""
    manifest = ref.read_json(os.path.join(model_dir, "manifest.json"))
    if manifest.get("output", {}).get("kind") == "logit":
        return reference_fusion.Res50NoDownReference(model_dir)
    clip = reference_llr.ClipReference(model_dir)
    clip.id = manifest["id"]
    clip.threshold = float(clip.head.get("threshold", 0.0))
    return clip


class ScoreColumns:
    """The report's score columns, as the command names them: one detector's LLR is `llr`; with several, `llr` is
    their fusion by `rule` (reference_fusion.fuse_row: the reference's formula, checked against the stable float64
    form that the command computes), then each detector's own under its id."""

    def __init__(self, detectors, rule: str, threshold: float):
        self.detectors, self.rule = detectors, rule
        if len(detectors) == 1:
            self.columns, self.thresholds, self.of_what = ["llr"], [detectors[0].threshold], ""
        else:
            self.columns = ["llr"] + [d.id for d in detectors]
            self.thresholds = [threshold] + [d.threshold for d in detectors]
            self.of_what = f" of the {rule} fusion"

    def scores(self, img: Image.Image) -> list:
        logits = [d.llr(img) for d in self.detectors]
        if len(logits) == 1:
            return logits
        return [reference_fusion.fuse_row(logits)[fusion.RULES.index(self.rule)]] + logits


def tpr_at_fpr(y, s, max_fpr):
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    return float(max(t for f, t in zip(fpr, tpr) if f <= max_fpr + 1e-12))


def metrics(typs, scores, threshold):
    """{metric: {generator: value}} as DetectionReport computes them (rows without a score left out)."""
    gens = sorted(set(typs) - {"real"})
    out = {m: {} for m in ("auc", "bacc", "tpr@1%fpr", "tpr@5%fpr")}
    for g in gens:
        keep = [i for i, t in enumerate(typs) if t in ("real", g) and scores[i] is not None]
        y = np.array([typs[i] != "real" for i in keep])
        s = np.array([scores[i] for i in keep])
        out["auc"][g] = float(roc_auc_score(y, s))
        pred = s > threshold
        out["bacc"][g] = float((pred[y].mean() + (~pred[~y]).mean()) / 2)
        out["tpr@1%fpr"][g] = tpr_at_fpr(y, s, 0.01)
        out["tpr@5%fpr"][g] = tpr_at_fpr(y, s, 0.05)
    return gens, out


def file_name(spec: str) -> str:
    return spec.replace(":", "-")


def run_fixtures(args, scorer):
    rows = []
    for image_name in FIXTURE_IMAGES:
        original = load_pixels(os.path.join(args.golden, image_name))
        folder = os.path.join(args.fixtures, os.path.splitext(image_name)[0])
        os.makedirs(folder, exist_ok=True)
        specs = ["original"] + DEFAULT + EXTRA + list(DMID_FIXED)
        for spec in specs:
            try:
                if spec in DMID_FIXED:
                    if min(original.size) < DMID_FIXED[spec][0]:
                        raise TooSmall("fixed dmid crop larger than the image")
                    data = dmid_apply(original, *DMID_FIXED[spec])
                    img = read_back(data)
                else:
                    img, data, _ = impair(original, spec, image_name, args.seed)
            except TooSmall as e:
                rows.append((image_name, spec, "", f"TOO_SMALL: {e}"))
                continue
            if spec != "original" and spec != "dmid":  # dmid's draws depend on the name: the Java test redraws them
                if data is not None:
                    with open(os.path.join(folder, file_name(spec) + (".webp" if spec.endswith(("webp:80", "webp:50")) else ".jpg")), "wb") as f:
                        f.write(data)
                else:
                    img.save(os.path.join(folder, file_name(spec) + ".png"))
            rows.append((image_name, spec, repr(scorer.llr(img)), ""))
            print(f"\r{image_name} {spec:24s}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    with open(os.path.join(args.fixtures, "reference-llr.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["image", "impairment", "llr", "error"])
        w.writerows(rows)


def labelled_originals(folder: str):
    """(names, typs, decoded originals) of a labelled folder, names sorted as the command lists them."""
    names = []
    for root, _, files in os.walk(folder):
        for fn in files:
            names.append(os.path.relpath(os.path.join(root, fn), folder).replace(os.sep, "/"))
    names.sort()
    typs = [n.split("/", 1)[0] if "/" in n else "" for n in names]
    return names, typs, [load_pixels(os.path.join(folder, n)) for n in names]


def metric_rows(spec: str, column: str, typs, scores, threshold):
    """robustness.csv's rows of one (impairment, score column), and the generators in column order."""
    gens, m = metrics(typs, scores, threshold)
    rows = []
    for metric, by_gen in m.items():
        vals = [by_gen[g] for g in gens]
        rows.append([spec, column, metric] + [repr(v) for v in vals] + [repr(float(np.mean(vals)))])
    return gens, rows, float(np.mean(list(m["auc"].values())))


def run_metrics(args, scorer: "ScoreColumns"):
    """The command's robustness.csv: per impairment a row set per score column (llr, then with several detectors
    each detector's), and -llr.csv beside it: every column per image, with DMID's draws."""
    names, typs, originals = labelled_originals(args.labelled)
    table, score_rows = [], []
    for spec in ["original"] + DEFAULT:
        per_column = [[] for _ in scorer.columns]
        for name, img in zip(names, originals):
            try:
                out, _, draws = impair(img, spec, name, args.seed)
                values = scorer.scores(out)
            except TooSmall:
                values, draws = [None] * len(scorer.columns), {}
            for column, value in zip(per_column, values):
                column.append(value)
            score_rows.append([spec, name] + ["" if v is None else repr(v) for v in values]
                              + [" ".join(f"{k}={v}" for k, v in draws.items())])
        for column, scores, threshold in zip(scorer.columns, per_column, scorer.thresholds):
            gens, rows, auc = metric_rows(spec, column, typs, scores, threshold)
            table += rows
            if column == "llr":
                print(f"\r{spec:12s} AVG AUC{scorer.of_what} {auc:.4f}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    with open(args.metrics_out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["impairment", "score", "metric"] + gens + ["AVG"])
        w.writerows(table)
    with open(os.path.splitext(args.metrics_out)[0] + "-llr.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["impairment", "filename"] + scorer.columns + ["drawn"])
        w.writerows(score_rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="reference_robustness.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", action="append", metavar="DIR",
                   help="a detector's model folder (default models/tiny-clip-test); more than once: the fused "
                        "report, in the order given to the command")
    p.add_argument("--fusion", default=fusion.DEFAULT_RULE, choices=fusion.RULES,
                   help=f"with several --model-dir: the fusion rule (default {fusion.DEFAULT_RULE})")
    p.add_argument("--fusion-threshold", type=float, default=0.0,
                   help="with several --model-dir: the fused label's threshold, bacc of llr (default 0)")
    p.add_argument("--golden", default=os.path.join("src", "test", "resources", "golden", "images"))
    p.add_argument("--fixtures", default=FIXTURES, help=f"fixture folder (default {FIXTURES})")
    p.add_argument("--labelled", default=os.path.join("samples", "training"),
                   help="labelled folder for the metrics (default samples/training)")
    p.add_argument("--metrics-out", help="metrics CSV (default FIXTURES/reference-robustness.csv, fused: "
                                         "FIXTURES/reference-robustness-fused-RULE.csv); per-image scores in -llr.csv")
    p.add_argument("--seed", type=int, default=0, help="the command's --seed (default 0)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    model_dirs = args.model_dir or [os.path.join("models", "tiny-clip-test")]
    detectors = [detector(d) for d in model_dirs]
    columns = ScoreColumns(detectors, args.fusion, args.fusion_threshold)
    if len(detectors) > 1:
        args.metrics_out = args.metrics_out or os.path.join(FIXTURES, f"reference-robustness-fused-{args.fusion}.csv")
    else:
        args.metrics_out = args.metrics_out or os.path.join(FIXTURES, "reference-robustness.csv")
        os.makedirs(args.fixtures, exist_ok=True)
        run_fixtures(args, detectors[0])
    run_metrics(args, columns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
