"""A lab model as bytes and back, for the store that keeps a student's work over a refresh or a server restart:
its architecture, where it learnt, its training curve and its weights. Read with weights_only, like any model file."""

from __future__ import annotations

import io
from dataclasses import asdict, astuple

import torch

from models.families import LabModel
from models.small_cnn import SmallCNNConfig, build_small_cnn
from models.training import Progress


def lab_model_bytes(lab: LabModel) -> bytes:
    """Everything a LabModel needs to be made again, except what is measured from it (its accuracy map and
    consistency, measured again when shown)."""
    saved = {
        "config": asdict(lab.model.config),
        "region": lab.region,
        "finished": lab.finished,
        "history": [list(astuple(step)) for step in lab.history],
        "weights": lab.model.state_dict(),
    }
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    return buffer.getvalue()


def lab_model_from_bytes(data: bytes) -> LabModel:
    """The LabModel saved by lab_model_bytes (with a new id), in eval mode. Raises ValueError for anything else."""
    try:
        saved = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        model = build_small_cnn(SmallCNNConfig(**saved["config"]))
        model.load_state_dict(saved["weights"], strict=True)
        history = [Progress(*step) for step in saved["history"]]
        return LabModel(model.eval(), saved["region"], history, bool(saved["finished"]))
    except Exception as error:  # damaged, or saved by another version: the caller says so and goes on without it
        raise ValueError(f"not a saved lab model ({type(error).__name__}: {error})") from error
