"""Training data: decoded photos kept on the device, detail-rich crops, dead-leaves images.

The photos come from `scripts/fetch_training_photos.sh` (Debian wallpaper packages, see the model
card for licences). They are JPEGs, so each is shrunk at least 2× with antialiasing when loaded,
which hides the compression artefacts; then all of them sit in one padded uint8 tensor on the
device, and a batch of crops is one gather — no per-sample Python work while training.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.errors import ModelError
from models.formats import PHOTO_SUFFIXES
from models.training.degrade import DegradeSettings, degrade, eval_degradation


def default_photo_dir() -> Path:
    """Where scripts/fetch_training_photos.sh puts the photos: $EXPLAINER_PHOTOS, else the user's
    data folder ($XDG_DATA_HOME or ~/.local/share) — never a path relative to the working directory."""
    if os.environ.get("EXPLAINER_PHOTOS"):
        return Path(os.environ["EXPLAINER_PHOTOS"])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "restoration-explainer" / "training_photos"


EVAL_KINDS = ("x2", "x4", "motion")


@dataclass
class ImagePool:
    """Images of different sizes in one zero-padded tensor (N,3,Hmax,Wmax) uint8 + sizes (N,2)."""

    pixels: torch.Tensor
    sizes: torch.Tensor
    names: list[str]

    def __len__(self) -> int:
        return self.pixels.shape[0]

    @classmethod
    def from_arrays(cls, arrays: list[np.ndarray], names: list[str], device="cpu") -> ImagePool:
        hmax = max(a.shape[0] for a in arrays)
        wmax = max(a.shape[1] for a in arrays)
        pixels = torch.zeros(len(arrays), 3, hmax, wmax, dtype=torch.uint8)
        for i, a in enumerate(arrays):
            pixels[i, :, : a.shape[0], : a.shape[1]] = torch.from_numpy(np.array(a, dtype=np.uint8)).permute(
                2, 0, 1
            )
        sizes = torch.tensor([a.shape[:2] for a in arrays], dtype=torch.long)
        return cls(pixels.to(device), sizes.to(device), list(names))

    def random_crops(self, count: int, crop: int, generator: torch.Generator) -> torch.Tensor:
        """(count,3,crop,crop) float crops at uniform random positions of uniformly chosen images."""
        dev = self.pixels.device
        g = generator
        idx = torch.randint(len(self), (count,), generator=g, device=g.device).to(dev)
        h = self.sizes[idx, 0]
        w = self.sizes[idx, 1]
        if bool(((h < crop) | (w < crop)).any()):
            raise ModelError(f"a training image is smaller than the {crop}-px crop")
        u = torch.rand(count, 2, generator=g, device=g.device).to(dev)
        y0 = (u[:, 0] * (h - crop + 1)).long()
        x0 = (u[:, 1] * (w - crop + 1)).long()
        r = torch.arange(crop, device=dev)
        rows = (y0.view(-1, 1) + r).view(-1, crop, 1)
        cols = (x0.view(-1, 1) + r).view(-1, 1, crop)
        crops = self.pixels[idx.view(-1, 1, 1), :, rows, cols]  # (count, crop, crop, 3)
        return crops.permute(0, 3, 1, 2).float().div_(255)


def find_photos(root: Path | str) -> list[Path]:
    root = Path(root)
    photos = sorted(p for p in root.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise ModelError(f"no training photos under {root}: run scripts/fetch_training_photos.sh first")
    return photos


def load_photo(path: Path, max_side: int, min_shrink: float = 2.0) -> np.ndarray:
    """Decode a photo shrunk by at least `min_shrink` (antialiased) and to at most max_side px."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        shrink = max(min_shrink, max(w, h) / max_side)
        target = (max(1, round(w / shrink)), max(1, round(h / shrink)))
        im.draft("RGB", (target[0] * 2, target[1] * 2))  # fast JPEG DCT-domain pre-shrink
        small = im.convert("RGB").resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        return np.asarray(small)


def load_photo_pool(paths: list[Path], max_side: int = 1280, device="cpu") -> ImagePool:
    arrays = [load_photo(p, max_side) for p in paths]
    return ImagePool.from_arrays(arrays, [p.name for p in paths], device)


# ---------------------------------------------------------------- detail filter


def detail_score(crops: torch.Tensor) -> torch.Tensor:
    """Mean absolute luminance gradient per crop (B,): flat sky and bokeh score low."""
    y = crops[:, 0] * 0.2126 + crops[:, 1] * 0.7152 + crops[:, 2] * 0.0722
    dx = (y[:, :, 1:] - y[:, :, :-1]).abs().mean((1, 2))
    dy = (y[:, 1:, :] - y[:, :-1, :]).abs().mean((1, 2))
    return dx + dy


