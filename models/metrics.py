"""Image-quality numbers, numpy only (no torch), for evaluation, the demo and the report.

Conventions: images are RGB float arrays H×W×3 in [0, 1] (H×W grey also accepted), data range 1,
no border crop. SSIM is Wang et al.'s: Gaussian window σ = 1.5 (truncated at 3.5 σ), K1 = 0.01,
K2 = 0.03, population covariances, mean over channels — the same numbers as
`skimage.metrics.structural_similarity(a, b, data_range=1, channel_axis=-1,
gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`.
Spectral numbers use luminance (BT.709) with a Hann window, so the image border does not add
a false cross of high frequencies.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

_LUMA = np.array([0.2126, 0.7152, 0.0722])
# Below these sizes (pixels, each side) a number would be NaN or noise: the functions return NaN,
# without numpy warnings, and callers show "too small to measure".
SSIM_MIN_SIDE = 11  # the 11-tap Gaussian window must fit once the border is averaged away
SPECTRUM_MIN_SIDE = 4  # a Hann window of 2 or 3 samples is (almost) all zero
LAPLACIAN_MIN_SIDE = 3


def _smallest_side(img) -> int:
    return min(np.shape(img)[:2])


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    return a, b


def psnr(a, b) -> float:
    """Peak signal-to-noise ratio in dB (data range 1); inf for identical images."""
    a, b = _pair(a, b)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def _gaussian_filter(img: np.ndarray, sigma: float = 1.5, truncate: float = 3.5) -> np.ndarray:
    """Separable Gaussian blur of a 2-D array, mirror ('symmetric') borders like scipy 'reflect'."""
    radius = int(truncate * sigma + 0.5)
    t = np.arange(-radius, radius + 1)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k /= k.sum()
    out = np.pad(img, radius, mode="symmetric")
    h, w = img.shape
    rows = sum(k[i] * out[i : i + h, :] for i in range(len(k)))
    return sum(k[i] * rows[:, i : i + w] for i in range(len(k)))


def _ssim_channel(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = _gaussian_filter(a), _gaussian_filter(b)
    var_a = _gaussian_filter(a * a) - mu_a**2
    var_b = _gaussian_filter(b * b) - mu_b**2
    cov = _gaussian_filter(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    pad = (2 * int(3.5 * 1.5 + 0.5) + 1 - 1) // 2  # skimage averages away the filter's border
    return float(s[pad:-pad, pad:-pad].mean())


def ssim(a, b) -> float:
    """Structural similarity (see the module docstring for the exact convention)."""
    a, b = _pair(a, b)
    if _smallest_side(a) < SSIM_MIN_SIDE:
        return float("nan")
    if a.ndim == 2:
        return _ssim_channel(a, b)
    return float(np.mean([_ssim_channel(a[..., c], b[..., c]) for c in range(a.shape[-1])]))


def luminance(img) -> np.ndarray:
    img = np.asarray(img, dtype=np.float64)
    return img if img.ndim == 2 else img[..., :3] @ _LUMA


def _power_spectrum(img) -> tuple[np.ndarray, np.ndarray]:
    """Windowed power spectrum of the luminance and each bin's radius (1 = Nyquist)."""
    y = luminance(img)
    h, w = y.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    y = (y - y.mean()) * window
    power = np.abs(np.fft.fft2(y)) ** 2 / (window**2).sum()
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    radius = np.sqrt(fx**2 + fy**2) / 0.5
    return power, radius


class HighFrequencyEnergy(NamedTuple):
    energy: float  # mean power per pixel above the radius (luminance², windowed)
    share: float  # that energy as a share of all non-DC energy


def high_frequency_energy(img, radius_fraction: float = 0.25) -> HighFrequencyEnergy:
    """Energy of the 2-D spectrum above a normalised radius (1 = Nyquist) and its share."""
    if _smallest_side(img) < SPECTRUM_MIN_SIDE:
        return HighFrequencyEnergy(float("nan"), float("nan"))
    power, radius = _power_spectrum(img)
    power = power.copy()
    power[0, 0] = 0.0
    high = float(power[radius > radius_fraction].sum())
    total = float(power.sum())
    n = power.size
    return HighFrequencyEnergy(high / n, high / total if total > 0 else 0.0)


def laplacian_sharpness(img) -> float:
    """Variance of the 4-neighbour Laplacian of the luminance (higher = crisper edges)."""
    if _smallest_side(img) < LAPLACIAN_MIN_SIDE:
        return float("nan")
    y = luminance(img)
    lap = -4 * y[1:-1, 1:-1] + y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:]
    return float(lap.var())


def radial_spectrum(img, bins: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum: (frequencies in cycles/pixel up to 0.5, mean power); empty
    for images too small to have one."""
    if _smallest_side(img) < SPECTRUM_MIN_SIDE:
        return np.zeros(0), np.zeros(0)
    power, radius = _power_spectrum(img)
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(radius.ravel(), edges) - 1, 0, bins)
    sums = np.bincount(index, weights=power.ravel(), minlength=bins + 1)[:bins]
    counts = np.bincount(index, minlength=bins + 1)[:bins]
    freqs = (edges[:-1] + edges[1:]) / 2 * 0.5
    return freqs, sums / np.maximum(counts, 1)


class FurCheck(NamedTuple):
    input_energy: float
    output_energy: float
    original_energy: float
    recovered_share: float  # (output − input) / (original − input)
    overshoot: float  # output / original − 1 (> 0 means more than the original)


def fur_check(degraded, restored, original, radius_fraction: float = 0.25) -> FurCheck:
    """How much of the high-frequency energy lost by the degradation the restoration brings back."""
    e_in = high_frequency_energy(degraded, radius_fraction).energy
    e_out = high_frequency_energy(restored, radius_fraction).energy
    e_ref = high_frequency_energy(original, radius_fraction).energy
    lost = e_ref - e_in
    recovered = (e_out - e_in) / lost if lost > 0 else float("nan")
    return FurCheck(e_in, e_out, e_ref, recovered, e_out / e_ref - 1 if e_ref > 0 else float("nan"))


# Below this side length a Hann-windowed spectrum is mostly window and SSIM's 11-px Gaussian
# window has no interior: the numbers would be noise or nan, so they are not reported.
MIN_MEASURABLE_SIDE = 16


def measurable(img) -> bool:
    """Whether `img` is large enough for the spectral and SSIM numbers to mean something."""
    shape = np.shape(img)
    return len(shape) >= 2 and min(shape[0], shape[1]) >= MIN_MEASURABLE_SIDE


def lost_detail_recovered(degraded, restored, original, radius_fraction: float = 0.25) -> FurCheck | None:
    """fur_check, or None when there is nothing to measure: a picture too small for a spectrum, or
    a degradation that lost no high-frequency energy (so no share of it can be brought back)."""
    if not all(measurable(x) for x in (degraded, restored, original)):
        return None
    check = fur_check(degraded, restored, original, radius_fraction)
    if not np.isfinite(check.recovered_share) or check.original_energy <= 0:
        return None
    return check
