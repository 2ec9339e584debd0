"""Where is it? How well a linear read-out recovers the object's absolute position from a layer's pooled maps.

Global average pooling throws away *where* in the map a response is; if the pooled vector still tells
where the object is, the network has encoded absolute position in *what* its channels respond, which
only the canvas border can teach it (Kayhan & van Gemert 2020: zero padding lets a CNN encode absolute
position). The read-out is ridge regression in closed form, fitted on some placements of the object and
tested on others it never saw:

    z = (a − μ) / σ                       features standardised with the training set's mean and std
    β = (ZᵀZ + λI)⁻¹ Zᵀ(Y − ȳ)            one column of β per coordinate, x and y
    ŷ = ȳ + z β                           the bias ȳ (the training mean) is not penalised

λ is chosen per layer by exact leave-one-out error on the training placements (from one SVD of Z, for
every λ of a grid relative to the features' scale, `RIDGE_GRID`), so no held-out placement takes part in
any choice. A held-out feature is clipped to the range it took on the training placements before it is
read: a channel that is nearly dead in training (a random deep net's, say) must not send a read-out
thousands of pixels off because it fires once in testing.

The report says, on the held-out placements: the mean distance in pixels between the read-out's position
and the true one, the same for always answering the training mean (the baseline), and R² for x and for y
against that baseline, 1 − Σ(x̂ − x)² / Σ(x̄ − x)²: 1 is a perfect read-out, 0 is no better than the
baseline, so a layer that *cannot* tell where reads as R² ≈ 0 (slightly below, from noise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch

# λ / N on a grid of half decades, N the training placements: with standardised features each column of Z has
# squared norm N, so λ = N·α shrinks a direction that one feature alone spans by 1/(1 + α).
RIDGE_GRID: tuple[float, ...] = tuple(10.0 ** (k / 2) for k in range(-8, 9))  # 1e-4 … 1e4
MIN_STD = 1e-6  # a feature whose std over the training set is below this times its scale is constant: dropped


@dataclass(frozen=True)
class LayerReadout:
    """One layer's read-out of the object's position, tested on held-out placements."""

    channels: int  # features read out (the layer's channels, globally averaged)
    ridge: float  # the λ chosen by leave-one-out on the training placements
    error_px: float  # mean ‖ŷ − y‖ over the held-out placements, in pixels
    baseline_px: float  # the same for always answering the training mean
    r2: tuple[float, float]  # (x, y): 1 − Σ(ŷ − y)² / Σ(ȳ_train − y)² over the held-out placements
    predicted: torch.Tensor = field(repr=False)  # (T, 2) float64: the read-out's (x, y) for each held-out placement


@dataclass(frozen=True)
class PositionReadout:
    """The read-out of every layer of one model, with the placements it was fitted and tested on."""

    positions: torch.Tensor  # (P, 2) int64 object centres (x, y); the first `train` are the training placements
    train: int
    layers: dict[str, LayerReadout]  # shallow -> deep

    @property
    def tested(self) -> torch.Tensor:
        """(T, 2): the held-out placements, in the order of every layer's `predicted`."""
        return self.positions[self.train :]


