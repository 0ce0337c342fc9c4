"""The one definition of `res50nodown`, the reference's second detector (Corvi2023), and its reference preprocessing.

A torchvision-layout ResNet-50 (Bottleneck v1.5: the stride sits on the 3x3 conv; expansion 4) whose stem does not
downsample: conv1 7x7 stride 1 padding 3, maxpool 3x3 stride 1 padding 1; layer2-layer4 keep stride 2, so the
total downsampling is 8x instead of 32x. Then AdaptiveAvgPool2d(1), dropout (a no-op in eval) and `fc`, a linear
layer 2048 -> 1 with bias. The output, shape (N, 1), is a logit: > 0 means synthetic.

Preprocessing (reference `norm_type: resnet`, `patch_size: null`): the whole image at native size, PIL
`convert('RGB')`, `ToTensor`, `Normalize(ImageNet mean/std)`; no resize, no crop; batch 1.

Checkpoints as users have them (`weights.pth`): the state dict sits under `model` (else `state_dict`, `net`, or it is
the dict itself), keys may carry a `module.` prefix. The key layout is torchvision's (`conv1.weight`,
`layer1.0.conv2.weight`, `layer1.0.downsample.0.weight`, `fc.weight`, ...).
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

import torch
from torch import nn
from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
EXPANSION = 4
WRAPPER_KEYS = ("model", "state_dict", "net")  # the reference's order
MODULE_PREFIX = "module."


@dataclass(frozen=True)
class NetConfig:
    stem_width: int                  # conv1 output channels (64 in ResNet-50)
    widths: Tuple[int, int, int, int]  # bottleneck planes per stage (64, 128, 256, 512); outputs are 4x these
    blocks: Tuple[int, int, int, int]  # bottlenecks per stage (3, 4, 6, 3)

    @property
    def feature_dim(self) -> int:
        return self.widths[-1] * EXPANSION

    def describe(self) -> str:
        return (f"stem {self.stem_width}, widths {'/'.join(map(str, self.widths))} x{EXPANSION}, "
                f"blocks {'/'.join(map(str, self.blocks))}, fc {self.feature_dim}->1")


ARCHS: Dict[str, NetConfig] = {
    "res50nodown": NetConfig(64, (64, 128, 256, 512), (3, 4, 6, 3)),
    # Same strides and block layout (first block of a stage downsamples, the next is an identity block), a few
    # channels per stage: a committed test model of well under 1 MB.
    "res50nodown-tiny": NetConfig(4, (4, 8, 16, 32), (2, 2, 2, 2)),
}
ARCH_DISPLAY = {
    "res50nodown": "res50nodown (Corvi2023): ResNet-50, stride-1 stem",
    "res50nodown-tiny": "res50nodown-tiny: res50nodown layout, widths 4/8/16/32 x4, 2 blocks per stage",
}


class NetConfigError(ValueError):
    """A checkpoint that is not a res50nodown state dict, or not of the requested shape."""


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (v1.5): 1x1 -> 3x3 (stride here) -> 1x1 (x4), projection shortcut when needed."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * EXPANSION
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
                           if stride != 1 or inplanes != out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + identity)


class Res50NoDown(nn.Module):
    def __init__(self, cfg: NetConfig, dropout: float = 0.5):
        super().__init__()
        self.cfg = cfg
        self.conv1 = nn.Conv2d(3, cfg.stem_width, 7, stride=1, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(cfg.stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=1, padding=1)
        inplanes = cfg.stem_width
        for stage, (planes, blocks) in enumerate(zip(cfg.widths, cfg.blocks)):
            layer = []
            for b in range(blocks):
                layer.append(Bottleneck(inplanes, planes, stride=2 if stage > 0 and b == 0 else 1))
                inplanes = planes * EXPANSION
            setattr(self, f"layer{stage + 1}", nn.Sequential(*layer))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)  # the reference's 0.5; identity in eval
        self.fc = nn.Linear(cfg.feature_dim, 1)

    def features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """The pooled (N, feature_dim) vector that `fc` reads."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(pixel_values))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(pixel_values)))


def native_transform(mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """The reference's preprocessing for res50nodown, on a PIL RGB image: no resize, no crop."""
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean=mean, std=std)])


