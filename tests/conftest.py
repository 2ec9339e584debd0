"""Shared test setup: where the real ImageNet weights are, when this machine has them."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import WEIGHTS_DIR_ENV

SHARED_WEIGHTS = Path(__file__).resolve().parents[2] / "shared" / "weights"


@pytest.fixture
def shared_weights() -> Path:
    """The folder of real pretrained weights beside the checkout; skips (saying why) without it."""
    if not (SHARED_WEIGHTS / "mobilenet_v2.pth").is_file():
        pytest.skip(f"needs real ImageNet weights in {SHARED_WEIGHTS}, which this machine does not have")
    return SHARED_WEIGHTS


def app_env() -> dict[str, str]:
    """Environment for a real app server: the shared weights when there are any, so the
    pretrained column shows; without them the app runs offline on its scratch twins."""
    return {WEIGHTS_DIR_ENV: str(SHARED_WEIGHTS)} if SHARED_WEIGHTS.is_dir() else {}
