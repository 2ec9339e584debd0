"""Translation T_Δ of an image or feature map, and the shift Δ recovered from two maps by cross-correlation."""

from __future__ import annotations

import torch


def shift_image(x: torch.Tensor, dy: int, dx: int, circular: bool = False) -> torch.Tensor:
    """T_Δ x with Δ = (dy, dx), positive = down/right: (T_Δ x)[..., i, j] = x[..., i − dy, j − dx].

    circular: indices wrap around (torch.roll). Otherwise cells whose source i − dy, j − dx lies
    outside the image are vacated and become 0.
    """
    rolled = torch.roll(x, shifts=(dy, dx), dims=(-2, -1))  # (..., H, W)
    if circular:
        return rolled
    h, w = x.shape[-2:]
    source_rows = torch.arange(h, device=x.device) - dy  # (H,)
    source_cols = torch.arange(w, device=x.device) - dx  # (W,)
    kept = ((source_rows >= 0) & (source_rows < h))[:, None] & ((source_cols >= 0) & (source_cols < w))  # (H, W)
    return torch.where(kept, rolled, torch.zeros_like(rolled))  # (..., H, W)


def estimate_shift(reference: torch.Tensor, moved: torch.Tensor, circular: bool = False) -> tuple[int, int]:
    """The integer Δ = (dy, dx) with moved ≈ shift_image(reference, dy, dx): the argmax over Δ of
    c(Δ) = Σ_c Σ_i m_c[i] · r_c[i − Δ], with r, m the maps minus their own per-channel mean.

    reference, moved: (C, H, W) or (H, W), computed with FFTs. circular: c is a circular
    correlation and Δ lies in (−H/2, H/2] × (−W/2, W/2]. Otherwise both maps are zero-padded to
    at least (2H − 1, 2W − 1), so c is a linear correlation and any |dy| < H, |dx| < W can come out.

    Why the mean is subtracted: ReLU feature maps often sit on a positive background b. In a linear
    correlation b contributes b² × (overlap area), a ramp peaking at Δ = 0 that can outweigh the
    object; centring each channel leaves a background near 0, so the object's peak wins. (Zero-filling a
    whole map with such a background instead adds a step edge at the vacated border, which correlates too.)
    If either map is constant in every channel there is nothing to align, and the answer is (0, 0).
    """
    h, w = reference.shape[-2:]
    r = _centred(reference.reshape(-1, h, w))  # (C, H, W)
    m = _centred(moved.reshape(-1, h, w))  # (C, H, W)
    if not (r.any() and m.any()):
        return 0, 0
    # Linear: pad to at least 2n − 1 so shifts cannot wrap; a power of two keeps the FFT fast
    # (odd sizes such as 223 made it ~10x slower, measured), and any larger size is as correct.
    size = (h, w) if circular else (_power_of_two(2 * h - 1), _power_of_two(2 * w - 1))
    cross_spectrum = torch.fft.rfft2(m, s=size) * torch.fft.rfft2(r, s=size).conj()  # (C, size[0], size[1] // 2 + 1)
    correlation = torch.fft.irfft2(cross_spectrum.sum(dim=0), s=size)  # (size[0], size[1]); index k is shift k mod size
    ky, kx = divmod(int(correlation.argmax()), size[1])
    return _signed(ky, size[0]), _signed(kx, size[1])


def _centred(maps: torch.Tensor) -> torch.Tensor:
    """maps − their per-channel mean, in float64; a constant channel becomes exactly 0."""
    maps = maps.double()  # (C, H, W)
    constant = (maps.amax(dim=(1, 2)) == maps.amin(dim=(1, 2)))[:, None, None]  # (C, 1, 1)
    return torch.where(constant, 0.0, maps - maps.mean(dim=(1, 2), keepdim=True))  # (C, H, W)


def _power_of_two(n: int) -> int:
    """The smallest power of two ≥ n."""
    return 1 << (n - 1).bit_length()


def _signed(k: int, n: int) -> int:
    """Index k of a length-n correlation as a shift in (−n/2, n/2]."""
    return k if k <= n // 2 else k - n
