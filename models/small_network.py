"""A small CNN of the lab in the drag view, as the same `Network` the ImageNet models are."""

from __future__ import annotations

import torch
from torch import nn

from models.lab_experiments import NEW_CLASSES
from models.network import Network
from models.small_cnn import SmallCNN, probe_layers
from scene.words import Words


class BlockOutputs(nn.Module):
    """A SmallCNN that returns what the drag view needs: every block's output and the logits."""

    def __init__(self, model: SmallCNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:  # (B, 3, H, W) -> {layer: (B, C, h, w)}
        outputs, x = {}, images
        for layer, block in zip(probe_layers(self.model.config), self.model.features, strict=True):
            x = outputs[layer] = block(x)
        outputs["logits"] = self.model.head(x)  # (B, classes)
        return outputs


def small_cnn_network(model: SmallCNN, variant: str, title: str, source: str) -> Network:
    """A small CNN taught NEW_CLASSES as a Network (its images are used as they are: mean 0, std 1).
    The model is put in eval mode and no longer learns."""
    config = model.config
    return Network(
        label=Words.ngettext("small CNN, {n} block", "small CNN, {n} blocks", config.depth, n=config.depth),
        layers=probe_layers(config),
        variant=variant,
        title=title,
        source=source,
        extractor=BlockOutputs(model.eval().requires_grad_(False)),
        categories=NEW_CLASSES,
        mean=(0.0, 0.0, 0.0),
        std=(1.0, 1.0, 1.0),
    )
