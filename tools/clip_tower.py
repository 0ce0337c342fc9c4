"""open_clip-compatible ViT image tower, written here so export, reference and benchmark share one definition.

Parameter names match open_clip's ``visual.*`` state-dict layout (without the ``visual.`` prefix), so an
``open_clip_pytorch_model.bin`` loads with ``load_state_dict`` unchanged. The forward pass returns the
"next-to-last" features of Cozzolino et al. (CVPRW 2024): ``ln_post`` applied to the class token, WITHOUT ``proj``.

Attention is written out with plain matmuls (not ``nn.MultiheadAttention``) so that the traced ONNX graph is a
small, readable set of MatMul/Softmax nodes; the arithmetic is the same as open_clip's (pre-LN residual blocks,
q scaled by head_dim**-0.5 before q·k).
"""
from __future__ import annotations

import dataclasses
import math
import re
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import torch
import torch.nn.functional as F
from torch import nn

VISUAL_PREFIX = "visual."


@dataclasses.dataclass(frozen=True)
class TowerConfig:
    image_size: int
    patch_size: int
    width: int
    layers: int
    heads: int
    mlp_dim: int
    proj_dim: int  # width of open_clip's `visual.proj`; kept so checkpoints load, unused by forward()
    quick_gelu: bool = False  # OpenAI checkpoints use QuickGELU; LAION/DataComp ones (ours) use exact erf GELU
    ln_eps: float = 1e-5

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def tokens(self) -> int:
        return self.grid * self.grid + 1

    def describe(self) -> str:
        act = "QuickGELU" if self.quick_gelu else "exact GELU"
        return (f"ViT patch {self.patch_size}, {self.image_size}x{self.image_size} input, width {self.width}, "
                f"{self.layers} layers, {self.heads} heads, MLP {self.mlp_dim}, {act}")


ARCHS: Dict[str, TowerConfig] = {
    # open_clip ViT-L-14 (e.g. laion/CLIP-ViT-L-14-CommonPool.XL-s13B-b90K)
    "vit-l-14": TowerConfig(image_size=224, patch_size=14, width=1024, layers=24, heads=16, mlp_dim=4096, proj_dim=768),
    # open_clip ViT-B-16
    "vit-b-16": TowerConfig(image_size=224, patch_size=16, width=768, layers=12, heads=12, mlp_dim=3072, proj_dim=512),
    # test tower: same topology as ViT-L/14 (patch 14, 257 tokens), tiny widths so the ONNX is a few hundred KB
    "tiny": TowerConfig(image_size=224, patch_size=14, width=64, layers=2, heads=4, mlp_dim=256, proj_dim=32),
}

# Human-readable names used in manifests.
ARCH_DISPLAY = {"vit-l-14": "ViT-L-14", "vit-b-16": "ViT-B-16", "tiny": "tiny ViT (patch 14, width 64, 2 layers)"}


