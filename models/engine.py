"""`restore()`: one photo in, the restored photo out, on any size, device and precision.

Steps: load -> optional bicubic upscale (the "enlarge, then restore detail" workflow) ->
reflect-pad to a multiple of 16 -> tiles (bounded memory, feathered overlaps) through MSSNet in
channels_last and autocast -> crop -> re-attach alpha. Deterministic: no sampling, fixed
algorithms; the same input, weights, device and precision give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from models import tiling
from models.cpu_memory import reuse_freed_memory
from models.errors import ModelError
from models.imageio import DEFAULT_MAX_PIXELS, LoadedImage, check_pixels, from_pil, load_image
from models.mssnet import SIZE_MULTIPLE, MSSNet, as_loaded, half_resolution
from models.precision import autocast, channels_last, is_out_of_memory, resolve_device, resolve_precision
from models.weights_info import LoadedModel, WeightsInfo


@dataclass(frozen=True)
class RestoreStats:
    """How a restore ran: what the report's provenance block and the benchmarks print."""

    device: str
    precision: str  # fp32 | bf16 | fp16
    tile: tuple[int, int] | None  # tile (height, width) in px; None = the whole image at once
    n_tiles: int
    overlap: int  # px shared by neighbouring tiles
    oom_retries: int  # how often an out-of-memory error halved the tile
    weights: WeightsInfo
    stages: int  # stages run (1..6)
    upscale: int
    input_size: tuple[int, int]  # (width, height)
    output_size: tuple[int, int]
    threads: int

    @property
    def tile_text(self) -> str:
        """'2 tiles of 720x688 px' or 'whole image'."""
        if not self.tile:
            return "whole image"
        return f"{self.n_tiles} tile{'s' if self.n_tiles != 1 else ''} of {self.tile[0]}x{self.tile[1]} px"

    def as_dict(self) -> dict:
        out = asdict(self)
        out["weights"] = self.weights.as_dict()
        return out


@dataclass
class RestoreResult:
    """The result as floats (H x W x 3 float32 in [0, 1], sRGB): 16-bit depth and the source's ICC
    profile and alpha reach the output when it is saved with `models.save_image(result.source, ...)`."""

    rgb: np.ndarray  # input size x upscale
    alpha: np.ndarray | None  # H x W float32, resized with the picture; None without alpha
    stages: list[np.ndarray] | None  # six stage outputs (official order, full size) if asked
    timings: dict[str, float]  # seconds: upscale, forward, total, stage_1..6
    stats: RestoreStats
    source: LoadedImage  # what was read (alpha, ICC, bit depth)

    @property
    def image(self) -> Image.Image:
        """The result as an 8-bit PIL image (alpha re-attached), made on demand."""
        return _to_pil(self.rgb, self.alpha)

    @property
    def stage_images(self) -> list[Image.Image] | None:
        return [_to_pil(s, None) for s in self.stages] if self.stages is not None else None


