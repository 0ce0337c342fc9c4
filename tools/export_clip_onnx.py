#!/usr/bin/python3
"""Export a detector network to ONNX as a clipguard model folder: the open_clip ViT image tower (next-to-last ln_post
features) or res50nodown (Corvi2023, the reference's second detector: its output is already a logit).

Writes OUT/model.onnx and OUT/manifest.json (clipguard-model/v1), only after the ONNX graph has been checked
against the PyTorch network on random images (res50nodown: at each of --check-sizes, since its height and width
are dynamic). The check runs with onnxruntime (Python) if importable, otherwise
with the Java engine (`tools/clipguard verify-model --model-dir DIR --samples verification.json`); without either
the export fails unless --skip-check is given.

Examples:
  # the real detector backbone (weights downloaded by you from laion/CLIP-ViT-L-14-CommonPool.XL-s13B-b90K)
  tools/export_clip_onnx.py --weights open_clip_pytorch_model.bin --arch vit-l-14 --out models/clip-vit-l14-commonpool
  tools/export_clip_onnx.py --weights open_clip_pytorch_model.bin --arch vit-l-14 --dtype fp16 \\
      --out models/clip-vit-l14-commonpool-fp16
  # int8 for CPU-only serving: the fp32 graph, then ONNX Runtime's dynamic quantisation (in a venv made once in
  # ~/.cache/clipguard); the id of the fp32 export so its heads fit; check it on your own images afterwards with
  # tools/clipguard verify-model --model-dir models/clip-vit-l14-commonpool-int8 \\
  #     --compare-to models/clip-vit-l14-commonpool --input YOUR_IMAGES/
  tools/export_clip_onnx.py --weights open_clip_pytorch_model.bin --arch vit-l-14 --dtype int8 \\
      --out models/clip-vit-l14-commonpool-int8 --model-id clip-vit-l14-commonpool
  # the bundled test model
  tools/export_clip_onnx.py --random-init --seed 0 --arch tiny --out models/tiny-clip-test \\
      --save-state-dict models/tiny-clip-test/weights.pt --head-random-init \\
      --head-calibration-images /usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg ...
  # the reference's second detector (weights.pth of Corvi2023, obtained by you), and its test model
  tools/export_clip_onnx.py --weights weights.pth --arch res50nodown --out models/corvi2023-res50nodown
  tools/export_clip_onnx.py --random-init --seed 0 --arch res50nodown-tiny --out models/tiny-res50nodown-test \\
      --save-state-dict models/tiny-res50nodown-test/weights.pt --head-calibration-images IMG ...
"""
from __future__ import annotations

import argparse
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

import clip_reference as ref  # noqa: E402
import clip_tower as ct  # noqa: E402
import onnx_fp16  # noqa: E402
import res50nodown as rn  # noqa: E402
import onnx_int8  # noqa: E402

OPSET = 17
INPUT_NAME = "pixel_values"
OUTPUT_NAME = "features"
LOGIT_OUTPUT_NAME = "logit"
DEFAULT_CHECK_SIZES = "64x48,37x71"  # res50nodown: two shapes, one of them odd-sized (padding and stride rounding)
VERIFICATION_FORMAT = "clipguard-verification/v1"
DEFAULT_TOLERANCE = {"fp32": 1e-4, "fp16": 1e-2, "int8": 0.1}
# Element type of the graph's input and output: an int8 graph still takes and returns float32 (only weights are int8).
DTYPE_NAMES = {"fp32": "float32", "fp16": "float16", "int8": "float32"}
DEFAULT_INT8_MIN_COSINE = 0.99
DEFAULT_VERIFIER = os.path.join(ref.REPO_ROOT, "tools", "clipguard")


class ExportError(Exception):
    pass