def random_init(cfg: NetConfig, seed: int) -> Res50NoDown:
    """Seeded random network in eval mode: the reference's init for convs (Kaiming normal, fan_out), and random
    batch-norm affine parameters and running statistics so that the exported graph's folded BN is exercised
    (the reference's init, weight 1 / bias 0 / mean 0 / var 1, would make every BN nearly the identity)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = Res50NoDown(cfg)
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                with torch.no_grad():
                    m.weight.uniform_(0.5, 1.0)
                    m.bias.normal_(0.0, 0.1)
                    m.running_mean.normal_(0.0, 0.1)
                    m.running_var.uniform_(0.5, 2.0)
    return net.eval()


def extract_state_dict(obj: object) -> "OrderedDict[str, torch.Tensor]":
    """The reference's rule: `model`, else `state_dict`, else `net`, else the dict itself; `module.` stripped."""
    if not isinstance(obj, Mapping):
        raise NetConfigError(f"checkpoint is a {type(obj).__name__}, not a dict of tensors")
    for key in WRAPPER_KEYS:
        if key in obj and isinstance(obj[key], Mapping):
            obj = obj[key]
            break
    state = OrderedDict()
    for k, v in obj.items():
        if not isinstance(v, torch.Tensor):
            continue  # metadata beside the weights (arch, seed, ...)
        state[k[len(MODULE_PREFIX):] if k.startswith(MODULE_PREFIX) else k] = v
    if "conv1.weight" not in state or "fc.weight" not in state:
        sample = ", ".join(list(state)[:5]) or "no tensors"
        raise NetConfigError("checkpoint is not a res50nodown state dict: 'conv1.weight' and 'fc.weight' are "
                             f"needed (under 'model', 'state_dict', 'net' or at the top level); found {sample}")
    return state


def infer_config(state: Mapping[str, torch.Tensor]) -> NetConfig:
    def shape(key: str) -> Tuple[int, ...]:
        if key not in state:
            raise NetConfigError(f"checkpoint has no '{key}'")
        return tuple(state[key].shape)

    stem = shape("conv1.weight")
    if len(stem) != 4 or stem[1:] != (3, 7, 7):
        raise NetConfigError(f"conv1.weight has shape {list(stem)}; res50nodown has [C, 3, 7, 7]")
    widths, blocks = [], []
    for stage in range(1, 5):
        widths.append(shape(f"layer{stage}.0.conv1.weight")[0])
        n = 0
        while f"layer{stage}.{n}.conv1.weight" in state:
            n += 1
        blocks.append(n)
    if "layer5.0.conv1.weight" in state:
        raise NetConfigError("checkpoint has a layer5: not a ResNet-50 layout")
    return NetConfig(stem[0], tuple(widths), tuple(blocks))


def load_net(path: str, arch: Optional[str] = None) -> Res50NoDown:
    """Build the network from a checkpoint file; with `arch`, its shapes must be that architecture's."""
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises a variety of pickle/zip errors
        raise NetConfigError(f"{path}: not a PyTorch checkpoint ({type(e).__name__}: {e})") from e
    state = extract_state_dict(obj)
    cfg = infer_config(state)
    if arch is not None and cfg != ARCHS[arch]:
        raise NetConfigError(f"{path} is {cfg.describe()}, but --arch {arch} is {ARCHS[arch].describe()}")
    net = Res50NoDown(cfg)
    expected = net.state_dict()
    optional = {k for k in expected if k.endswith("num_batches_tracked")}  # a training counter, unused in eval
    problems = [f"missing {k} {list(v.shape)}" for k, v in expected.items() if k not in state and k not in optional]
    problems += [f"unexpected {k} {list(v.shape)}" for k, v in state.items() if k not in expected]
    problems += [f"{k}: checkpoint {list(state[k].shape)}, network {list(v.shape)}"
                 for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if problems:
        shown = "; ".join(problems[:8]) + (f"; and {len(problems) - 8} more" if len(problems) > 8 else "")
        raise NetConfigError(f"{path} does not fit res50nodown ({cfg.describe()}): {shown}")
    net.load_state_dict({k: state.get(k, v).to(v.dtype) for k, v in expected.items()})
    return net.eval()


def save_net(net: Res50NoDown, path: str, **extra) -> None:
    """Saved as the reference stores it (state dict under `model`), so both load_net and the reference load it."""
    state = OrderedDict((k, v.detach().clone()) for k, v in net.state_dict().items())
    torch.save({"model": state, "net_config": dataclasses.asdict(net.cfg), **extra}, path)


def arch_key_of(cfg: NetConfig) -> Optional[str]:
    return next((k for k, v in ARCHS.items() if v == cfg), None)
