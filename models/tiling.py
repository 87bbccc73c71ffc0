"""Tiles for bounded-memory inference: placement, feathered blending, and a size that fits in memory."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from models.mssnet import SIZE_MULTIPLE

MIN_TILE = 64
DEFAULT_OVERLAP = 64
CPU_BUDGET_CAP = 1.5 * 2**30     # keeps a 4000x3000 photo well under 3 GB peak RSS
CPU_BUDGET_SHARE = 0.5           # of the memory the OS reports available
GPU_BUDGET_SHARE = 0.7           # of the free device memory
# Peak activation bytes per input pixel per "effective channel" (see bytes_per_pixel), for a
# forward in inference mode. Measured here with ru_maxrss: fp32 ~27-35, bf16 ~18-22 (small and
# base at 512x512 and 720x1280); the constants add ~40% for allocator slack.
_BYTES_PER_PIXEL_CHANNEL = {"fp32": 48.0, "bf16": 32.0, "fp16": 32.0}


@dataclass(frozen=True)
class Tile:
    y: int
    x: int
    h: int
    w: int
    ramp_y: int = 0   # cross-fade width towards vertical neighbours (their actual overlap)
    ramp_x: int = 0


def round_up(value: int, multiple: int = SIZE_MULTIPLE) -> int:
    return -(-value // multiple) * multiple


def _starts(length: int, size: int, overlap: int) -> list[int]:
    if size >= length:
        return [0]
    # starts on the 16-pixel grid keep each tile's internal x0.5 resizes aligned with the whole
    # image's, so tiles compute (nearly) the same features; the extra 16 absorbs the rounding.
    count = max(2, math.ceil((length - overlap - SIZE_MULTIPLE) / (size - overlap - SIZE_MULTIPLE)))
    step = (length - size) / (count - 1)
    return [int(round(i * step / SIZE_MULTIPLE)) * SIZE_MULTIPLE for i in range(count)]


def _actual_overlap(starts: list[int], size: int) -> int:
    return min((size - (b - a) for a, b in zip(starts, starts[1:])), default=0)


def plan_tiles(height: int, width: int, tile: int, overlap: int | None = None) -> list[Tile]:
    """Tiles of at most tile x tile covering a (padded) height x width image, evenly spaced so
    neighbours overlap by at least `overlap` pixels; each tile cross-fades over the whole overlap
    it really has (wider fades hide seams better)."""
    overlap = overlap_for(tile) if overlap is None else min(overlap, tile // 2)
    th, tw = min(tile, height), min(tile, width)
    ys, xs = _starts(height, th, overlap), _starts(width, tw, overlap)
    ry, rx = _actual_overlap(ys, th), _actual_overlap(xs, tw)
    return [Tile(y, x, th, tw, ry, rx) for y in ys for x in xs]


def overlap_for(tile: int) -> int:
    return min(DEFAULT_OVERLAP, round_up(max(tile // 4, SIZE_MULTIPLE)))


def feather(tile: Tile, height: int, width: int) -> np.ndarray:
    """h x w x 1 weights: linear ramps over the overlap on every side that meets another tile,
    so neighbouring tiles cross-fade instead of leaving seams."""

    def ramp(n: int, start: int, total: int, width: int) -> np.ndarray:
        w = np.ones(n, np.float32)
        k = min(width, n // 2)
        if k:
            edge = (np.arange(k, dtype=np.float32) + 1) / (k + 1)
            if start > 0:
                w[:k] = edge
            if start + n < total:
                w[n - k:] = np.minimum(w[n - k:], edge[::-1])
        return w

    return (ramp(tile.h, tile.y, height, tile.ramp_y)[:, None]
            * ramp(tile.w, tile.x, width, tile.ramp_x)[None, :])[..., None]


class Blender:
    """Accumulates weighted tile outputs into one image (float32, H x W x C)."""

    def __init__(self, height: int, width: int, channels: int = 3):
        self.height, self.width = height, width
        self.sum = np.zeros((height, width, channels), np.float32)
        self.weight = np.zeros((height, width, 1), np.float32)

    def add(self, tile: Tile, pixels: np.ndarray) -> None:
        w = feather(tile, self.height, self.width)
        self.sum[tile.y:tile.y + tile.h, tile.x:tile.x + tile.w] += pixels * w
        self.weight[tile.y:tile.y + tile.h, tile.x:tile.x + tile.w] += w

    def result(self) -> np.ndarray:
        np.divide(self.sum, self.weight, out=self.sum)
        return self.sum


# ---------------------------------------------------------------------------- memory
def bytes_per_pixel(config: tuple[int, int, int], precision: str) -> float:
    wf, scale, vscale = config
    # full-resolution stages dominate; the level-1 width (wf) sets their activation size, the
    # deeper levels add (wf+scale)/4 and (wf+scale+vscale)/16 per pixel.
    channels = wf + (wf + scale) / 4 + (wf + scale + vscale) / 16
    return channels * _BYTES_PER_PIXEL_CHANNEL[precision]


def available_memory(device) -> int:
    """Bytes this process may use for activations on `device`."""
    if getattr(device, "type", str(device)) == "cuda":
        import torch
        free, _total = torch.cuda.mem_get_info(device)
        return int(free * GPU_BUDGET_SHARE)
    avail = _mem_available()
    return int(min(avail * CPU_BUDGET_SHARE, CPU_BUDGET_CAP))


def _mem_available() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def auto_tile(config: tuple[int, int, int], precision: str, height: int, width: int,
              budget: int) -> int | None:
    """None when the whole (padded) image fits the budget, else the largest square tile that does."""
    per_pixel = bytes_per_pixel(config, precision)
    if height * width * per_pixel <= budget:
        return None
    side = int(math.sqrt(budget / per_pixel)) // SIZE_MULTIPLE * SIZE_MULTIPLE
    return max(MIN_TILE, side)