def restore(
    image,
    model: LoadedModel | MSSNet | None = None,
    upscale: int = 1,
    stages: int = 6,
    device: str = "auto",
    precision: str = "auto",
    tile: int | None = None,
    progress=None,
    keep_stages: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> RestoreResult:
    """Restore `image` (path, PIL image, LoadedImage, or an H x W x 3 float array in [0, 1]) with MSSNet.

    model: `load_model()`'s result (the network beside its WeightsInfo); a bare MSSNet is
    described as untrained; None -> the bundled default weights. tile: None -> chosen from free memory (whole
    image when it fits), 0 -> whole image, N -> N x N tiles. progress: callable(done, total).
    """
    t_start = time.perf_counter()
    if upscale not in (1, 2, 3, 4):
        raise ModelError(f"upscale must be 1, 2, 3 or 4, got {upscale}")
    if not 1 <= int(stages) <= 6:
        raise ModelError(f"stages must be 1..6, got {stages}")
    source = _as_loaded(image, max_pixels)
    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    if model is None:
        from models.checkpoints import load_model

        model = load_model(None)
    net, info = as_loaded(model)
    net = channels_last(net.eval(), dev)

    h0, w0 = source.rgb.shape[:2]
    out_h, out_w = h0 * upscale, w0 * upscale
    check_pixels(f"the x{upscale} output", (out_w, out_h), max_pixels)
    t0 = time.perf_counter()
    rgb = upscale_bicubic(source.rgb, upscale)
    t_upscale = time.perf_counter() - t0

    padded = pad_to_multiple(rgb, SIZE_MULTIPLE)
    ph, pw = padded.shape[:2]
    tile_hw: tuple[int, int] | None = None  # None: the whole image at once
    if tile is None:
        tile_hw = tiling.auto_tile(net.config, prec, ph, pw, tiling.available_memory(dev))
    elif tile:
        side = max(tiling.MIN_TILE, tiling.round_up(int(tile)))
        tile_hw = (side, side)

    timings: dict = {"upscale": t_upscale}
    retries = 0
    t0 = time.perf_counter()
    while True:
        try:
            outputs, n_tiles = _run_tiles(
                net, padded, tile_hw, stages, dev, prec, progress, keep_stages, timings
            )
            break
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is retried
            if not is_out_of_memory(exc):
                raise
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            current = tile_hw or (ph, pw)
            if max(current) <= tiling.MIN_TILE:
                raise ModelError(
                    f"out of memory even with {tiling.MIN_TILE}px tiles on {dev}; "
                    f"try --device cpu or a smaller image"
                ) from None
            tile_hw = (_halved(current[0]), _halved(current[1]))
            retries += 1
    timings["forward"] = time.perf_counter() - t0

    final = outputs[-1][:out_h, :out_w]
    np.clip(final, 0.0, 1.0, out=final)
    stage_rgb = None
    if keep_stages:
        stage_rgb = [np.clip(o[:out_h, :out_w], 0, 1) for o in outputs]
    alpha = source.alpha
    if alpha is not None and upscale != 1:
        alpha = np.asarray(
            Image.fromarray(np.asarray(alpha, np.float32)).resize((out_w, out_h), Image.Resampling.BICUBIC)
        )
    timings["total"] = time.perf_counter() - t_start
    stats = RestoreStats(
        device=str(dev),
        precision=prec,
        tile=tile_hw,
        n_tiles=n_tiles,
        overlap=tiling.overlap_for(min(tile_hw)) if tile_hw else 0,
        oom_retries=retries,
        weights=info,
        stages=int(stages),
        upscale=upscale,
        input_size=(w0, h0),
        output_size=(out_w, out_h),
        threads=torch.get_num_threads(),
    )
    return RestoreResult(final, alpha, stage_rgb, timings, stats, source)


# ---------------------------------------------------------------------------- steps
ESTIMATE_PATCHES = (128, 256)  # sides of the two patches timed for an estimate
WARM_UP_PATCH = 64  # side of the untimed first forward (the process's first: threads, allocator)
TILE_OVERHEAD = 1.1  # overlapping tiles, padding and conversion on top of the forward


@dataclass(frozen=True)
class Estimate:
    """How long a restore should take, and how that was found out."""

    seconds: float
    cached: bool  # True: from patches timed by an earlier run on this machine (no forward now)

    @property
    def how(self) -> str:
        """For the printed note: 'timed on two small patches' (+ ' earlier on this machine')."""
        return "timed on two small patches" + (" earlier on this machine" if self.cached else "")


def estimate_seconds(
    model: LoadedModel | MSSNet,
    size: tuple[int, int],
    upscale: int = 1,
    stages: int = 6,
    device: str = "auto",
    precision: str = "auto",
    cache: bool = True,
) -> float:
    """Seconds restoring a (width, height) picture should take here: `estimate(...).seconds`."""
    return estimate(model, size, upscale, stages, device, precision, cache).seconds


def estimate(
    model: LoadedModel | MSSNet,
    size: tuple[int, int],
    upscale: int = 1,
    stages: int = 6,
    device: str = "auto",
    precision: str = "auto",
    cache: bool = True,
) -> Estimate:
    """How long restoring a (width, height) picture should take here, from two small patches timed
    on this machine with these weights, device and precision: a forward costs a fixed part (large
    for small inputs) plus a part per pixel, and the two sizes tell them apart. It is the model's
    warm-up too: one small untimed forward pays the process's first-run costs (threads, heap), then
    each size runs once, timed (a size's first forward also builds its kernels: 2-5% of a 256-px
    CPU forward here, as it is for the restore's own tiles).

    With `cache`, the two fitted parts are remembered in the user's state folder under everything
    that changes the speed (models/speed_cache.py) and reused for 30 days: then no forward runs and
    the restore's first tile pays the first-run costs instead."""
    from models import speed_cache

    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    net = as_loaded(model).model
    key = speed_cache.speed_key(dev, prec, net.config, stages) if cache else None
    known = speed_cache.lookup(key) if key is not None else None
    if known is not None:
        fixed, per_pixel = known
    else:
        fixed, per_pixel = _calibrate(net, stages, dev, prec)
        if key is not None:
            speed_cache.store(key, fixed, per_pixel)
    w, h = size
    pixels = tiling.round_up(w * upscale) * tiling.round_up(h * upscale)
    return Estimate((fixed + per_pixel * pixels) * TILE_OVERHEAD, cached=known is not None)


def _calibrate(net: MSSNet, stages: int, dev, prec: str) -> tuple[float, float]:
    """(fixed, per_pixel) seconds of one forward, fitted from the two timed patches."""
    net = channels_last(net.eval(), dev)
    rng = np.random.default_rng(0)

    def forward(side: int) -> float:
        patch = rng.random((side, side, 3), dtype=np.float32)
        t0 = time.perf_counter()
        _run_tiles(net, patch, None, stages, dev, prec, None, False, {})
        return time.perf_counter() - t0

    forward(WARM_UP_PATCH)
    times = [forward(side) for side in ESTIMATE_PATCHES]
    small, large = (s * s for s in ESTIMATE_PATCHES)
    per_pixel = max((times[1] - times[0]) / (large - small), 0.25 * times[1] / large)  # noise-proof
    fixed = max(times[0] - per_pixel * small, 0.0)
    return fixed, per_pixel


def _as_loaded(image, max_pixels) -> LoadedImage:
    if isinstance(image, LoadedImage):
        return image
    if isinstance(image, Image.Image):
        check_pixels("the image", image.size, max_pixels)
        return from_pil(image)
    if isinstance(image, (str, os.PathLike)):
        return load_image(image, max_pixels=max_pixels)
    if isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] >= 3:
        check_pixels("the image", (image.shape[1], image.shape[0]), max_pixels)
        return LoadedImage(np.ascontiguousarray(np.clip(image[..., :3], 0, 1), dtype=np.float32))
    raise ModelError(
        f"cannot restore a {type(image).__name__}: pass a path, a PIL image, a LoadedImage or an RGB float array"
    )


