"""The shipped teaching CNNs in the drag view, as the same `Network` the ImageNet models are.

The two columns are the Biscione & Bowers contrast: both were taught the same ten shapes and
letters with every training object at one location; one had first learnt 100 other classes (shapes,
letters and random doodles) all over the canvas.
"""

from __future__ import annotations

from types import MappingProxyType

import torch
from torch import nn

from models.lab_experiments import NEW_CLASSES, load_teaching_model
from models.network import Network
from models.registry import ModelSpec
from models.small_cnn import SmallCNN, SmallCNNConfig, probe_layers

TEACHING = "teaching_cnn"  # the drag view's name for this family of models

# drag-view variant -> (shipped model file, column title, where its weights came from)
TEACHING_VARIANTS = MappingProxyType(
    {
        "pretrained": (
            "transferred",
            "Pretrained elsewhere, taught at one spot",
            "first trained on 100 other classes (shapes, letters, doodles) all over the canvas; then its last "
            "layer learnt these at one location",
        ),
        "scratch": ("scratch", "From scratch, taught at one spot", "trained from scratch at one location"),
    }
)


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


def teaching_spec(config: SmallCNNConfig) -> ModelSpec:
    return ModelSpec(TEACHING, f"teaching CNN, {config.depth} blocks", probe_layers(config))


def small_cnn_network(model: SmallCNN, variant: str, title: str, source: str) -> Network:
    """A small CNN taught NEW_CLASSES as a Network (its images are used as they are: mean 0, std 1).
    The model is put in eval mode and no longer learns."""
    return Network(
        spec=teaching_spec(model.config),
        variant=variant,
        title=title,
        source=source,
        extractor=BlockOutputs(model.eval().requires_grad_(False)),
        categories=NEW_CLASSES,
        mean=(0.0, 0.0, 0.0),
        std=(1.0, 1.0, 1.0),
    )


def load_teaching_network(variant: str) -> Network:
    """A shipped teaching model as a Network."""
    file_name, title, source = TEACHING_VARIANTS[variant]
    return small_cnn_network(load_teaching_model(file_name), variant, title, source)
