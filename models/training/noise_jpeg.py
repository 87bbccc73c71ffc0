"""What a saved photo goes through after the optics: signal-dependent sensor noise, a baseline
JPEG round trip (YCbCr, 4:2:0, 8×8 DCT, the IJG quantisation tables) and 8-bit levels; batched
torch ops on (B,3,H,W) in [0,1] with per-image parameters (used by models.training.degrade)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def add_noise(x: torch.Tensor, sigma, generator: torch.Generator) -> torch.Tensor:
    """Signal-dependent sensor noise: std = sigma · sqrt(0.25 + 0.75 · x) per pixel (shot + read)."""
    sigma = torch.as_tensor(sigma, dtype=torch.float32, device=x.device).reshape(-1, 1, 1, 1)
    noise = torch.randn(x.shape, generator=generator, device=generator.device).to(x.device)
    return x + noise * sigma * torch.sqrt(0.25 + 0.75 * x.clamp(0, 1))


_LUMA_Q = torch.tensor(
    [
        16,
        11,
        10,
        16,
        24,
        40,
        51,
        61,
        12,
        12,
        14,
        19,
        26,
        58,
        60,
        55,
        14,
        13,
        16,
        24,
        40,
        57,
        69,
        56,
        14,
        17,
        22,
        29,
        51,
        87,
        80,
        62,
        18,
        22,
        37,
        56,
        68,
        109,
        103,
        77,
        24,
        35,
        55,
        64,
        81,
        104,
        113,
        92,
        49,
        64,
        78,
        87,
        103,
        121,
        120,
        101,
        72,
        92,
        95,
        98,
        112,
        100,
        103,
        99,
    ],
    dtype=torch.float32,
)
_CHROMA_Q = torch.tensor(
    [
        17,
        18,
        24,
        47,
        99,
        99,
        99,
        99,
        18,
        21,
        26,
        66,
        99,
        99,
        99,
        99,
        24,
        26,
        56,
        99,
        99,
        99,
        99,
        99,
        47,
        66,
        99,
        99,
        99,
        99,
        99,
        99,
    ]
    + [99] * 32,
    dtype=torch.float32,
)


def _dct_matrix(device) -> torch.Tensor:
    n = torch.arange(8, dtype=torch.float32, device=device)
    d = torch.cos((2 * n.view(1, -1) + 1) * n.view(-1, 1) * math.pi / 16) * math.sqrt(2 / 8)
    d[0] /= math.sqrt(2)
    return d


def jpeg(x: torch.Tensor, quality) -> torch.Tensor:
    """Baseline JPEG round trip per image (B,) quality 1..100: YCbCr, 4:2:0, 8×8 DCT, IJG tables."""
    b, _, h, w = x.shape
    dev = x.device
    quality = torch.as_tensor(quality, dtype=torch.float32, device=dev).reshape(-1).expand(b)
    ph, pw = (-h) % 16, (-w) % 16
    x = F.pad(x.float(), (0, pw, 0, ph), mode="replicate") * 255
    r, g, bl = x[:, 0], x[:, 1], x[:, 2]
    y = 0.299 * r + 0.587 * g + 0.114 * bl
    cb = -0.168736 * r - 0.331264 * g + 0.5 * bl + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * bl + 128
    chroma = F.avg_pool2d(torch.stack([cb, cr], 1), 2)
    q = quality.clamp(1, 100)
    scale = torch.where(q < 50, 5000 / q, 200 - 2 * q).view(-1, 1, 1, 1, 1)
    d = _dct_matrix(dev)

    def code(plane: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        n, c, hh, ww = plane.shape
        t = ((table.to(dev).view(8, 8) * scale + 50) / 100).floor().clamp(1, 255)
        blocks = (plane - 128).view(n, c, hh // 8, 8, ww // 8, 8).transpose(3, 4)
        coef = d @ blocks @ d.T
        t = t.view(n, 1, 1, 1, 8, 8)
        coef = torch.round(coef / t) * t
        out = d.T @ coef @ d
        return out.transpose(3, 4).reshape(n, c, hh, ww) + 128

    y = code(y.unsqueeze(1), _LUMA_Q)[:, 0]
    chroma = F.interpolate(code(chroma, _CHROMA_Q), scale_factor=2, mode="bilinear", align_corners=False)
    cb, cr = chroma[:, 0] - 128, chroma[:, 1] - 128
    rgb = torch.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], 1)
    return (rgb / 255)[..., :h, :w]


def quantize_8bit(x: torch.Tensor) -> torch.Tensor:
    """Clip to [0,1] and round to 8-bit levels, as a saved picture is."""
    return torch.round(x.clamp(0, 1) * 255) / 255