def upscale_bicubic(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Antialiased bicubic enlargement, clamped to [0, 1] (bicubic overshoots at edges)."""
    if factor == 1:
        return rgb
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
    y = F.interpolate(x, scale_factor=factor, mode="bicubic", align_corners=False, antialias=True)
    return y[0].permute(1, 2, 0).clamp_(0, 1).contiguous().numpy()


def pad_to_multiple(rgb: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad bottom/right so H and W are multiples of `multiple` (cropped off afterwards)."""
    h, w = rgb.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not ph and not pw:
        return rgb
    pad = ((0, ph), (0, pw), (0, 0))
    return np.pad(rgb, pad, mode="reflect") if h > 1 and w > 1 else np.pad(rgb, pad, mode="edge")


def _halved(side: int) -> int:
    """A tile side after an out-of-memory error."""
    return max(tiling.MIN_TILE, tiling.round_up(side // 2))


def _run_tiles(model, padded, tile, stages, dev, prec, progress, keep_stages, timings):
    ph, pw = padded.shape[:2]
    tiles = tiling.plan_tiles(ph, pw, tile) if tile else [tiling.Tile(0, 0, ph, pw)]
    n_out = 6 if keep_stages else 1
    blenders = [tiling.Blender(ph, pw) for _ in range(n_out)] if len(tiles) > 1 else None
    stage_times = {f"stage_{i}": 0.0 for i in range(1, 7)}
    if progress:
        progress(0, len(tiles))
    whole = None
    heap = reuse_freed_memory() if dev.type == "cpu" else contextlib.nullcontext()
    with _deterministic(dev), heap, torch.inference_mode(), autocast(dev, prec):
        # The x0.5 input of scale 1 is resized with align_corners=True, which depends on the
        # image's extent: compute it once for the whole image and give each tile its slice.
        half = None
        if len(tiles) > 1:
            with torch.autocast(dev.type, enabled=False):
                half = half_resolution(torch.from_numpy(padded).permute(2, 0, 1)[None])
        for done, t in enumerate(tiles, 1):
            x = torch.from_numpy(np.ascontiguousarray(padded[t.y : t.y + t.h, t.x : t.x + t.w]))
            x = x.permute(2, 0, 1)[None].to(dev).contiguous(memory_format=torch.channels_last)
            x_half = None
            if half is not None:
                x_half = half[..., t.y // 2 : (t.y + t.h) // 2, t.x // 2 : (t.x + t.w) // 2]
                x_half = x_half.to(dev).contiguous(memory_format=torch.channels_last)
            if keep_stages:
                per_tile: dict = {}
                outs = model.forward_stages(x, timings=per_tile, half=x_half)
                outs[0] = F.interpolate(
                    outs[0].float(), size=x.shape[-2:], mode="bilinear", align_corners=False
                )
                for k, v in per_tile.items():
                    stage_times[k] += v
            else:
                outs = [model(x, stages=stages, half=x_half)]
            arrays = [o[0].float().permute(1, 2, 0).cpu().numpy() for o in outs]
            del x, x_half, outs
            if blenders is None:
                whole = arrays
            else:
                for blender, arr in zip(blenders, arrays):
                    blender.add(t, arr)
            if progress:
                progress(done, len(tiles))
    if keep_stages:
        timings.update(stage_times)
    results = [b.result() for b in blenders] if blenders is not None else whole or []
    return [np.asarray(r, dtype=np.float32) for r in results], len(tiles)


class _deterministic:
    """Fixed cuDNN algorithms for the duration of a restore (CPU oneDNN is deterministic already)."""

    def __init__(self, dev):
        self.cuda = dev.type == "cuda"

    def __enter__(self):
        if self.cuda:
            self.saved = (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
            torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True

    def __exit__(self, *exc):
        if self.cuda:
            torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = self.saved


def _to_pil(rgb: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
    im = Image.fromarray(np.round(rgb * 255).astype(np.uint8))
    if alpha is not None:
        im.putalpha(Image.fromarray(np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)))
    return im
