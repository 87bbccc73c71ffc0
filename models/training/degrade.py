"""Batched, seeded image degradations as torch ops (training pairs and evaluation inputs).

Every function works on a whole batch (B,3,H,W) in [0,1] with per-sample parameters held in
tensors, so a batch is degraded on the training device without per-sample Python loops. The
random draws come from one `torch.Generator`, so a seed reproduces the batch exactly.

The main degradation is the softness of an enlarged picture: resize down by a factor in [2, 4]
with one of several kernels, then back up with bicubic. Resampling is written as batched matrix
products with PIL's conventions (pixel centres, antialiasing when shrinking, kernel clipped at the
border and renormalised), so `resize_down_up(x, 2, "bicubic")` matches PIL's
`img.resize(half, BICUBIC).resize(full, BICUBIC)` in float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# noise, JPEG and 8-bit levels: their own module (callers may import them from here too)
from models.training.noise_jpeg import add_noise, jpeg, quantize_8bit

# Kernel ids, in the order of `_resample_weights`.
KERNELS = ("bicubic", "bilinear", "area", "lanczos", "gaussian")


@dataclass(frozen=True)
class DegradeSettings:
    """Probabilities and ranges of the random degradation mix used for training."""

    p_resize: float = 0.7
    scale_range: tuple[float, float] = (2.0, 4.0)
    p_bicubic: float = 0.0  # share of the shrinks forced to bicubic (the common resizer; the evaluation's)
    p_blur: float = 0.25  # mild anisotropic Gaussian or defocus disk
    gaussian_sigma: tuple[float, float] = (0.4, 1.6)
    defocus_radius: tuple[float, float] = (0.8, 2.5)
    p_shake: float = 0.2  # short camera-shake trajectory
    shake_length: tuple[float, float] = (3.0, 11.0)
    p_straight: float = 0.0  # share of the shake kernels that are straight lines at a random angle
    p_noise: float = 0.4  # signal-dependent sensor noise
    noise_sigma: tuple[float, float] = (0.002, 0.03)
    p_jpeg: float = 0.25
    jpeg_quality: tuple[float, float] = (40.0, 95.0)
    kernel_size: int = 15  # blur kernels (odd)


# ---------------------------------------------------------------- resampling (resize down/up)


def _cubic(t: torch.Tensor, a: float = -0.5) -> torch.Tensor:
    t = t.abs()
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = (((t - 5) * t + 8) * t - 4) * a
    return torch.where(t < 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


_KERNEL_FNS = (
    _cubic,
    lambda t: (1 - t.abs()).clamp_min(0),
    lambda t: ((t >= -0.5) & (t < 0.5)).to(t.dtype),
    lambda t: torch.where(t.abs() < 3, torch.sinc(t) * torch.sinc(t / 3), torch.zeros_like(t)),
    lambda t: torch.exp(-0.5 * (t / 0.5) ** 2) * (t.abs() < 1.5),  # "slightly blurred": σ 0.5·scale
)


def _resample_weights(t: torch.Tensor, kind: torch.Tensor | str) -> torch.Tensor:
    """Kernel value at distance t (kernel units): one kernel by name, or per sample by id (B,)."""
    if isinstance(kind, str):
        return _KERNEL_FNS[KERNELS.index(kind)](t)
    values = torch.stack([fn(t) for fn in _KERNEL_FNS])
    index = kind.view(1, -1, *([1] * (t.dim() - 1))).expand(1, *t.shape)
    return values.gather(0, index).squeeze(0)


def resample_matrix(
    n_out: torch.Tensor, n_in: torch.Tensor, out_canvas: int, in_canvas: int, kind: torch.Tensor | str
) -> torch.Tensor:
    """(B, out_canvas, in_canvas) matrices resampling a 1-D signal of n_in valid samples to n_out.

    PIL's convention: output i is centred at (i + 0.5)·scale in input coordinates, the kernel is
    stretched by the scale when shrinking (antialias), clipped at the border and renormalised.
    Rows past n_out and columns past n_in are zero, so images of different sizes share a canvas.
    """
    dtype = torch.float64
    n_out = n_out.to(dtype)
    n_in = n_in.to(dtype)
    scale = (n_in / n_out).view(-1, 1, 1)
    stretch = scale.clamp_min(1.0)
    i = torch.arange(out_canvas, dtype=dtype, device=n_out.device).view(1, -1, 1)
    x = torch.arange(in_canvas, dtype=dtype, device=n_out.device).view(1, 1, -1)
    centre = (i + 0.5) * scale
    t = (x + 0.5 - centre) / stretch
    w = _resample_weights(t, kind)
    valid = (x < n_in.view(-1, 1, 1)) & (i < n_out.view(-1, 1, 1))
    w = torch.where(valid, w, torch.zeros_like(w))
    total = w.sum(-1, keepdim=True)
    w = torch.where(total.abs() > 1e-12, w / total, torch.zeros_like(w))
    return w.to(torch.float32)


def resize_down_up(
    x: torch.Tensor, factor, kernel="bicubic", noise_sigma=None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Shrink each image by its factor with its kernel, then enlarge back with bicubic.

    factor: float or (B,) tensor (> 1); kernel: name or (B,) tensor of ids into KERNELS.
    The small image has round(H / factor) × round(W / factor) pixels, as a person would save it.
    noise_sigma (with generator) adds sensor noise at the small size, so it is enlarged too.
    """
    b, _, h, w = x.shape
    dev = x.device
    factor = torch.as_tensor(factor, dtype=torch.float64, device=dev).expand(b)
    if isinstance(kernel, str):
        if kernel not in KERNELS:
            raise ValueError(f"unknown kernel {kernel!r}; choose from {KERNELS}")
    else:
        kernel = kernel.to(dev)
    small_h = torch.round(h / factor).clamp_min(1)
    small_w = torch.round(w / factor).clamp_min(1)
    canvas_h, canvas_w = int(small_h.max()), int(small_w.max())
    full_h = torch.full_like(small_h, h)
    full_w = torch.full_like(small_w, w)
    down_y = resample_matrix(small_h, full_h, canvas_h, h, kernel).unsqueeze(1)
    down_x = resample_matrix(small_w, full_w, canvas_w, w, kernel).unsqueeze(1)
    small = down_y @ x.float() @ down_x.transpose(-1, -2)
    if noise_sigma is not None:
        if generator is None:
            raise ValueError("noise_sigma needs a generator")
        small = add_noise(small, noise_sigma, generator)
    up_y = resample_matrix(full_h, small_h, h, canvas_h, "bicubic").unsqueeze(1)
    up_x = resample_matrix(full_w, small_w, w, canvas_w, "bicubic").unsqueeze(1)
    return up_y @ small @ up_x.transpose(-1, -2)


