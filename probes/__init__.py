"""Pure measurements on tensors: what a CNN's outputs say about the scene. No Streamlit here."""

from probes.channels import colour_range, most_active_channels
from probes.scores import class_probability, top_k

__all__ = ["class_probability", "colour_range", "most_active_channels", "top_k"]