class Progress:
    """One line per stage with elapsed time: the long stages (tracing, hashing) are single library calls."""

    def __init__(self, total: int, quiet: bool = False):
        self.total, self.step, self.quiet, self.t0 = total, 0, quiet, time.monotonic()

    def stage(self, text: str) -> None:
        self.step += 1
        self.say(f"[{self.step}/{self.total}] {text}")

    def say(self, text: str) -> None:
        if not self.quiet:
            print(f"{time.monotonic() - self.t0:7.1f}s  {text}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="export_clip_onnx.py", description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("weights (one of)")
    g = src.add_mutually_exclusive_group(required=True)
    g.add_argument("--weights", metavar="BIN", help="open_clip checkpoint (open_clip_pytorch_model.bin; a bare or "
                   "'state_dict'-wrapped dict, 'module.' prefixes allowed); only 'visual.*' keys are used. With "
                   "--arch res50nodown: the reference's weights.pth (state dict under 'model', else 'state_dict', "
                   "'net', or the dict itself; 'module.' prefixes stripped)")
    g.add_argument("--random-init", action="store_true", help="random weights from --seed (test/benchmark towers)")
    g.add_argument("--manifest-only", action="store_true",
                   help="write only OUT/manifest.json with sha256 null (for a folder whose ONNX users export)")
    src.add_argument("--seed", type=int, default=0, help="seed for --random-init (default 0)")
    src.add_argument("--weights-name", metavar="TEXT",
                     help="provenance.weights text (default: the --weights file name, or 'random-init seed=N')")

    a = p.add_argument_group("architecture")
    a.add_argument("--arch", choices=sorted(ct.ARCHS) + sorted(rn.ARCHS),
                   help="network shape; required with --random-init/--manifest-only and for res50nodown weights; "
                        "with --weights it is checked against the checkpoint's shapes (default: a CLIP tower "
                        "inferred from the checkpoint, heads = width/64)")
    a.add_argument("--quick-gelu", action="store_true",
                   help="QuickGELU activation (OpenAI checkpoints); default exact erf GELU (LAION/DataComp)")
    a.add_argument("--l2-normalize-in-graph", action="store_true",
                   help="L2-normalise features inside the graph (manifest l2_normalize=graph); default: engine does it")

    o = p.add_argument_group("output")
    o.add_argument("--out", required=True, metavar="DIR", help="model folder, e.g. models/<id>/ (created)")
    o.add_argument("--model-id", help="manifest id (default: the --out folder name)")
    o.add_argument("--description", help="manifest description (default: generated)")
    o.add_argument("--dtype", choices=["fp32", "fp16", "int8"], default="fp32",
                   help="fp16 graphs have float16 input and output; int8: the fp32 graph with its MatMul weights "
                        "quantised by ONNX Runtime (dynamic, per channel), float32 input and output (default fp32)")
    o.add_argument("--save-state-dict", metavar="PT", help="also save the tower's weights (open_clip key layout + "
                   "config) so tools/reference_llr.py can rebuild the same PyTorch tower")
    o.add_argument("--force", action="store_true", help="overwrite an existing OUT/model.onnx")

    c = p.add_argument_group("check against PyTorch")
    c.add_argument("--samples", type=int, default=2, help="random images in the check, run as one batch (default 2)")
    c.add_argument("--check-sizes", metavar="HxW[,HxW...]",
                   help=f"res50nodown only: image sizes of the check, one batch each (default {DEFAULT_CHECK_SIZES})")
    c.add_argument("--tolerance", type=float, help="atol = rtol for |onnx - torch| <= atol + rtol*|torch| "
                   "(default 1e-4 fp32, 1e-2 fp16)")
    c.add_argument("--verifier", default=DEFAULT_VERIFIER,
                   help="Java CLI used when onnxruntime is not importable (default tools/clipguard)")
    c.add_argument("--write-samples", metavar="JSON", help="also keep the verification sample file here (several "
                   "check sizes: the first size here, the others as JSON's name + '.HxW.json')")
    c.add_argument("--skip-check", action="store_true", help="write the model unchecked (onnx.checker still runs)")

    q = p.add_argument_group("int8 (--dtype int8; see tools/onnx_int8.py for what is quantised and why)")
    q.add_argument("--int8-per-tensor", action="store_true",
                   help="one scale per weight tensor instead of one per output channel (default per channel)")
    q.add_argument("--int8-reduce-range", action="store_true",
                   help="7-bit weights: for AVX2 CPUs without VNNI, whose u8*s8 instruction can saturate")
    q.add_argument("--int8-keep-float", metavar="LAYERS", default="",
                   help="comma-separated, of " + ", ".join(onnx_int8.LAYERS) + ": these linear layers stay float32 "
                        "in every block, for less drift at less speed (mlp-out: about 2x instead of 3-4x on "
                        "ViT-L/14; see docs/models.md). Use when verify-model --compare-to shows flips on your images")
    q.add_argument("--int8-min-cosine", type=float, default=DEFAULT_INT8_MIN_COSINE,
                   help="fail unless every sample's int8 features have at least this cosine with PyTorch's fp32 "
                        "ones (default %(default)s)")
    q.add_argument("--quant-venv", metavar="DIR", help="virtual environment for onnxruntime's quantisation tool, made "
                   "when missing (default $CLIPGUARD_QUANT_VENV or ~/.cache/clipguard/onnxruntime-venv)")

    h = p.add_argument_group("random linear head (for test models)")
    h.add_argument("--head-random-init", action="store_true", help="write OUT/head.json: random direction "
                   "(CLIP towers; res50nodown has its head, fc, inside the graph)")
    h.add_argument("--head-seed", type=int, help="seed of the head direction (default --seed)")
    h.add_argument("--head-calibration-images", nargs="+", metavar="IMG", default=[],
                   help="choose head bias/scale so these images' LLRs have mean 0 and std --head-std "
                        "(via the reference preprocessing and the PyTorch tower); with --random-init res50nodown "
                        "it sets the graph's fc layer the same way (native size, ImageNet normalisation)")
    h.add_argument("--head-std", type=float, default=1.0, help="LLR spread on the calibration images (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    args = p.parse_args(argv)
    if (args.random_init or args.manifest_only) and not args.arch:
        p.error("--arch is required with --random-init and --manifest-only")
    if args.manifest_only and (args.save_state_dict or args.head_random_init):
        p.error("--manifest-only writes no weights or head")
    if args.manifest_only and args.dtype == "int8":
        p.error("--manifest-only cannot describe an int8 export: its quantisation settings come from the export")
    if args.samples < 1:
        p.error("--samples must be at least 1")
    try:
        args.int8_keep_float = onnx_int8.parse_layers(args.int8_keep_float)
    except onnx_int8.QuantizationError as e:
        p.error(f"--int8-keep-float: {e}")
    if args.int8_keep_float and args.dtype != "int8":
        p.error("--int8-keep-float goes with --dtype int8")
    args.logit_model = args.arch in rn.ARCHS
    if args.logit_model:
        if args.dtype == "int8":
            p.error("--dtype int8 quantises the CLIP transformer's MatMuls; res50nodown is a convolutional network: "
                    "export it as fp32 or fp16")
        if args.quick_gelu or args.l2_normalize_in_graph:
            p.error("--quick-gelu and --l2-normalize-in-graph are CLIP tower options, not res50nodown ones")
        if args.head_random_init:
            p.error("res50nodown outputs its logit itself (its head, fc, is in the graph): no --head-random-init; "
                    "--head-calibration-images with --random-init sets fc")
        if args.head_calibration_images and not args.random_init:
            p.error("--head-calibration-images would overwrite the fc layer of --weights; use it with --random-init")
        try:
            args.check_sizes = parse_sizes(args.check_sizes or DEFAULT_CHECK_SIZES)
        except ValueError as e:
            p.error(f"--check-sizes: {e}")
    elif args.check_sizes:
        p.error("--check-sizes is for res50nodown; CLIP towers take one fixed size")
    return args


def parse_sizes(text: str):
    sizes = []
    for part in text.split(","):
        h, sep, w = part.strip().lower().partition("x")
        if not sep or not h.isdigit() or not w.isdigit() or int(h) < 1 or int(w) < 1:
            raise ValueError(f"{part!r} is not HEIGHTxWIDTH with positive integers, e.g. 64x48")
        sizes.append((int(h), int(w)))
    return sizes


def build_tower(args, progress: Progress):
    l2 = args.l2_normalize_in_graph
    if args.logit_model:
        return build_res50nodown(args, progress)
    if args.random_init:
        cfg = ct.ARCHS[args.arch]
        if args.quick_gelu:
            cfg = ct.dataclasses.replace(cfg, quick_gelu=True)
        return ct.random_init(cfg, args.seed, l2_normalize=l2), None
    if not os.path.isfile(args.weights):
        raise ExportError(f"--weights {args.weights}: no such file")
    progress.say(f"hashing {args.weights}")
    source_sha = ref.sha256_file(args.weights)
    progress.say(f"loading {args.weights} (sha256 {source_sha[:12]}…)")
    try:
        tower = ct.load_tower(args.weights, arch=args.arch, quick_gelu=args.quick_gelu, l2_normalize=l2)
    except ct.TowerConfigError as e:
        raise ExportError(str(e)) from e
    return tower, source_sha


def build_res50nodown(args, progress: Progress):
    if args.random_init:
        net = rn.random_init(rn.ARCHS[args.arch], args.seed)
        if args.head_calibration_images:
            calibrate_fc(net, args, progress)
        return net, None
    if not os.path.isfile(args.weights):
        raise ExportError(f"--weights {args.weights}: no such file")
    progress.say(f"hashing {args.weights}")
    source_sha = ref.sha256_file(args.weights)
    progress.say(f"loading {args.weights} (sha256 {source_sha[:12]}…)")
    try:
        return rn.load_net(args.weights, arch=args.arch), source_sha
    except rn.NetConfigError as e:
        raise ExportError(str(e)) from e


def calibrate_fc(net, args, progress: Progress) -> None:
    """A random fc that spreads the calibration photos' logits (mean 0, std --head-std), the same rule as the CLIP
    test head: a random tiny network maps all photos to nearly the same pooled vector."""
    transform = rn.native_transform()
    progress.say(f"calibrating fc on {len(args.head_calibration_images)} images at native size")
    features = np.concatenate([net.features(transform(ref.load_rgb(p)).unsqueeze(0)).numpy()
                               for p in args.head_calibration_images])
    head_seed = args.head_seed if args.head_seed is not None else args.seed
    head_obj = ref.calibrated_random_head("fc", head_seed, features, net.cfg.feature_dim, args.head_std)
    with torch.no_grad():
        net.fc.weight.copy_(torch.tensor(head_obj["weights"], dtype=torch.float32).view(1, -1))
        net.fc.bias.fill_(head_obj["bias"])
    progress.say(f"fc: {head_obj['provenance']}")


def random_pixel_batch(n: int, size, seed: int, mean=ref.CLIP_MEAN, std=ref.CLIP_STD) -> torch.Tensor:
    """Random 8-bit images, normalised as the model's preprocessing does: the value range it sees in service.
    size: an int (square) or (height, width)."""
    h, w = (size, size) if isinstance(size, int) else size
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (n, 3, h, w), generator=g, dtype=torch.int64).float() / 255.0
    return (pixels - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def export_onnx(tower, path: str, size: int, width: int) -> None:
    dummy = random_pixel_batch(2, size, seed=12345)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        # F.normalize's eps constant triggers a harmless torch 1.13 exporter notice; the graph is checked after.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant type is missing")
        torch.onnx.export(tower, dummy, path, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                          opset_version=OPSET, do_constant_folding=True)
    # The tracer leaves the feature width symbolic; the engine reads it from the graph, so state it.
    model = onnx.load(path)
    out_dims = model.graph.output[0].type.tensor_type.shape.dim
    out_dims[1].Clear()
    out_dims[1].dim_value = width
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.save(model, path)


def export_logit_onnx(net, path: str) -> None:
    """res50nodown: dynamic batch, height and width; output (batch, 1)."""
    dummy = random_pixel_batch(2, (64, 48), seed=12345, mean=rn.IMAGENET_MEAN, std=rn.IMAGENET_STD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(net, dummy, path, input_names=[INPUT_NAME], output_names=[LOGIT_OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch", 2: "height", 3: "width"},
                                        LOGIT_OUTPUT_NAME: {0: "batch"}},
                          opset_version=OPSET, do_constant_folding=True)
    model = onnx.load(path)
    out_dims = model.graph.output[0].type.tensor_type.shape.dim
    out_dims[1].Clear()
    out_dims[1].dim_value = 1
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.save(model, path)


def check_graph(path: str, dtype: str, size, dim: int, output_name: str = OUTPUT_NAME) -> None:
    """onnx.checker plus the interface the engine relies on (names, element type, shapes, dynamic batch)."""
    onnx.checker.check_model(path)
    model = onnx.load(path, load_external_data=False)
    elem = onnx.TensorProto.FLOAT16 if dtype == "fp16" else onnx.TensorProto.FLOAT
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]

    def describe(v):
        t = v.type.tensor_type
        return v.name, t.elem_type, [d.dim_param or d.dim_value for d in t.shape.dim]

    got = [describe(v) for v in inputs], [describe(v) for v in model.graph.output]
    in_hw = ["height", "width"] if size is None else [size, size]  # None: dynamic height and width
    want = [(INPUT_NAME, elem, ["batch", 3, *in_hw])], [(output_name, elem, ["batch", dim])]
    if got != want:
        raise ExportError(f"exported graph interface {got} differs from the expected {want}")
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", opsets.get("ai.onnx")) != OPSET:
        raise ExportError(f"exported opset {opsets} is not {OPSET}")


def encode_f32(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def verification_samples(tower, args, model_id: str, size, onnx_sha: str, tolerance: float, seed_offset: int = 1,
                         mean=ref.CLIP_MEAN, std=ref.CLIP_STD, output_name: str = OUTPUT_NAME) -> dict:
    """Random inputs and the PyTorch (fp32) outputs, in the clipguard-verification/v1 format (see tools/README.md)."""
    x = random_pixel_batch(args.samples, size, seed=args.seed + seed_offset, mean=mean, std=std).numpy()
    if args.dtype == "fp16":
        x = onnx_fp16.float16_exact(x)  # the fp16 model must see exactly these numbers
    with torch.no_grad():
        y = tower.float()(torch.from_numpy(x)).numpy()
    return {
        "format": VERIFICATION_FORMAT,
        "model_id": model_id,
        "model_sha256": onnx_sha,
        "model_dtype": DTYPE_NAMES[args.dtype],
        "comment": "float32 little-endian base64 arrays, row-major; pass iff |actual-expected| <= atol + rtol*|expected| "
                   "for every element; expected = PyTorch fp32 tower on the same input",
        "tolerance": {"atol": tolerance, "rtol": tolerance},
        "input": {"name": INPUT_NAME, "shape": list(x.shape), "data": encode_f32(x)},
        "expected": {"name": output_name, "shape": list(y.shape), "data": encode_f32(y)},
    }


def compare(actual: np.ndarray, samples: dict) -> str:
    exp = samples["expected"]
    expected = np.frombuffer(base64.b64decode(exp["data"]), dtype="<f4").reshape(exp["shape"])
    actual = np.asarray(actual, dtype=np.float32).reshape(expected.shape)
    tol = samples["tolerance"]
    diff = np.abs(actual - expected)
    bad = diff > tol["atol"] + tol["rtol"] * np.abs(expected)
    summary = f"max |diff| {diff.max():.3g} over {diff.size} values (atol {tol['atol']}, rtol {tol['rtol']})"
    if bad.any():
        raise ExportError(f"ONNX output differs from PyTorch: {int(bad.sum())} values out of tolerance; {summary}")
    return summary


def run_check(model_dir: str, samples: dict, args, progress: Progress) -> str:
    try:
        import onnxruntime as ort  # noqa: F401
    except ImportError:
        ort = None
    if ort is not None:
        inp = samples["input"]
        x = np.frombuffer(base64.b64decode(inp["data"]), dtype="<f4").reshape(inp["shape"])
        if args.dtype == "fp16":
            x = x.astype(np.float16)
        session = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), providers=["CPUExecutionProvider"])
        (y,) = session.run([samples["expected"]["name"]], {inp["name"]: x})
        return "onnxruntime (Python): " + compare(y, samples)
    if os.path.isfile(args.verifier) and os.access(args.verifier, os.X_OK):
        with tempfile.TemporaryDirectory(prefix="clipguard-verify-") as tmp:
            sample_path = os.path.join(tmp, "verification.json")
            ref.write_json(samples, sample_path)
            cmd = [args.verifier, "verify-model", "--model-dir", model_dir, "--samples", sample_path]
            progress.say("onnxruntime not importable; running " + " ".join(cmd))
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if proc.returncode != 0:
                raise ExportError(f"{args.verifier} verify-model failed (exit {proc.returncode}):\n{proc.stdout}")
            last_line = (proc.stdout.strip().splitlines() or ["passed"])[-1]
            return f"{args.verifier} verify-model: {last_line}"
    raise ExportError(
        "cannot check the ONNX against PyTorch: onnxruntime is not importable and the Java verifier "
        f"{args.verifier} is missing or not executable. Install onnxruntime for this Python "
        "(pip install onnxruntime), or build the Java CLI so tools/clipguard verify-model runs, "
        "or pass --skip-check to write the model unchecked.")


def check_int8(python: str, model_path: str, samples: dict, min_cosine: float, work_dir: str) -> dict:
    """Runs the int8 graph (ONNX Runtime in the venv) on the samples and compares with the fp32 PyTorch features.

    Quantisation changes every value a little, so this reports closeness instead of an elementwise pass: the cosine
    of each sample's int8 and fp32 feature vectors (the head sees the direction: features are L2-normalised before
    it), and max/median |difference|. Fails when a cosine is below min_cosine."""
    inp, exp = samples["input"], samples["expected"]
    x = np.frombuffer(base64.b64decode(inp["data"]), dtype="<f4").reshape(inp["shape"])
    expected = np.frombuffer(base64.b64decode(exp["data"]), dtype="<f4").reshape(exp["shape"]).astype(np.float64)
    x_path, y_path = os.path.join(work_dir, "check-x.npy"), os.path.join(work_dir, "check-y.npy")
    np.save(x_path, x)
    try:
        onnx_int8.run(python, model_path, x_path, y_path)
        actual = np.load(y_path).astype(np.float64).reshape(expected.shape)
    finally:
        for f in (x_path, y_path):
            if os.path.exists(f):
                os.remove(f)
    cosine = (actual * expected).sum(1) / (np.linalg.norm(actual, axis=1) * np.linalg.norm(expected, axis=1))
    diff = np.abs(actual - expected)
    stats = {"samples": int(expected.shape[0]), "feature_cosine_min": round(float(np.nanmin(cosine)), 6),
             "feature_cosine_median": round(float(np.median(cosine)), 6),
             "abs_diff_max": float(f"{diff.max():.4g}"), "abs_diff_median": float(f"{np.median(diff):.4g}")}
    if not np.all(cosine >= min_cosine):  # NaN fails too
        raise ExportError(f"int8 features differ from PyTorch's fp32 ones beyond --int8-min-cosine {min_cosine}: {stats}"
                          "; try --int8-reduce-range, or serve the fp32 export")
    return stats


def default_description(args, display: str, dtype: str) -> str:
    if args.manifest_only:
        return (f"open_clip {display} image tower, next-to-last (ln_post class-token) features, {dtype}. "
                f"model.onnx is not committed: download the weights ({args.weights_name}) and run "
                f"tools/export_clip_onnx.py --weights open_clip_pytorch_model.bin --arch {args.arch}"
                f"{' --dtype fp16' if args.dtype == 'fp16' else ''} --out {args.out.rstrip('/')}")
    if args.dtype == "int8":
        dtype = "int8 (MatMul weights, dynamic quantisation; float32 input and output)"
    if args.random_init:
        return (f"Random-init {display} image tower (seed {args.seed}), {dtype}, ln_post class-token features. "
                "Detects nothing: for tests, demos and benchmarks.")
    return f"open_clip {display} image tower from {args.weights_name}, next-to-last (ln_post) features, {dtype}."


def logit_description(args, arch_key: str, dtype: str) -> str:
    display = rn.ARCH_DISPLAY.get(arch_key, arch_key)
    if args.manifest_only:
        return (f"{display}; whole image at native size, ImageNet normalisation, output logit, {dtype}. "
                f"model.onnx is not committed: obtain the weights ({args.weights_name}) and run "
                f"tools/export_clip_onnx.py --weights weights.pth --arch {args.arch}"
                f"{' --dtype fp16' if args.dtype == 'fp16' else ''} --out {args.out.rstrip('/')}")
    if args.random_init:
        return (f"Random-init {display} (seed {args.seed}), {dtype}; whole image at native size, ImageNet "
                "normalisation, output logit. Detects nothing: for tests, demos and benchmarks.")
    return f"{display} from {args.weights_name}, {dtype}; whole image at native size, output logit."


def logit_architecture_text(cfg: rn.NetConfig) -> str:
    kind = "full width" if cfg == rn.ARCHS["res50nodown"] else "reduced width"
    return (f"res50nodown (Corvi2023), {kind}: torchvision ResNet-50 Bottleneck layout with a stride-1 stem "
            f"(conv1 7x7 and maxpool 3x3 at stride 1), {cfg.describe()}; output logit")


def logit_model_manifest(args, model_id: str, dtype: str, cfg: rn.NetConfig, source_sha, onnx_sha) -> dict:
    arch_key = rn.arch_key_of(cfg) or cfg.describe()
    return ref.logit_manifest(model_id, args.description or logit_description(args, arch_key, dtype), dtype,
                              logit_architecture_text(cfg), args.weights_name, source_sha, onnx_sha,
                              rn.IMAGENET_MEAN, rn.IMAGENET_STD, OPSET)


def sample_paths(first: str, sizes) -> list:
    """The first check size's samples go to --write-samples itself, the others beside it (name + '.HxW.json')."""
    stem = first[:-5] if first.endswith(".json") else first
    return [first] + [f"{stem}.{h}x{w}.json" for h, w in sizes[1:]]


def architecture_text(arch_key: str, quick_gelu: bool, l2_graph: bool) -> str:
    text = f"open_clip {ct.ARCH_DISPLAY.get(arch_key, arch_key)} visual tower, next-to-last (ln_post) features"
    if quick_gelu:
        text += ", QuickGELU"
    if l2_graph:
        text += ", L2-normalised in graph"
    return text


def arch_key_of(cfg: ct.TowerConfig) -> str:
    for key, known in ct.ARCHS.items():
        if ct.dataclasses.replace(known, quick_gelu=cfg.quick_gelu) == cfg:
            return key
    return cfg.describe()


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out.rstrip("/") or args.out
    model_id = args.model_id or os.path.basename(os.path.abspath(out))
    dtype = DTYPE_NAMES[args.dtype]
    l2_mode = "graph" if args.l2_normalize_in_graph else "engine"
    if args.weights_name is None:
        args.weights_name = (f"random-init seed={args.seed}" if args.random_init
                             else os.path.basename(args.weights) if args.weights else "unknown")
    os.makedirs(out, exist_ok=True)

    if args.manifest_only:
        if args.logit_model:
            m = logit_model_manifest(args, model_id, dtype, rn.ARCHS[args.arch], None, None)
        else:
            cfg = ct.ARCHS[args.arch]
            m = ref.manifest(model_id, args.description or default_description(args, ct.ARCH_DISPLAY[args.arch],
                                                                                dtype),
                             dtype, cfg.width, cfg.image_size,
                             architecture_text(args.arch, args.quick_gelu, args.l2_normalize_in_graph),
                             args.weights_name, None, None, l2_mode, OPSET)
        ref.write_json(m, os.path.join(out, "manifest.json"))
        print(f"wrote {os.path.join(out, 'manifest.json')} (sha256 null: export model.onnx yourself)")
        return 0

    final_onnx = os.path.join(out, "model.onnx")
    if os.path.exists(final_onnx) and not args.force:
        raise ExportError(f"{final_onnx} exists; pass --force to overwrite")
    int8 = args.dtype == "int8"
    progress = Progress(total=7 if int8 else 6, quiet=args.quiet)
    torch.set_grad_enabled(False)

    progress.stage("building " + ("network" if args.logit_model else "tower"))
    tower, source_sha = build_tower(args, progress)
    cfg = tower.cfg
    arch_key = (rn.arch_key_of(cfg) or cfg.describe()) if args.logit_model else arch_key_of(cfg)
    n_params = sum(p.numel() for p in tower.parameters())
    progress.say(f"{cfg.describe()}; {n_params / 1e6:.2f} M parameters ({arch_key})")

    staging = tempfile.mkdtemp(prefix=".export-", dir=out)
    try:
        staged_onnx = os.path.join(staging, "model.onnx")
        if args.logit_model:
            progress.stage(f"tracing and exporting to ONNX (opset {OPSET}, dynamic batch, height and width)")
            export_logit_onnx(tower, staged_onnx)
        else:
            progress.stage(f"tracing and exporting to ONNX (opset {OPSET}, dynamic batch)")
            export_onnx(tower, staged_onnx, cfg.image_size, cfg.width)
        if args.dtype == "fp16":
            progress.say("converting the graph's float tensors to float16")
            model = onnx_fp16.convert_float_to_float16(onnx.load(staged_onnx))
            onnx.save(model, staged_onnx)
            del model
        quantization, venv_python = None, None
        if int8:
            check_graph(staged_onnx, "fp32", cfg.image_size, cfg.width)
            progress.stage("quantising the MatMul weights to int8 (ONNX Runtime, dynamic, "
                           f"{'per tensor' if args.int8_per_tensor else 'per channel'}"
                           + (f", {', '.join(args.int8_keep_float)} kept float" if args.int8_keep_float else "") + ")")
            venv_python = onnx_int8.ensure_venv(args.quant_venv, say=progress.say)
            fp32_onnx = os.path.join(staging, "model-fp32.onnx")
            os.replace(staged_onnx, fp32_onnx)
            quantization = onnx_int8.quantize(venv_python, fp32_onnx, staged_onnx, per_channel=not args.int8_per_tensor,
                                              reduce_range=args.int8_reduce_range, keep_float=args.int8_keep_float)
            quantization["fp32_sha256"] = ref.sha256_file(fp32_onnx)
            os.remove(fp32_onnx)
            progress.say(f"{quantization['matmuls_quantized']} MatMuls int8, {quantization['matmuls_float']} left "
                         f"float (activation x activation); onnxruntime {quantization['onnxruntime']}")

        progress.stage("onnx.checker and interface check")
        if args.logit_model:
            check_graph(staged_onnx, args.dtype, None, 1, LOGIT_OUTPUT_NAME)
        else:
            check_graph(staged_onnx, args.dtype, cfg.image_size, cfg.width)
        size_mb = os.path.getsize(staged_onnx) / 1e6
        onnx_sha = ref.sha256_file(staged_onnx)
        progress.say(f"model.onnx {size_mb:.2f} MB, sha256 {onnx_sha}")

        if args.logit_model:
            m = logit_model_manifest(args, model_id, dtype, cfg, source_sha, onnx_sha)
        else:
            m = ref.manifest(model_id, args.description or default_description(
                                 args, ct.ARCH_DISPLAY.get(arch_key, arch_key), dtype),
                             dtype, cfg.width, cfg.image_size, architecture_text(arch_key, cfg.quick_gelu,
                                                                                 args.l2_normalize_in_graph),
                             args.weights_name, source_sha, onnx_sha, l2_mode, OPSET,
                             quantization=quantization)
        ref.write_json(m, os.path.join(staging, "manifest.json"))

        tolerance = args.tolerance if args.tolerance is not None else DEFAULT_TOLERANCE[args.dtype]
        if args.logit_model:
            sizes = args.check_sizes
            progress.stage(f"checking ONNX against PyTorch on {args.samples} random images at each of "
                           + ", ".join(f"{h}x{w}" for h, w in sizes))
            sample_sets = [verification_samples(tower, args, model_id, size, onnx_sha, tolerance, seed_offset=1 + i,
                                                mean=rn.IMAGENET_MEAN, std=rn.IMAGENET_STD,
                                                output_name=LOGIT_OUTPUT_NAME)
                           for i, size in enumerate(sizes)]
        else:
            sizes = [(cfg.image_size, cfg.image_size)]
            progress.stage(f"checking ONNX against PyTorch on {args.samples} random images")
            sample_sets = [verification_samples(tower, args, model_id, cfg.image_size, onnx_sha, tolerance)]
        if args.write_samples:
            for path, samples in zip(sample_paths(args.write_samples, sizes), sample_sets):
                ref.write_json(samples, path)
                progress.say(f"verification samples written to {path}")
        if args.skip_check:
            progress.say("SKIPPED (--skip-check): the graph was not run; only onnx.checker and its interface passed")
        elif int8:
            stats = check_int8(venv_python, staged_onnx, sample_sets[0], args.int8_min_cosine, staging)
            progress.say(f"passed (int8 vs fp32 PyTorch, onnxruntime {quantization['onnxruntime']}): feature cosine "
                         f"min {stats['feature_cosine_min']:.5f}, median {stats['feature_cosine_median']:.5f}; "
                         f"|diff| max {stats['abs_diff_max']:.3g}, median {stats['abs_diff_median']:.3g}")
            quantization["export_check"] = stats
            ref.write_json(m, os.path.join(staging, "manifest.json"))  # m holds quantization: now with the check
        else:
            for (h, w), samples in zip(sizes, sample_sets):
                progress.say(f"passed at {h}x{w}: " + run_check(staging, samples, args, progress))

        progress.stage(f"writing {out}/")
        os.replace(staged_onnx, final_onnx)
        os.replace(os.path.join(staging, "manifest.json"), os.path.join(out, "manifest.json"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if args.save_state_dict:
        saved_as = dict(seed=args.seed if args.random_init else None, weights=args.weights_name)
        if args.logit_model:
            rn.save_net(tower, args.save_state_dict, arch=arch_key, **saved_as)
        else:
            ct.save_tower(tower, args.save_state_dict, **saved_as)
        progress.say(f"{'network' if args.logit_model else 'tower'} weights saved to {args.save_state_dict}")

    progress.stage("head" if args.head_random_init else "done")
    if args.head_random_init:
        head_seed = args.head_seed if args.head_seed is not None else args.seed
        features = None
        if args.head_calibration_images:
            images = [ref.load_rgb(p) for p in args.head_calibration_images]
            features = ref.tower_features(tower.float(), images, cfg.image_size)
            features = features / np.linalg.norm(features, axis=1, keepdims=True)
        head_obj = ref.calibrated_random_head(model_id, head_seed, features, cfg.width, args.head_std,
                                              version=f"random-seed{head_seed}")
        ref.write_json(head_obj, os.path.join(out, "head.json"))
        progress.say(f"wrote {out}/head.json (bias {head_obj['bias']:.4f})")
    progress.say(f"done: {out}/model.onnx + manifest.json")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ExportError, ct.TowerConfigError, rn.NetConfigError, onnx_int8.QuantizationError) as e:
        print(f"export_clip_onnx.py: error: {e}", file=sys.stderr)
        sys.exit(1)
