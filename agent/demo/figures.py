"""The demo's pictures: crops, the ×3 zoom strip, the amplified difference map, the stage strip and
the plots. Pixels arrive as float RGB arrays in [0, 1]; PNGs are written with a fast compression
level (the demo's files are for looking at, not archiving; `png_level` chooses).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.formats import FAST_PNG

ZOOM = 3  # nearest-neighbour enlargement so the pixels themselves stay visible
DIFF_TARGET = 0.45  # the 99.5th percentile of |difference| is stretched to this distance from grey
STAGE_LABELS = [
    "1: res1_1\n(half resolution)",
    "2: res2_1",
    "3: res2_2",
    "4: res3_1",
    "5: res3_2",
    "6: res3_3 (result)",
]


def to_uint8(rgb) -> np.ndarray:
    return (np.clip(np.asarray(rgb, dtype=np.float32)[..., :3], 0, 1) * 255 + 0.5).astype(np.uint8)


def save_png(rgb, path: Path, png_level: int = FAST_PNG) -> Path:
    from PIL import Image

    Image.fromarray(to_uint8(rgb)).save(path, format="PNG", compress_level=png_level)
    return path


def crop(rgb, box: tuple[int, int, int, int]) -> np.ndarray:
    left, top, right, bottom = box
    return rgb[top:bottom, left:right, :3]


def zoomed(rgb, zoom: int = ZOOM) -> np.ndarray:
    """Nearest-neighbour enlargement (each pixel a zoom×zoom block)."""
    return np.repeat(np.repeat(np.asarray(rgb), zoom, axis=0), zoom, axis=1)


def zoom_strip(panels: dict[str, np.ndarray], path: Path, png_level: int = FAST_PNG) -> Path:
    """The crops side by side (label above each, ×3 nearest-neighbour, 6-px white gaps)."""
    from PIL import Image, ImageDraw

    tiles = [to_uint8(zoomed(p)) for p in panels.values()]
    gap, head = 6, 18
    h = max(t.shape[0] for t in tiles)
    w = sum(t.shape[1] for t in tiles) + gap * (len(tiles) - 1)
    canvas = Image.new("RGB", (w, h + head), "white")
    draw = ImageDraw.Draw(canvas)
    x = 0
    for label, tile in zip(panels, tiles):
        canvas.paste(Image.fromarray(tile), (x, head))
        draw.text((x + 2, 2), label, fill="black", font=_label_font())
        x += tile.shape[1] + gap
    canvas.save(path, format="PNG", compress_level=png_level)
    return path


def _label_font():
    """DejaVu Sans from matplotlib (a dependency already): Pillow's built-in font has no "×" or "−"."""
    from PIL import ImageFont

    try:
        import matplotlib

        return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), 12)
    except OSError:
        return ImageFont.load_default()


def difference_gain(after, before) -> float:
    """How much the difference is amplified: its 99.5th percentile lands DIFF_TARGET from grey
    (at least ×1, at most ×50, so noise-level differences are not blown up to look like detail)."""
    diff = np.abs(np.asarray(after, np.float32)[..., :3] - np.asarray(before, np.float32)[..., :3])
    top = float(np.percentile(diff, 99.5)) if diff.size else 0.0
    return float(np.clip(DIFF_TARGET / top, 1.0, 50.0)) if top > 0 else 1.0


def difference_map(after, before, gain: float) -> np.ndarray:
    """Grey (0.5) where MSSNet changed nothing; brighter where it added, darker where it removed."""
    diff = np.asarray(after, np.float32)[..., :3] - np.asarray(before, np.float32)[..., :3]
    return np.clip(0.5 + gain * diff, 0, 1)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def stage_strip(before, stage_images, box, path: Path, seconds: dict[str, float]) -> Path:
    """The crop region of the input and of each of the six stages, coarse to fine, in one figure."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(stage_images) + 1, figsize=(2.2 * (len(stage_images) + 1), 2.6), dpi=100)
    axes[0].imshow(to_uint8(crop(before, box)), interpolation="nearest")
    axes[0].set_title("input\n", fontsize=8)
    axes[0].axis("off")
    for i, (ax, img) in enumerate(zip(axes[1:], stage_images)):
        ax.imshow(to_uint8(crop(img, box)), interpolation="nearest")
        t = seconds.get(f"stage_{i + 1}")
        ax.set_title(STAGE_LABELS[i] + (f"\n{t:.3f} s" if t is not None else ""), fontsize=8)
        ax.axis("off")
    fig.suptitle("MSSNet stage outputs, coarse to fine (most detailed region)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def spectrum_plot(curves: dict[str, np.ndarray], path: Path, radius_fraction: float = 0.25) -> Path:
    """Radial power spectra (log scale) with the high-frequency band shaded."""
    from models import metrics

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    top = 0.0
    for label, rgb in curves.items():
        freqs, power = metrics.radial_spectrum(rgb)
        freqs, power = np.asarray(freqs, dtype=float), np.asarray(power, dtype=float)
        ax.semilogy(freqs, np.maximum(power, 1e-20), label=label, linewidth=1.2)
        top = max(top, float(freqs.max()) if freqs.size else 0.0)
    # metrics' radius is a fraction of Nyquist (0.5 cycles/pixel), the unit of radial_spectrum
    ax.axvspan(
        radius_fraction * 0.5,
        max(top, 0.5),
        color="orange",
        alpha=0.12,
        label=f"high-frequency band (> {radius_fraction:g} × Nyquist)",
    )
    ax.set_xlabel("spatial frequency (cycles/pixel)")
    ax.set_ylabel("power (log)")
    ax.set_title("Radial power spectrum: detail lives on the right")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def early_exit_plot(rows, path: Path) -> Path:
    """Cumulative time after each stage (bars, with the repeats' spread) and, with a reference, PSNR."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=100)
    ks = [r.stage for r in rows]
    ax.bar(
        ks, [r.seconds for r in rows], yerr=[r.spread / 2 for r in rows], color="#9ecae1", label="time (s)"
    )
    ax.set_xlabel("stop after stage k (6 = the full network)")
    ax.set_ylabel("seconds (cumulative, median)")
    ax.set_xticks(ks)
    if any(r.psnr is not None for r in rows):
        ax2 = ax.twinx()
        scored = [r for r in rows if r.psnr is not None]
        ax2.plot(
            [r.stage for r in scored], [r.psnr for r in scored], "o-", color="#d62728", label="PSNR (dB)"
        )
        ax2.set_ylabel("PSNR vs the sharp reference (dB)")
    ax.set_title("Early exit on your picture: time saved vs quality", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
