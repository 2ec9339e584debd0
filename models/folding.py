"""Batch norms folded into the convolutions before them, for faster inference with the same outputs.

In eval mode a batch norm is a fixed per-channel scale and shift, so it can be merged into the
weights and bias of the convolution that feeds it (to float rounding). torchvision's models keep
such pairs in nn.Sequential blocks (MobileNetV2's Conv2dNormActivation, ResNet's downsample);
folding them there needs no tracing, which the app only does at start-up (see network.py).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batch_norms(model: nn.Module, keep: frozenset[str] = frozenset()) -> nn.Module:
    """Fold every BatchNorm2d that directly follows a Conv2d in an nn.Sequential of the eval-mode
    `model` into that convolution, and replace it with nn.Identity; in place, returns `model`.
    Convolutions named in `keep` (e.g. probe layers whose own output is shown) are left alone."""
    for prefix, block in model.named_modules():
        if not isinstance(block, nn.Sequential):
            continue
        for i in range(len(block) - 1):
            conv, norm = block[i], block[i + 1]
            name = f"{prefix}.{i}" if prefix else str(i)
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d) and name not in keep:
                block[i], block[i + 1] = fuse_conv_bn_eval(conv, norm), nn.Identity()
    return model