# ---------------------------------------------------------------- blur kernels


def _grid(size: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    r = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    return r.view(1, -1, 1).expand(1, size, size), r.view(1, 1, -1).expand(1, size, size)


def gaussian_kernels(sigma_x, sigma_y, angle, size: int = 15) -> torch.Tensor:
    """(B,size,size) anisotropic Gaussian kernels; angle in radians."""
    sigma_x, sigma_y, angle = (
        torch.as_tensor(v, dtype=torch.float32).view(-1, 1, 1) for v in (sigma_x, sigma_y, angle)
    )
    yy, xx = _grid(size, sigma_x.device)
    c, s = torch.cos(angle), torch.sin(angle)
    u = c * xx + s * yy
    v = -s * xx + c * yy
    k = torch.exp(-0.5 * ((u / sigma_x) ** 2 + (v / sigma_y) ** 2))
    return k / k.sum((-1, -2), keepdim=True)


def disk_kernels(radius, size: int = 15) -> torch.Tensor:
    """(B,size,size) defocus disks with an antialiased rim."""
    radius = torch.as_tensor(radius, dtype=torch.float32).view(-1, 1, 1)
    yy, xx = _grid(size, radius.device)
    k = (radius + 0.5 - torch.sqrt(xx**2 + yy**2)).clamp(0, 1)
    return k / k.sum((-1, -2), keepdim=True)


def trajectory_kernels(points: torch.Tensor, size: int = 15) -> torch.Tensor:
    """(B,size,size) motion kernels from trajectories (B,T,2) of (x, y) offsets in pixels.

    Each point is splatted bilinearly (scatter_add), so sub-pixel paths stay smooth.
    """
    b, t, _ = points.shape
    pos = (points - points.mean(1, keepdim=True) + (size - 1) / 2).clamp(0, size - 1.001)
    x0 = pos[..., 0].floor()
    y0 = pos[..., 1].floor()
    fx = pos[..., 0] - x0
    fy = pos[..., 1] - y0
    k = torch.zeros(b, size * size, dtype=torch.float32, device=points.device)
    for dy, dx, wgt in (
        (0, 0, (1 - fx) * (1 - fy)),
        (0, 1, fx * (1 - fy)),
        (1, 0, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):  # the 4 bilinear corners
        idx = ((y0 + dy) * size + (x0 + dx)).long()
        k.scatter_add_(1, idx, wgt.float())
    k = k.view(b, size, size)
    return k / k.sum((-1, -2), keepdim=True)


def line_motion_kernel(length: float = 13.0, angle_deg: float = 30.0, size: int = 15) -> torch.Tensor:
    """(1,size,size) straight motion blur: the fixed evaluation kernel."""
    return line_motion_kernels(torch.tensor([length]), torch.tensor([math.radians(angle_deg)]), size)


def line_motion_kernels(length: torch.Tensor, angle: torch.Tensor, size: int = 15) -> torch.Tensor:
    """(B,size,size) straight motion blurs, `length` px long at `angle` radians (each (B,))."""
    t = torch.linspace(-0.5, 0.5, 64, device=length.device).view(1, -1, 1)
    direction = torch.stack([torch.cos(angle), torch.sin(angle)], -1).view(-1, 1, 2).float()
    return trajectory_kernels(t * length.view(-1, 1, 1).float() * direction, size)


def shake_kernels(
    generator: torch.Generator, batch: int, length_range=(3.0, 11.0), size: int = 15, steps: int = 32
) -> torch.Tensor:
    """(B,size,size) short random camera-shake paths: a smoothly turning random walk."""
    dev = generator.device
    heading = torch.rand(batch, 1, generator=generator, device=dev) * 2 * math.pi
    turn = torch.randn(batch, steps, generator=generator, device=dev) * 0.35
    angle = heading + torch.cumsum(turn, 1)
    step = torch.stack([torch.cos(angle), torch.sin(angle)], -1)
    path = torch.cumsum(step, 1)
    # scale each path to its target length (in pixels)
    seg = (path[:, 1:] - path[:, :-1]).norm(dim=-1).sum(1).clamp_min(1e-6)
    lo, hi = length_range
    length = lo + (hi - lo) * torch.rand(batch, generator=generator, device=dev)
    path = path * (length / seg).view(-1, 1, 1)
    return trajectory_kernels(path, size)


def blur(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Convolve each image with its own kernel (B,k,k) (or one kernel (1,k,k)), reflect padding."""
    b, c, h, w = x.shape
    kernels = kernels.to(x.device, torch.float32).expand(b, -1, -1)
    size = kernels.shape[-1]
    pad = size // 2
    mode = "reflect" if min(h, w) > pad else "replicate"
    xp = F.pad(x.reshape(1, b * c, h, w), (pad, pad, pad, pad), mode=mode)
    # conv2d is a correlation: flip so this is a true convolution (matters for asymmetric paths)
    weight = kernels.flip(-1, -2).repeat_interleave(c, 0).unsqueeze(1)
    return F.conv2d(xp, weight, groups=b * c).view(b, c, h, w)


# ---------------------------------------------------------------- the random training mix


def _uniform(generator, batch, lo_hi) -> torch.Tensor:
    lo, hi = lo_hi
    return lo + (hi - lo) * torch.rand(batch, generator=generator, device=generator.device)


def _on_subset(x: torch.Tensor, mask: torch.Tensor, fn) -> torch.Tensor:
    """x with fn(indices) written over the masked samples: one gather and one scatter, so the
    work is done only for the samples that get this degradation (no per-sample loop)."""
    idx = mask.nonzero().squeeze(1)
    if idx.numel() == 0:
        return x
    out = x.clone()
    out[idx] = fn(idx)
    return out


def degrade(
    hr: torch.Tensor, generator: torch.Generator, settings: DegradeSettings = DegradeSettings()
) -> torch.Tensor:
    """Random degradation of a batch (B,3,H,W) in [0,1]; returns the degraded batch, 8-bit levels.

    Order, each step applied to a random subset of the batch: blur (Gaussian or defocus, or camera
    shake) → shrink with a random kernel by a factor in [2, 4], sensor noise at the small size,
    bicubic enlargement (samples that are not resized get the noise at full size) → JPEG.
    All random draws come from `generator`, in a fixed order, so one seed gives one batch.
    """
    s = settings
    b = hr.shape[0]
    dev = hr.device
    g = generator

    def chance(p):
        return (torch.rand(b, generator=g, device=g.device) < p).to(dev)

    def to_dev(t):
        return t.to(dev)

    # --- blur: one kernel per sample (identity where not chosen)
    size = s.kernel_size
    use_blur, use_shake = chance(s.p_blur), chance(s.p_shake)
    use_disk = chance(0.4)
    sx, sy = _uniform(g, b, s.gaussian_sigma), _uniform(g, b, s.gaussian_sigma)
    theta = _uniform(g, b, (0.0, math.pi))
    radius = _uniform(g, b, s.defocus_radius)
    k_blur = torch.where(
        to_dev(use_disk).view(-1, 1, 1),
        disk_kernels(to_dev(radius), size),
        gaussian_kernels(to_dev(sx), to_dev(sy), to_dev(theta), size),
    )
    k_shake = shake_kernels(g, b, s.shake_length, size).to(dev)
    if s.p_straight > 0:  # drawn only when asked, so the older recipes keep their random streams
        straight = chance(s.p_straight)
        length, angle = _uniform(g, b, s.shake_length), _uniform(g, b, (0.0, math.pi))
        k_line = line_motion_kernels(length, angle, size).to(dev)
        k_shake = torch.where(straight.view(-1, 1, 1), k_line, k_shake)
    identity = torch.zeros(1, size, size, device=dev)
    identity[0, size // 2, size // 2] = 1
    kernels = torch.where(
        use_shake.view(-1, 1, 1), k_shake, torch.where(use_blur.view(-1, 1, 1), k_blur, identity)
    )
    x = hr.float()
    x = _on_subset(x, use_blur | use_shake, lambda i: blur(x[i], kernels[i]))

    # --- resize down (random kernel, factor) with noise at the small size, then bicubic up;
    #     samples that are not resized get the noise at full size
    use_resize = chance(s.p_resize)
    factor = to_dev(_uniform(g, b, s.scale_range)).double()
    kind = to_dev(torch.randint(len(KERNELS), (b,), generator=g, device=g.device))
    if s.p_bicubic > 0:  # drawn only when asked, so the older recipes keep their random streams
        kind = torch.where(chance(s.p_bicubic), torch.zeros_like(kind), kind)
    use_noise = chance(s.p_noise)
    sigma = to_dev(_uniform(g, b, s.noise_sigma)) * use_noise
    x = _on_subset(x, use_resize, lambda i: resize_down_up(x[i], factor[i], kind[i], sigma[i], g))
    x = _on_subset(x, ~use_resize & use_noise, lambda i: add_noise(x[i], sigma[i], g))

    # --- JPEG
    use_jpeg = chance(s.p_jpeg)
    quality = to_dev(_uniform(g, b, s.jpeg_quality)).round()
    x = _on_subset(x, use_jpeg, lambda i: jpeg(x[i].clamp(0, 1), quality[i]))
    return quantize_8bit(x)


# ---------------------------------------------------------------- fixed evaluation degradations

EVAL_MOTION_NOISE = 0.005  # std of the Gaussian noise added after the fixed motion blur


# straight motion blurs in random directions (validation and the evaluation's random-motion kind):
# lengths as the deblur training draws them, in kernels large enough for the longest
MOTION_LENGTHS = (5.0, 25.0)
MOTION_KERNEL = 27


def motion_blur_noise(
    hr: torch.Tensor,
    length: torch.Tensor,
    angle: torch.Tensor,
    generator: torch.Generator,
    sigma: float = EVAL_MOTION_NOISE,
) -> torch.Tensor:
    """Each sample blurred along a straight line (`length` px at `angle` radians, each (B,)) plus
    Gaussian noise of std `sigma` from `generator`; 8-bit."""
    kernels = line_motion_kernels(length.float(), angle.float(), MOTION_KERNEL)
    blurred = blur(hr.float(), kernels.to(hr.device))
    noise = torch.randn(hr.shape, generator=generator, device=generator.device).to(hr.device)
    return quantize_8bit(blurred + sigma * noise)


def random_motion(
    hr: torch.Tensor, generator: torch.Generator, lengths=MOTION_LENGTHS
) -> tuple[torch.Tensor, torch.Tensor]:
    """(degraded, angles in degrees): straight blurs at uniform random angles in [0°, 180°) and
    lengths in `lengths` (the deblur training's straight lines) plus noise σ 0.005."""
    b = hr.shape[0]
    length = _uniform(generator, b, lengths).cpu()
    angle = _uniform(generator, b, (0.0, math.pi)).cpu()
    return motion_blur_noise(hr, length, angle, generator), torch.rad2deg(angle)


def eval_degradation(hr: torch.Tensor, kind: str, seed: int = 0) -> torch.Tensor:
    """The fixed evaluation inputs: "x2"/"x3"/"x4" = shrink with bicubic then enlarge with bicubic;
    "motion" = 13-px straight motion blur at 30° plus Gaussian noise (std 0.005, seeded);
    "motion_random" = random_motion seeded by `seed` (a random angle and length per sample). 8-bit."""
    if kind in ("x2", "x3", "x4"):
        return quantize_8bit(resize_down_up(hr, float(kind[1]), "bicubic"))
    if kind == "motion":
        g = torch.Generator(device=hr.device).manual_seed(seed)
        blurred = blur(hr.float(), line_motion_kernel().to(hr.device))
        noise = torch.randn(hr.shape, generator=g, device=hr.device)
        return quantize_8bit(blurred + EVAL_MOTION_NOISE * noise)
    if kind == "motion_random":
        return random_motion(hr, torch.Generator(device=hr.device).manual_seed(seed))[0]
    raise ValueError(f"unknown evaluation degradation {kind!r}")


def eval_degradation_rgb(rgb, kind: str, seed: int = 0):
    """eval_degradation on one H×W×3 float array in [0, 1] (numpy in, numpy float32 out)."""
    import numpy as np

    x = torch.from_numpy(np.ascontiguousarray(np.clip(rgb[..., :3], 0, 1), dtype=np.float32)).permute(
        2, 0, 1
    )[None]
    out = eval_degradation(x, kind, seed)[0].permute(1, 2, 0).clamp(0, 1)
    return np.ascontiguousarray(out.numpy(), dtype=np.float32)
