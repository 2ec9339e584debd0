"""Layer profiles: how each layer's response to an object changes with the distance it moved (Biscione &
Bowers 2021, Fig. 2-like), averaged over many objects, with the different-object baseline beside it."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import torch

from probes.equivariance import equivariance_error
from probes.invariance import cosine_similarity, pooled_cosine_similarity
from probes.receptive_field import ReceptiveField
from probes.translation_report import object_response

# images (B, 3, H, W) -> {layer: (B, C, h, w)}; a layer is any key: its name, or (model, name) to profile several
# models on the same batches at once
Outputs = Callable[[torch.Tensor], Mapping[Hashable, torch.Tensor]]
SceneAt = Callable[[Hashable | None, int, int], torch.Tensor]  # (object, x, y) -> image (3, H, W); None: no object
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # each distance is measured moving right, left, down and up
# each with a different-object baseline
SIMILARITIES = MappingProxyType({"pooled": pooled_cosine_similarity, "whole_maps": cosine_similarity})
MEASURES = (*SIMILARITIES, "equivariance_error")


@dataclass(frozen=True)
class Profile:
    """One model's layer profiles. values[layer][measure] is (objects × directions, distances): one row per
    object and direction of the move, NaN where a measure does not exist (an equivariance error with every
    cell seeing the border); baselines[layer][measure] is (objects,): the similarity of a different object."""

    distances: tuple[int, ...]  # pixels moved
    objects: tuple[Hashable, ...]
    values: dict[Hashable, dict[str, torch.Tensor]]
    baselines: dict[Hashable, dict[str, torch.Tensor]]

    def mean(self, layer: str, measure: str) -> torch.Tensor:
        """(distances,): the average over objects and directions, ignoring NaN."""
        return self.values[layer][measure].nanmean(dim=0)

    def spread(self, layer: str, measure: str) -> tuple[torch.Tensor, torch.Tensor]:
        """((distances,), (distances,)): the 10th and 90th percentiles over objects and directions."""
        values = self.values[layer][measure]
        return values.nanquantile(0.1, dim=0), values.nanquantile(0.9, dim=0)


def _maps_of(
    outputs_of: Outputs,
    scene_at: SceneAt,
    placements: Sequence[tuple[Hashable | None, int, int]],
    layers: Sequence[Hashable],
    batch_size: int,
    on_batch: Callable[[int], None],
) -> Iterator[tuple[tuple[Hashable | None, int, int], dict[Hashable, torch.Tensor]]]:
    """(placement, {layer: (C, h, w)}) for each (object, x, y) of `placements`, computed `batch_size` at a time;
    on_batch(images in the batch) after each batch. A generator, so only one batch of maps is held at once."""
    for start in range(0, len(placements), batch_size):
        batch = placements[start : start + batch_size]
        out = outputs_of(torch.stack([scene_at(*placement) for placement in batch]))  # {layer: (B, C, h, w)}
        on_batch(len(batch))
        for i, placement in enumerate(batch):
            yield placement, {layer: out[layer][i] for layer in layers}


def layer_profile(
    outputs_of: Outputs,
    scene_at: SceneAt,
    objects: Sequence[Hashable],
    others: Sequence[Hashable],
    distances: Sequence[int],
    base: tuple[int, int],
    fields: Mapping[Hashable, ReceptiveField],
    canvas: int,
    batch_size: int = 16,
    progress: Callable[[float], None] = lambda fraction: None,
) -> Profile:
    """For each object (others[k] is objects[k]'s different object, for the baseline), moved from `base` by each
    distance in each of DIRECTIONS: per probe layer (the keys of `fields`), the cosine similarity of the
    globally pooled maps and of the whole maps to the unmoved object's, and the equivariance error of the
    object's response on the cells clear of the border (as `probes.layer_report` defines them), in batches
    of `batch_size` images; progress(fraction done) after each batch. Only the maps at `base` are kept; the
    moved objects' maps are measured batch by batch and let go, so memory does not grow with the distances."""
    layers = tuple(fields)
    x0, y0 = base
    at_base = [(name, x0, y0) for name in (None, *dict.fromkeys([*objects, *others]))]  # the empty canvas first
    moves = [(k, j, i) for k in range(len(objects)) for j in range(len(distances)) for i in range(len(DIRECTIONS))]
    done = [0]

    def on_batch(images: int) -> None:
        done[0] += images
        progress(min(1.0, done[0] / (len(at_base) + len(moves))))

    reference = {
        name: maps for (name, _, _), maps in _maps_of(outputs_of, scene_at, at_base, layers, batch_size, on_batch)
    }
    empty = reference[None]
    inside = {  # (h, w) each: the cells whose receptive field stays inside the canvas
        layer: field.inside(empty[layer].shape[-2], canvas)[:, None] & field.inside(empty[layer].shape[-1], canvas)
        for layer, field in fields.items()
    }
    before = {
        name: {layer: object_response(maps[layer], empty[layer]) for layer in layers}
        for name, maps in reference.items()
    }
    values = {
        layer: {
            measure: torch.full((len(objects) * 4, len(distances)), torch.nan, dtype=torch.float64)
            for measure in MEASURES
        }
        for layer in layers
    }
    pairs = list(zip(objects, others, strict=True))
    baselines = {
        layer: {
            measure: torch.tensor(
                [alike(reference[a][layer], reference[b][layer]) for a, b in pairs], dtype=torch.float64
            )
            for measure, alike in SIMILARITIES.items()
        }
        for layer in layers
    }

    placements = [
        (objects[k], x0 + distances[j] * DIRECTIONS[i][0], y0 + distances[j] * DIRECTIONS[i][1]) for k, j, i in moves
    ]
    for (k, j, i), (_, maps) in zip(
        moves, _maps_of(outputs_of, scene_at, placements, layers, batch_size, on_batch), strict=True
    ):
        name, (dx, dy), d = objects[k], DIRECTIONS[i], distances[j]
        for layer in layers:
            unmoved, moved = reference[name][layer], maps[layer]
            cells = (d * dy / fields[layer].stride, d * dx / fields[layer].stride)
            for measure, alike in SIMILARITIES.items():
                values[layer][measure][4 * k + i, j] = alike(unmoved, moved)
            values[layer]["equivariance_error"][4 * k + i, j] = equivariance_error(
                before[name][layer], object_response(moved, empty[layer]), cells, inside[layer]
            )
    return Profile(tuple(distances), tuple(objects), values, baselines)