def detailed_crops(
    pool: ImagePool, count: int, crop: int, generator: torch.Generator, threshold: float, candidates: int = 3
) -> torch.Tensor:
    """Draw candidates×count crops and keep `count`, taking detail-rich ones (score ≥ threshold)
    first in random order; flat crops fill in only when too few rich ones were drawn."""
    many = pool.random_crops(count * candidates, crop, generator)
    rich = (detail_score(many) >= threshold).float()
    tie = torch.rand(many.shape[0], generator=generator, device=generator.device).to(many.device)
    keep = torch.topk(rich + 0.5 * tie, count).indices
    return many[keep]


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One of the 8 flip/rotate variants per (square) crop, chosen per sample, no loops."""
    b = x.shape[0]
    bits = torch.randint(8, (b,), generator=generator, device=generator.device).to(x.device)

    def pick(bit):
        return ((bits >> bit) & 1).bool().view(-1, 1, 1, 1)

    x = torch.where(pick(0), x.flip(-1), x)
    x = torch.where(pick(1), x.flip(-2), x)
    return torch.where(pick(2), x.transpose(-1, -2), x)


# ---------------------------------------------------------------- dead leaves


def dead_leaves(
    size: int,
    rng: np.random.Generator,
    colours: np.ndarray | None = None,
    r_min: float = 1.5,
    r_max: float | None = None,
    textured: float = 0.3,
    max_disks: int = 20000,
) -> np.ndarray:
    """One dead-leaves image (size×size×3 uint8): disks with radius density ∝ r^-3 drawn front to
    back (each pixel keeps the first disk that covers it) until the canvas is covered. Some disks
    carry an oriented sinusoid texture. Colours are sampled from `colours` (K×3 in [0,1])."""
    r_max = r_max or size / 4
    img = np.zeros((size, size, 3), np.float32)
    free = np.ones((size, size), bool)
    left = size * size
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    # inverse CDF of p(r) ∝ r^-3 on [r_min, r_max]
    a, b = r_min**-2, r_max**-2
    for _ in range(max_disks):
        r = (a - rng.random() * (a - b)) ** -0.5
        cy, cx = rng.random(2) * size
        y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 2, size)
        x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 2, size)
        if y0 >= y1 or x0 >= x1:
            continue
        sy, sx = slice(y0, y1), slice(x0, x1)
        inside = ((yy[sy, sx] - cy) ** 2 + (xx[sy, sx] - cx) ** 2 <= r * r) & free[sy, sx]
        if not inside.any():
            continue
        colour = colours[rng.integers(len(colours))] if colours is not None else rng.random(3)
        if rng.random() < textured:
            period = rng.uniform(2.5, 16)
            theta = rng.uniform(0, math.pi)
            wave = np.sin(
                2 * math.pi / period * (xx[sy, sx] * math.cos(theta) + yy[sy, sx] * math.sin(theta))
                + rng.uniform(0, 2 * math.pi)
            )
            patch = colour * (1 + rng.uniform(0.1, 0.5) * wave[..., None])
            img[sy, sx][inside] = patch[inside]
        else:
            img[sy, sx][inside] = colour
        free[sy, sx][inside] = False
        left -= int(inside.sum())
        if left == 0:
            break
    if left:  # whatever the smallest disks missed gets the last colour
        img[free] = colour
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def dead_leaves_pool(
    count: int, size: int, seed: int, colours: np.ndarray | None = None, device="cpu"
) -> ImagePool:
    rng = np.random.default_rng(seed)
    arrays = [dead_leaves(size, rng, colours) for _ in range(count)]
    return ImagePool.from_arrays(arrays, [f"dead_leaves_{i}" for i in range(count)], device)


def sample_colours(pool: ImagePool, count: int, seed: int) -> np.ndarray:
    """Colours of random photo pixels (count×3 in [0,1]) to paint the dead leaves with."""
    g = torch.Generator(device=pool.pixels.device).manual_seed(seed)
    px = pool.random_crops(count, 1, g)
    return px.view(count, 3).cpu().numpy()


# ---------------------------------------------------------------- training pairs


@dataclass
class PairSampler:
    """Makes (degraded, sharp) batches: detail-rich photo crops mixed with dead-leaves crops,
    augmented and degraded in batch on the pool's device. All randomness from `generator`."""

    photos: ImagePool
    leaves: ImagePool | None
    crop: int
    batch: int
    generator: torch.Generator
    detail_threshold: float = 0.03
    leaves_fraction: float = 0.5
    settings: DegradeSettings = DegradeSettings()

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        g = self.generator
        n_leaves = int(round(self.batch * self.leaves_fraction)) if self.leaves is not None else 0
        parts = [detailed_crops(self.photos, self.batch - n_leaves, self.crop, g, self.detail_threshold)]
        if n_leaves and self.leaves is not None:
            parts.append(self.leaves.random_crops(n_leaves, self.crop, g))
        sharp = augment(torch.cat(parts), g)
        return degrade(sharp, g, self.settings), sharp


def validation_pairs(
    pool: ImagePool,
    count: int,
    crop: int,
    seed: int,
    threshold: float = 0.03,
    kinds: tuple[str, ...] = EVAL_KINDS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed validation batch: detail-rich crops, crop i degraded by kinds[i % len(kinds)] — the
    evaluation degradations (×2, ×4 down-up, motion blur + noise; "motion_random": a random angle
    and 5-25 px length per crop, the deblur training's straight lines), so validation tracks the targets."""
    g = torch.Generator(device=pool.pixels.device).manual_seed(seed)
    sharp = detailed_crops(pool, count, crop, g, threshold)
    degraded = torch.empty_like(sharp)
    n = len(kinds)
    for i, kind in enumerate(kinds):
        if sharp[i::n].shape[0]:
            degraded[i::n] = eval_degradation(sharp[i::n], kind, seed)
    return degraded, sharp
