"""Reference (PIL + torchvision + PyTorch) pieces shared by the tools: Clip224 preprocessing, manifests, linear heads.

This is the pipeline our Java service must reproduce: PIL decode → torchvision Resize(224, BICUBIC) →
CenterCrop(224) → ToTensor → Normalize(CLIP mean/std) → tower → L2 normalise → linear head → LLR.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Iterable, List, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
MANIFEST_FORMAT = "clipguard-model/v1"
HEAD_FORMAT = "clipguard-head/v1"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def clip_transform(size: int = 224, mean: Sequence[float] = CLIP_MEAN, std: Sequence[float] = CLIP_STD):
    """The reference "Clip224" transform (Cozzolino et al.), applied to a PIL RGB image."""
    return transforms.Compose([
        transforms.Resize(size, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(size),
        transforms.ToTensor(),
        transforms.Normalize(mean=mean, std=std),
    ])


def load_rgb(path: str) -> Image.Image:
    """As the reference: no EXIF transpose, alpha dropped by convert('RGB')."""
    with Image.open(path) as im:
        return im.convert("RGB")


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _model_manifest(model_id: str, description: str, onnx_sha256: Optional[str], provenance: dict, inp: dict,
                    out: dict, preprocess: dict, l2_normalize: str) -> dict:
    """The clipguard-model/v1 envelope shared by feature towers and logit models (key order as documented)."""
    return {"format": MANIFEST_FORMAT, "id": model_id, "description": description, "onnx": "model.onnx",
            "sha256": onnx_sha256, "provenance": provenance, "input": inp, "output": out, "preprocess": preprocess,
            "l2_normalize": l2_normalize}


def _provenance(architecture: str, weights: str, source_sha256: Optional[str], opset: int) -> dict:
    return {"architecture": architecture, "weights": weights, "source_sha256": source_sha256,
            "exporter": "tools/export_clip_onnx.py", "opset": opset}


def _check_dtype(dtype: str) -> None:
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype {dtype!r} is not float32 or float16")


def manifest(model_id: str, description: str, dtype: str, dim: int, image_size: int, architecture: str,
             weights: str, source_sha256: Optional[str], onnx_sha256: Optional[str], l2_normalize: str,
             opset: int = 17, quantization: Optional[dict] = None) -> dict:
    """Manifest of a CLIP feature tower (output features, Clip224 preprocessing): the clipguard-model/v1 contract
    (docs/models.md; the engine's ModelManifest parser).

    quantization: the settings of an int8 export (tools/onnx_int8.py), kept as provenance.quantization."""
    _check_dtype(dtype)
    if l2_normalize not in ("engine", "graph"):
        raise ValueError(f"l2_normalize {l2_normalize!r} is not engine or graph")
    provenance = _provenance(architecture, weights, source_sha256, opset)
    if quantization is not None:
        provenance["quantization"] = quantization
    return _model_manifest(
        model_id, description, onnx_sha256, provenance,
        {"name": "pixel_values", "dtype": dtype, "shape": [-1, 3, image_size, image_size]},
        {"name": "features", "dtype": dtype, "dim": dim},
        {"resize": {"rule": "shorter_side", "size": image_size, "interpolation": "bicubic"},
         "crop": {"rule": "center", "size": image_size},
         "mean": list(CLIP_MEAN), "std": list(CLIP_STD)},
        l2_normalize)


def logit_manifest(model_id: str, description: str, dtype: str, architecture: str, weights: str,
                   source_sha256: Optional[str], onnx_sha256: Optional[str], mean: Sequence[float],
                   std: Sequence[float], opset: int = 17) -> dict:
    """Manifest of a detector whose graph already outputs its logit (output.kind "logit", no head, no L2
    normalisation) and takes the whole image at native size (dynamic height and width, no resize or crop;
    max_pixels null = no pixel cap). Manifests without output.kind are feature towers."""
    _check_dtype(dtype)
    return _model_manifest(
        model_id, description, onnx_sha256, _provenance(architecture, weights, source_sha256, opset),
        {"name": "pixel_values", "dtype": dtype, "shape": [-1, 3, -1, -1]},
        {"name": "logit", "dtype": dtype, "dim": 1, "kind": "logit"},
        {"resize": None, "crop": None, "mean": list(mean), "std": list(std), "max_pixels": None},
        "none")


def write_json(obj: dict, path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------------------------------------------------- heads

def head(model_id: str, weights: Iterable[float], bias: float, version: str, provenance: str) -> dict:
    return {
        "format": HEAD_FORMAT,
        "model_id": model_id,
        "version": version,
        "weights": [float(w) for w in weights],
        "bias": float(bias),
        "calibration": {"a": 1.0, "b": 0.0},
        "threshold": 0.0,
        "provenance": provenance,
    }


def calibrated_random_head(model_id: str, seed: int, features: Optional[np.ndarray], dim: int,
                           target_std: float = 1.0, version: str = "random-test-head") -> dict:
    """A seeded random head that detects nothing but gives spread LLRs.

    Without `features`: a random unit direction, bias 0. With `features` (L2-normalised, one row per calibration
    image, at least 2): a random tower maps all photos to nearly the same direction (cosine ≈ 0.97), so a purely
    random direction sees almost no variation and would need a huge weight norm (~140 for the tiny tower). The
    direction is therefore a seeded random combination of the images' centred features (where they do vary),
    scaled so their LLRs have standard deviation `target_std` and biased so their mean is 0 — both signs occur."""
    rng = np.random.default_rng(seed)
    if features is None or len(features) < 2:
        direction = rng.standard_normal(dim)
        return head(model_id, direction / np.linalg.norm(direction), 0.0, version,
                    f"random unit direction, numpy default_rng(seed={seed}); bias 0; detects nothing")
    f = features.astype(np.float64)
    if f.shape[1] != dim:
        raise ValueError(f"calibration features are {f.shape[1]}-d, expected {dim}")
    centred = f - f.mean(axis=0)
    direction = centred.T @ rng.standard_normal(len(f))
    norm = np.linalg.norm(direction)
    if norm == 0.0:
        raise ValueError("calibration images all give the same features; use more varied images")
    direction /= norm
    projections = f @ direction
    scale = target_std / float(projections.std())
    return head(model_id, direction * scale, -float(projections.mean()) * scale, version,
                f"detects nothing: direction = centred features of {len(f)} calibration photos combined with "
                f"numpy default_rng(seed={seed}) normals, scaled and biased so those photos have LLR mean 0 and "
                f"std {target_std} (weight norm {scale:.3g})")


def llr(features: np.ndarray, head_obj: dict, l2_normalize: bool) -> np.ndarray:
    """LLR = w·(f/‖f‖) + bias, in float64 from the tower's float32 features."""
    f = features.astype(np.float64)
    if l2_normalize:
        f = f / np.linalg.norm(f, axis=1, keepdims=True)
    w = np.asarray(head_obj["weights"], dtype=np.float64)
    if w.shape[0] != f.shape[1]:
        raise ValueError(f"head has {w.shape[0]} weights but the tower gives {f.shape[1]}-d features")
    return f @ w + float(head_obj["bias"])


@torch.no_grad()
def tower_features(tower: torch.nn.Module, images: List[Image.Image], size: int = 224, batch: int = 16) -> np.ndarray:
    transform = clip_transform(size)
    out = []
    for start in range(0, len(images), batch):
        x = torch.stack([transform(im) for im in images[start:start + batch]])
        out.append(tower(x).float().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
