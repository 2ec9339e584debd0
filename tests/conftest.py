"""Shared test setup: where the real ImageNet weights are, when this machine has them."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_WEIGHTS = Path(__file__).resolve().parents[2] / "shared" / "weights"


@pytest.fixture
def shared_weights() -> Path:
    """The folder of real pretrained weights beside the checkout; skips (saying why) without it."""
    if not (SHARED_WEIGHTS / "mobilenet_v2.pth").is_file():
        pytest.skip(f"needs real ImageNet weights in {SHARED_WEIGHTS}, which this machine does not have")
    return SHARED_WEIGHTS
