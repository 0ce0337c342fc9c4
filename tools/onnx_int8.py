#!/usr/bin/python3
"""Dynamic int8 quantisation of an exported fp32 tower graph, in a virtual environment this module sets up itself.

Used by export_clip_onnx.py --dtype int8. Two halves:
- imported by Debian's Python (torch 1.13, onnx 1.12, numpy 1.24): ensure_venv(), quantize(), run() start the second
  half in the venv and exchange files with it (ONNX, .npy, JSON);
- run inside the venv as `python onnx_int8.py quantize|run ...`: ONNX Runtime's quantisation tool and CPU session.
Why a separate process: the onnxruntime wheels bring numpy 2 and protobuf 7 and need onnx >= 1.17 (ml_dtypes), none of
which torch 1.13 and Debian's onnx 1.12 load beside them. So the venv is self-contained (no --system-site-packages)
and the fp32 export stays in Debian's Python.

What is quantised and why (QUANTIZATION below, recorded in the manifest's provenance.quantization):
- op type MatMul only, and only MatMuls with a constant weight (MatMulConstBOnly): the four linear layers of every
  block (qkv in_proj, out_proj, mlp c_fc, c_proj) hold nearly all of the tower's FLOPs. The two attention MatMuls
  (q·kᵀ, softmax·v) multiply activations: quantising both sides adds error for ~4 % of the FLOPs. The patch Conv stays
  fp32 (one layer; ConvInteger has no fused fast kernel on ORT's CPU provider).
- dynamic mode (QuantizationMode.IntegerOps): weights int8 once, activations uint8 per batch at run time
  (DynamicQuantizeLinear), so no calibration set is needed. ORT's CPU graph optimiser fuses DynamicQuantizeLinear +
  MatMulInteger + the scale Mul into DynamicQuantizeMatMul (com.microsoft) / MatMulIntegerToFloat, whose MLAS kernels
  are the u8·s8 GEMMs that VNNI (vpdpbusd), AMX and AVX2 (vpmaddubsw) run; QUInt8 activations × QInt8 weights is the
  combination ORT recommends for x86-64.
- per-channel weights (one scale per output column): a ViT's columns differ widely in range, one scale per tensor
  would waste most of the 8 bits of the small ones.
- --keep-float LAYERS (export_clip_onnx.py --int8-keep-float): those of the four linear layers stay float32 in every
  block (ONNX Runtime's nodes_to_exclude), for a user whose verify-model check shows flips; see LAYERS.
- reduce_range off: full 8-bit weights. On AVX2 CPUs without VNNI, u8·s8 pairs can saturate vpmaddubsw's int16
  accumulator; export with --int8-reduce-range (7-bit weights) for such CPUs if verify-model shows drift.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

# Newest of each the package index here serves (1.31.1 is the current onnxruntime release; 1.30.0 is what a machine
# without the index has cached); the versions actually installed go into the manifest.
REQUIREMENTS = ("onnxruntime>=1.30,<1.32", "onnx>=1.17,<1.24")
VENV_MARKER = "clipguard-requirements.txt"
SCRIPT = os.path.abspath(__file__)
OP_TYPES = ["MatMul"]
# The four linear layers of a CLIP block, by the ONNX node names the exporter's torch modules give them: what
# --keep-float can leave in float32 when verify-model shows flips on the user's images (mlp-out, the MLP's output
# projection, float in every block halved the median drift of the random ViT-L/14 tower: docs/benchmarks.md, run E).
LAYERS = {
    "qkv": "/attn/MatMul",
    "attn-out": "/attn/out_proj/MatMul",
    "mlp-in": "/mlp/c_fc/MatMul",
    "mlp-out": "/mlp/c_proj/MatMul",
}


class QuantizationError(Exception):
    pass


def default_venv_dir() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.environ.get("CLIPGUARD_QUANT_VENV") or os.path.join(cache, "clipguard", "onnxruntime-venv")


def _venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def _venv_ready(venv: str) -> bool:
    marker = os.path.join(venv, VENV_MARKER)
    if not os.path.isfile(marker):
        return False
    with open(marker) as f:
        if f.read().split() != list(REQUIREMENTS):
            return False
    probe = subprocess.run([_venv_python(venv), "-c", "import onnxruntime.quantization, onnx"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return probe.returncode == 0


def ensure_venv(venv: str | None = None, say=print) -> str:
    """The venv's python, creating the venv (python -m venv + pip install REQUIREMENTS) unless it is already there."""
    venv = venv or default_venv_dir()
    if _venv_ready(venv):
        return _venv_python(venv)
    if os.path.exists(venv):
        if not os.path.isfile(os.path.join(venv, VENV_MARKER)) and os.listdir(venv):
            raise QuantizationError(
                f"{venv} exists but was not made by this tool (no {VENV_MARKER}); remove it or point "
                "CLIPGUARD_QUANT_VENV at another folder")
        shutil.rmtree(venv)  # ours, with other requirements or broken: make it anew
    say(f"setting up the quantisation venv {venv} ({', '.join(REQUIREMENTS)}; once, then reused)")
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    subprocess.run(["/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable, "-m", "venv", venv],
                   check=True)
    pip = subprocess.run([_venv_python(venv), "-m", "pip", "install", "--disable-pip-version-check", "--retries", "1",
                          "--quiet", *REQUIREMENTS], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if pip.returncode != 0:
        raise QuantizationError(
            f"pip could not install {' '.join(REQUIREMENTS)} into {venv} (exit {pip.returncode}):\n"
            f"{pip.stdout[-3000:]}\nCheck the package index is reachable (pip config, proxy), or set "
            "CLIPGUARD_QUANT_VENV to a virtual environment that has onnxruntime and onnx.")
    with open(os.path.join(venv, VENV_MARKER), "w") as f:
        f.write("\n".join(REQUIREMENTS) + "\n")
    return _venv_python(venv)


def _call(python: str, *args: str) -> str:
    proc = subprocess.run([python, SCRIPT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise QuantizationError(f"{os.path.basename(SCRIPT)} {args[0]} failed in the venv (exit {proc.returncode}):\n"
                                f"{proc.stderr[-4000:]}")
    return proc.stdout


def quantize(python: str, src: str, dst: str, per_channel: bool = True, reduce_range: bool = False,
             keep_float: tuple = ()) -> dict:
    """Quantises fp32 ONNX src into dst (in the venv); returns the settings for provenance.quantization.
    keep_float: names from LAYERS whose MatMuls stay float32 in every block."""
    args = ["quantize", src, dst] + (["--per-channel"] if per_channel else []) + (
        ["--reduce-range"] if reduce_range else []) + (["--keep-float", ",".join(keep_float)] if keep_float else [])
    return json.loads(_call(python, *args))


def run(python: str, model: str, x_npy: str, y_npy: str) -> dict:
    """Runs model on the array in x_npy with ONNX Runtime's CPU provider (in the venv), output into y_npy."""
    return json.loads(_call(python, "run", model, x_npy, y_npy))


# ---- the half that runs inside the venv ----

def _quantize_main(a: argparse.Namespace) -> dict:
    import logging

    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # the "consider pre-processing" notice: shapes are not needed here
    keep_float = parse_layers(a.keep_float)
    excluded = []
    if keep_float:
        names = [n.name for n in onnx.load(a.src, load_external_data=False).graph.node if n.op_type == "MatMul"]
        for layer in keep_float:
            matched = [n for n in names if n.endswith(LAYERS[layer])]
            if not matched:
                raise SystemExit(f"--keep-float {layer}: no MatMul node ends with {LAYERS[layer]}; is this a graph "
                                 "from tools/export_clip_onnx.py?")
            excluded += matched
    quantize_dynamic(a.src, a.dst, op_types_to_quantize=OP_TYPES, per_channel=a.per_channel,
                     reduce_range=a.reduce_range, weight_type=QuantType.QInt8,
                     extra_options={"MatMulConstBOnly": True}, nodes_to_exclude=excluded)
    nodes = onnx.load(a.dst, load_external_data=False).graph.node
    quantized = sum(1 for n in nodes if n.op_type == "MatMulInteger")
    kept = sum(1 for n in nodes if n.op_type == "MatMul")
    if quantized == 0:
        raise SystemExit("no MatMul was quantised: the graph has no MatMul with a constant weight")
    return {
        "method": "onnxruntime.quantization.quantize_dynamic",
        "mode": "dynamic (IntegerOps)",
        "op_types": OP_TYPES,
        "matmul_const_b_only": True,
        "per_channel": a.per_channel,
        "reduce_range": a.reduce_range,
        "kept_float": list(keep_float),
        "weight_type": "QInt8",
        "activation_type": "QUInt8",
        "matmuls_quantized": quantized,
        "matmuls_float": kept,
        "onnxruntime": onnxruntime.__version__,
        "onnx": onnx.__version__,
    }


def parse_layers(text: str | None) -> tuple:
    """'mlp-out,qkv' -> ('mlp-out', 'qkv'), in LAYERS' order; a name not in LAYERS is an error naming the choices."""
    names = [t.strip() for t in (text or "").split(",") if t.strip()]
    unknown = [t for t in names if t not in LAYERS]
    if unknown:
        raise QuantizationError(f"unknown layer(s) {', '.join(unknown)} to keep float; choose from {', '.join(LAYERS)}")
    return tuple(k for k in LAYERS if k in names)


def _run_main(a: argparse.Namespace) -> dict:
    import numpy as np
    import onnxruntime

    options = onnxruntime.SessionOptions()
    session = onnxruntime.InferenceSession(a.model, options, providers=["CPUExecutionProvider"])
    x = np.load(a.x)
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    np.save(a.y, np.asarray(y, dtype=np.float32))
    return {"onnxruntime": onnxruntime.__version__, "shape": list(y.shape)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="onnx_int8.py", description=__doc__.split("\n\n")[0],
                                epilog="Normally run by tools/export_clip_onnx.py --dtype int8 inside the venv it makes.")
    sub = p.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quantize", help="fp32 ONNX -> int8 (dynamic, MatMul weights); prints the settings as JSON")
    q.add_argument("src")
    q.add_argument("dst")
    q.add_argument("--per-channel", action="store_true")
    q.add_argument("--reduce-range", action="store_true")
    q.add_argument("--keep-float", metavar="LAYERS", help=f"comma-separated, of {', '.join(LAYERS)}: left float32")
    r = sub.add_parser("run", help="run MODEL on X.npy with the CPU provider into Y.npy")
    r.add_argument("model")
    r.add_argument("x")
    r.add_argument("y")
    sub.add_parser("setup", help="create (or check) the venv and print its python")
    a = p.parse_args(argv)
    if a.command == "setup":
        print(ensure_venv())
        return 0
    print(json.dumps(_quantize_main(a) if a.command == "quantize" else _run_main(a)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except QuantizationError as e:
        print(f"onnx_int8.py: error: {e}", file=sys.stderr)
        sys.exit(1)