def whole_placements(canvas: int, object_size: int, count: int, seed: int = 0) -> torch.Tensor:
    """(count, 2) int64 distinct object centres (x, y), drawn uniformly (seeded) among those that keep the whole
    object on the canvas: its top-left corner x − size // 2 from 0 to canvas − size (as `scene.compose` places it)."""
    low, high = object_size // 2, canvas - object_size + object_size // 2  # centre bounds, included
    side = high - low + 1
    if side < 1 or count > side * side:
        raise ValueError(f"a {object_size}-px object has {max(side, 0) ** 2} whole placements on a {canvas}-px canvas")
    index = torch.randperm(side * side, generator=torch.Generator().manual_seed(seed))[:count]  # (count,)
    return torch.stack([low + index % side, low + index // side], dim=1)  # (count, 2)


def pooled_activations(
    outputs_of: Callable[[torch.Tensor], Mapping[str, Mapping[str, torch.Tensor]]],
    scene_at: Callable[[int, int], torch.Tensor],
    positions: torch.Tensor,
    batch_size: int = 16,
    progress: Callable[[float], None] = lambda fraction: None,
) -> dict[str, dict[str, torch.Tensor]]:
    """{model: {layer: (P, C) float64}}: every layer's maps averaged over space, with the object at each position.

    outputs_of(images (B, 3, H, W)) -> {model: {layer: (B, C, h, w)}}, several models on the same batch at once
    (outputs that are not maps, such as logits (B, K), are left out); scene_at(x, y) -> image (3, H, W);
    positions (P, 2) as (x, y); progress(fraction done) after each batch.
    """
    pooled: dict[str, dict[str, list[torch.Tensor]]] = {}
    points = positions.tolist()
    for start in range(0, len(points), batch_size):
        batch = torch.stack([scene_at(x, y) for x, y in points[start : start + batch_size]])  # (B, 3, H, W)
        for model, outputs in outputs_of(batch).items():
            for layer, maps in outputs.items():
                if maps.dim() == 4:
                    pooled.setdefault(model, {}).setdefault(layer, []).append(maps.double().mean(dim=(2, 3)))  # (B, C)
        progress(min(1.0, (start + batch_size) / len(points)))
    return {model: {layer: torch.cat(parts) for layer, parts in layers.items()} for model, layers in pooled.items()}


@dataclass(frozen=True)
class RidgeFit:
    """A fitted read-out: ŷ = mean_y + clip((a − mean_a) / std_a, low, high) · coefficients."""

    mean_a: torch.Tensor  # (D,)
    std_a: torch.Tensor  # (D,); dropped (constant) features have std inf, so they weigh nothing
    low: torch.Tensor  # (D,): the least standardised value of each feature on the training samples
    high: torch.Tensor  # (D,): the greatest
    mean_y: torch.Tensor  # (K,)
    coefficients: torch.Tensor  # (D, K)
    ridge: float

    def predict(self, features: torch.Tensor) -> torch.Tensor:  # (M, D) -> (M, K)
        """The read-out of features (M, D), each first clipped to the range it took in training."""
        z = torch.clamp((features.double() - self.mean_a) / self.std_a, self.low, self.high)  # (M, D)
        return self.mean_y + z @ self.coefficients


def standardise(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(z (N, D), mean (D,), std (D,)): features (N, D) minus their mean over the N samples, over their std. A
    feature whose std is below MIN_STD of its largest magnitude is constant but for rounding: its std is set to
    inf, so that its z is 0 and it weighs nothing."""
    a = features.double()
    mean, std = a.mean(dim=0), a.std(dim=0, correction=0)  # (D,), (D,)
    std = torch.where(std > MIN_STD * a.abs().amax(dim=0), std, torch.inf)
    return (a - mean) / std, mean, std


def leave_one_out_error(z: torch.Tensor, targets: torch.Tensor, ridges: Sequence[float]) -> list[float]:
    """For each λ of `ridges`, Σᵢ ‖yᵢ − ŷ₍₋ᵢ₎‖²: the squared error on each sample of the read-out fitted on the
    others, with standardised features z (N, D) and targets (N, K), in closed form.

    With z = U S Vᵀ (thin SVD) and r = y − ȳ, the fitted values are ȳ + H r with H = U diag(s² / (s² + λ)) Uᵀ,
    and the leave-one-out residual of sample i is (r − H r)ᵢ / (1 − 1/N − Hᵢᵢ): the 1/N is the unpenalised
    bias's share of the hat matrix (z's columns have mean 0, so they are orthogonal to it).
    """
    n = len(z)
    r = targets.double() - targets.double().mean(dim=0)  # (N, K)
    u, s, _ = torch.linalg.svd(z, full_matrices=False)  # (N, R), (R,)
    ur = u.T @ r  # (R, K)
    errors = []
    for ridge in ridges:
        shrink = s**2 / (s**2 + ridge)  # (R,)
        residual = r - u @ (shrink[:, None] * ur)  # (N, K)
        leverage = 1 / n + (u**2) @ shrink  # (N,)
        errors.append(float(((residual / (1 - leverage).clamp_min(1e-12)[:, None]) ** 2).sum()))
    return errors


def fit_ridge(features: torch.Tensor, targets: torch.Tensor, grid: Sequence[float] = RIDGE_GRID) -> RidgeFit:
    """Ridge regression of targets (N, K) on standardised features (N, D) in closed form,
    β = (ZᵀZ + λI)⁻¹ Zᵀ(Y − ȳ), with λ = N·α for the α of `grid` whose leave-one-out error (summed over the
    K targets) is least; on a tie, the larger λ, the simpler read-out."""
    z, mean_a, std_a = standardise(features)  # (N, D), (D,), (D,)
    y = targets.double()  # (N, K)
    n, d = z.shape
    ridges = [alpha * n for alpha in grid]
    errors = leave_one_out_error(z, y, ridges)
    least = min(errors)
    ridge = max(r for r, e in zip(ridges, errors, strict=True) if e <= least * (1 + 1e-9))
    mean_y = y.mean(dim=0)  # (K,)
    coefficients = torch.linalg.solve(z.T @ z + ridge * torch.eye(d, dtype=z.dtype), z.T @ (y - mean_y))  # (D, K)
    return RidgeFit(mean_a, std_a, z.amin(dim=0), z.amax(dim=0), mean_y, coefficients, ridge)


def layer_readout(features: torch.Tensor, positions: torch.Tensor, train: int) -> LayerReadout:
    """Fit the read-out on the first `train` samples of features (P, C) at positions (P, 2) and test it on the rest."""
    xy = positions.double()  # (P, 2)
    fit = fit_ridge(features[:train], xy[:train])
    predicted, truth = fit.predict(features[train:]), xy[train:]  # (T, 2) each
    baseline = fit.mean_y.expand_as(truth)  # (T, 2): always the training mean
    residual, spread = ((predicted - truth) ** 2).sum(dim=0), ((baseline - truth) ** 2).sum(dim=0)  # (2,) each
    r2 = 1 - residual / spread.clamp_min(1e-30)  # (2,)
    return LayerReadout(
        channels=features.shape[1],
        ridge=fit.ridge,
        error_px=float((predicted - truth).norm(dim=1).mean()),
        baseline_px=float((baseline - truth).norm(dim=1).mean()),
        r2=(float(r2[0]), float(r2[1])),
        predicted=predicted,
    )


def position_readout(features: Mapping[str, torch.Tensor], positions: torch.Tensor, train: int) -> PositionReadout:
    """Every layer's read-out: features {layer: (P, C)} with the object at positions (P, 2), the first `train`
    placements to fit on and the others to test on."""
    if not 2 <= train < len(positions):
        raise ValueError(f"need at least 2 training placements and 1 held out, got {train} of {len(positions)}")
    return PositionReadout(
        positions, train, {layer: layer_readout(a, positions, train) for layer, a in features.items()}
    )