class TowerConfigError(ValueError):
    """The weights do not describe the architecture asked for (or any supported one)."""


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class SelfAttention(nn.Module):
    """Multi-head self-attention with nn.MultiheadAttention's parameter names (in_proj_*, out_proj)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        if width % heads:
            raise TowerConfigError(f"width {width} is not divisible by {heads} heads")
        self.heads = heads
        self.head_dim = width // heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)
        nn.init.xavier_uniform_(self.in_proj_weight)  # nn.MultiheadAttention's initialisation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, width = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        qkv = qkv.reshape(batch, tokens, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # each (batch, heads, tokens, head_dim)
        q = q * (self.head_dim ** -0.5)
        attn = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(batch, tokens, width)
        return self.out_proj(out)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, cfg: TowerConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.attn = SelfAttention(cfg.width, cfg.heads)
        self.ln_2 = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        act = QuickGELU() if cfg.quick_gelu else nn.GELU(approximate="none")
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(cfg.width, cfg.mlp_dim)),
            ("gelu", act),
            ("c_proj", nn.Linear(cfg.mlp_dim, cfg.width)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, cfg: TowerConfig):
        super().__init__()
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(cfg) for _ in range(cfg.layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x)
        return x


class ClipVisionTower(nn.Module):
    """pixel_values (N, 3, S, S), CLIP-normalised → features (N, width) = ln_post(class token), optionally L2-normalised."""

    def __init__(self, cfg: TowerConfig, l2_normalize: bool = False):
        super().__init__()
        self.cfg = cfg
        self.l2_normalize = l2_normalize
        scale = cfg.width ** -0.5  # open_clip's initialisation scale for the embeddings and proj
        self.conv1 = nn.Conv2d(3, cfg.width, kernel_size=cfg.patch_size, stride=cfg.patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(cfg.width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(cfg.tokens, cfg.width))
        self.ln_pre = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.transformer = Transformer(cfg)
        self.ln_post = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.proj = nn.Parameter(scale * torch.randn(cfg.width, cfg.proj_dim))

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        x = self.conv1(pixel_values)                      # (N, width, grid, grid)
        x = x.flatten(2).transpose(1, 2)                  # (N, grid², width)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        x = self.transformer(x)
        features = self.ln_post(x[:, 0, :])               # next-to-last features: `proj` deliberately not applied
        if self.l2_normalize:
            features = F.normalize(features, dim=-1)
        return features


def random_init(cfg: TowerConfig, seed: int, l2_normalize: bool = False) -> ClipVisionTower:
    """Deterministic random tower: open_clip-style init, plus small random LayerNorm/bias values so every
    parameter of the exported graph is non-trivial (a mis-wired bias or LayerNorm would change the output)."""
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        tower = ClipVisionTower(cfg, l2_normalize=l2_normalize)
        with torch.no_grad():
            for name, param in tower.named_parameters():
                if re.search(r"(^|\.)ln_[^.]+\.weight$", name):
                    param.copy_(1.0 + 0.1 * torch.randn_like(param))
                elif name.endswith("bias"):
                    param.copy_(0.02 * torch.randn_like(param))
    finally:
        torch.random.set_rng_state(generator_state)
    return tower.eval()


def strip_checkpoint(obj: object) -> Mapping[str, torch.Tensor]:
    """Bare state dict, or one wrapped as {"state_dict": ...}; DataParallel `module.` prefixes removed."""
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise TowerConfigError(f"checkpoint is a {type(obj).__name__}, expected a state dict (mapping of tensors)")
    out = OrderedDict()
    for key, value in obj.items():
        while key.startswith("module."):
            key = key[len("module."):]
        out[key] = value
    return out


def visual_state_dict(state: Mapping[str, torch.Tensor]) -> "OrderedDict[str, torch.Tensor]":
    """The `visual.*` entries with the prefix removed (text tower, logit_scale etc. are ignored)."""
    visual = OrderedDict((k[len(VISUAL_PREFIX):], v) for k, v in state.items() if k.startswith(VISUAL_PREFIX))
    if not visual:
        sample = ", ".join(list(state.keys())[:5])
        raise TowerConfigError(f"no 'visual.*' keys in the checkpoint (first keys: {sample}); "
                               "expected an open_clip state dict such as open_clip_pytorch_model.bin")
    return visual


def infer_config(visual: Mapping[str, torch.Tensor], heads: Optional[int] = None, quick_gelu: bool = False) -> TowerConfig:
    """Architecture from tensor shapes. Heads are not visible in shapes: given, else open_clip's width // 64."""
    def need(key: str) -> torch.Tensor:
        if key not in visual:
            raise TowerConfigError(f"checkpoint lacks 'visual.{key}' — not an open_clip ViT image tower")
        return visual[key]

    conv = need("conv1.weight")
    if conv.dim() != 4 or conv.shape[1] != 3 or conv.shape[2] != conv.shape[3]:
        raise TowerConfigError(f"visual.conv1.weight has shape {tuple(conv.shape)}, expected (width, 3, patch, patch)")
    width, patch = conv.shape[0], conv.shape[2]
    tokens = need("positional_embedding").shape[0]
    grid = math.isqrt(tokens - 1)
    if grid * grid + 1 != tokens:
        raise TowerConfigError(f"visual.positional_embedding has {tokens} rows, not grid²+1")
    layer_ids = {int(m.group(1)) for k in visual for m in [re.match(r"transformer\.resblocks\.(\d+)\.", k)] if m}
    layers = len(layer_ids)
    if layer_ids != set(range(layers)):
        raise TowerConfigError(f"residual block indices are not contiguous: {sorted(layer_ids)}")
    mlp_dim = need("transformer.resblocks.0.mlp.c_fc.weight").shape[0]
    proj_dim = need("proj").shape[1]
    return TowerConfig(image_size=grid * patch, patch_size=patch, width=width, layers=layers,
                       heads=heads if heads is not None else max(1, width // 64), mlp_dim=mlp_dim,
                       proj_dim=proj_dim, quick_gelu=quick_gelu)


def check_config(inferred: TowerConfig, expected: TowerConfig, arch: str) -> None:
    fields = ["image_size", "patch_size", "width", "layers", "mlp_dim", "proj_dim"]
    diffs = [f"{f}: weights {getattr(inferred, f)} vs {arch} {getattr(expected, f)}"
             for f in fields if getattr(inferred, f) != getattr(expected, f)]
    if diffs:
        raise TowerConfigError(f"the weights are not a {arch} tower (" + "; ".join(diffs) + "); "
                               f"pass the --arch that matches the checkpoint")


def load_tower(path: str, arch: Optional[str] = None, quick_gelu: bool = False,
               l2_normalize: bool = False) -> ClipVisionTower:
    """Tower from an open_clip checkpoint (or one written by save_tower). Every `visual.*` tensor must be used."""
    checkpoint = torch.load(path, map_location="cpu")
    saved_cfg = checkpoint.get("tower_config") if isinstance(checkpoint, Mapping) else None
    visual = visual_state_dict(strip_checkpoint(checkpoint))
    if saved_cfg is not None and arch is None:
        cfg = TowerConfig(**saved_cfg)
        check_config(infer_config(visual, cfg.heads, cfg.quick_gelu), cfg, "saved tower_config")
    else:
        heads = ARCHS[arch].heads if arch else None
        cfg = infer_config(visual, heads=heads, quick_gelu=quick_gelu)
        if arch:
            check_config(cfg, ARCHS[arch], arch)
    tower = ClipVisionTower(cfg, l2_normalize=l2_normalize)
    result = tower.load_state_dict(visual, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise TowerConfigError(
            "checkpoint does not match the open_clip ViT layout: "
            f"missing {['visual.' + k for k in result.missing_keys][:8]}, "
            f"unsupported {['visual.' + k for k in result.unexpected_keys][:8]}")
    for name, param in tower.named_parameters():
        if param.shape != visual[name].shape:  # load_state_dict already raises on this; kept as a clear guard
            raise TowerConfigError(f"visual.{name}: shape {tuple(visual[name].shape)} != {tuple(param.shape)}")
    return tower.float().eval()


def save_tower(tower: ClipVisionTower, path: str, **extra) -> None:
    """open_clip key layout (`visual.*`) wrapped with the config, so load_tower needs no --arch for it."""
    state = OrderedDict((VISUAL_PREFIX + k, v.detach().clone()) for k, v in tower.state_dict().items())
    torch.save({"state_dict": state, "tower_config": dataclasses.asdict(tower.cfg), **extra}, path)
