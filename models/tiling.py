"""Tiles for bounded-memory inference: placement, feathered blending, and a size that fits in memory."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from models.mssnet import SIZE_MULTIPLE

MIN_TILE = 64
DEFAULT_OVERLAP = 64
CPU_BUDGET_CAP = 1.5 * 2**30  # keeps a 4000x3000 photo well under 3 GB peak RSS
CPU_BUDGET_SHARE = 0.5  # of the memory the OS reports available
GPU_BUDGET_SHARE = 0.7  # of the free device memory
# Peak activation bytes per input pixel per "effective channel" (see bytes_per_pixel) of a CPU
# forward in inference mode, channels_last, heap reuse: the growth of VmHWM between a 256x512 and
# a 512x768 input, measured for small, base, (12,12,12) and (8,8,8) (benchmarks/bench_engine.py
# --activation-memory): fp32 26-34, bf16 18-20. The constants are the largest plus 10%.
_BYTES_PER_PIXEL_CHANNEL = {"fp32": 37.5, "bf16": 22.0, "fp16": 22.0}


@dataclass(frozen=True)
class Tile:
    y: int
    x: int
    h: int
    w: int
    ramp_y: int = 0  # cross-fade width towards vertical neighbours (their actual overlap)
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


def plan_tiles(
    height: int, width: int, tile: int | tuple[int, int], overlap: int | None = None
) -> list[Tile]:
    """Tiles of at most tile x tile (or tile = (h, w)) covering a (padded) height x width image,
    evenly spaced so neighbours overlap by at least `overlap` pixels; each tile cross-fades over
    the whole overlap it really has (wider fades hide seams better)."""
    tile_h, tile_w = (tile, tile) if isinstance(tile, int) else tile
    overlap = overlap_for(min(tile_h, tile_w)) if overlap is None else min(overlap, min(tile_h, tile_w) // 2)
    th, tw = min(tile_h, height), min(tile_w, width)
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
                w[n - k :] = np.minimum(w[n - k :], edge[::-1])
        return w

    return (
        ramp(tile.h, tile.y, height, tile.ramp_y)[:, None] * ramp(tile.w, tile.x, width, tile.ramp_x)[None, :]
    )[..., None]


class Blender:
    """Accumulates weighted tile outputs into one image (float32, H x W x C)."""

    def __init__(self, height: int, width: int, channels: int = 3):
        self.height, self.width = height, width
        self.sum = np.zeros((height, width, channels), np.float32)
        self.weight = np.zeros((height, width, 1), np.float32)

    def add(self, tile: Tile, pixels: np.ndarray) -> None:
        w = feather(tile, self.height, self.width)
        self.sum[tile.y : tile.y + tile.h, tile.x : tile.x + tile.w] += pixels * w
        self.weight[tile.y : tile.y + tile.h, tile.x : tile.x + tile.w] += w

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


def auto_tile(
    config: tuple[int, int, int], precision: str, height: int, width: int, budget: int
) -> tuple[int, int] | None:
    """None when the whole (padded) image fits the budget, else the tile (h, w) that does."""
    max_pixels = int(budget / bytes_per_pixel(config, precision))
    return fit_tiles(height, width, max_pixels)


def _tile_length(length: int, count: int, overlap: int) -> int:
    """The shortest side (a multiple of 16) that `count` evenly spaced tiles need to cover
    `length` with at least `overlap` shared pixels (plus 16 for the grid rounding of _starts)."""
    if count == 1:
        return length
    return round_up(math.ceil((length + (count - 1) * (overlap + SIZE_MULTIPLE)) / count))


def fit_tiles(height: int, width: int, max_pixels: int) -> tuple[int, int] | None:
    """The tile (h, w) of at most max_pixels that covers height x width in the fewest tiles, and
    among those with the least computed area (overlap); None when the whole image fits. Not
    square: a 720x1280 photo that needs two tiles gets two 720x704 halves, not two 720x896
    squares that compute 40% of the image twice."""
    if height * width <= max_pixels:
        return None
    overlap = DEFAULT_OVERLAP
    best = None
    for rows in range(1, max(1, height // MIN_TILE) + 1):
        th = _tile_length(height, rows, overlap)
        if th * MIN_TILE > max_pixels and th > MIN_TILE:
            continue
        for cols in range(1, max(1, width // MIN_TILE) + 1):
            tw = _tile_length(width, cols, overlap)
            if th * tw <= max_pixels or tw <= MIN_TILE:
                n = len(plan_tiles(height, width, (th, tw), overlap))
                key = (n, n * th * tw)
                if best is None or key < best[0]:
                    best = (key, (max(MIN_TILE, th), max(MIN_TILE, tw)))
                break
        if best and rows > best[0][0]:  # more rows than the best count cannot do better
            break
    return best[1] if best else (MIN_TILE, MIN_TILE)
