"""Write a restored picture back like its source: the same bit depth where the format allows
(16-bit PNG/TIFF), grey for a grey photo, its alpha (resized if needed), its ICC profile and EXIF;
the output checked before any work (format, an existing file, the folder, permissions) and written
atomically, so an existing output is never overwritten silently or left half-written.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from common.files import atomic_write, check_writable
from models.colour import profile_convert
from models.errors import ModelError
from models.formats import FAST_PNG
from models.imageio import LoadedImage

# Photo files a folder is searched for (anything Pillow opens is read when named directly).
_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}


def output_format(path: Path) -> str:
    """The format a file is written in, from its extension ("PNG", "JPEG", ...), or a one-line error."""
    fmt = _FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ModelError(
            f"cannot write {Path(path).suffix or 'files without an extension'}: "
            f"use one of {', '.join(sorted(_FORMATS))}"
        )
    return fmt


def check_output_path(path: Path, force: bool = False, folder_will_exist: bool = False) -> str:
    """The format `path` will be written in, or a one-line error: unknown extension, an existing
    file without `force`, a missing folder (unless the caller is about to create it)."""
    fmt = output_format(path)
    if path.exists() and not force:
        raise ModelError(f"{path} already exists; pass --force to overwrite it")
    if not folder_will_exist and not path.parent.is_dir():
        raise ModelError(f"output folder does not exist: {path.parent}")
    check_writable(path)
    return fmt


def what_is_not_kept(src: LoadedImage, fmt: str) -> list[str]:
    """What restoring `src` into format `fmt` cannot keep, one phrase each (none: nothing is lost)."""
    notes = []
    if src.n_frames > 1:
        notes.append(f"only the first of its {src.n_frames} frames is restored")
    if src.alpha is not None and fmt in ("JPEG", "BMP") and float(src.alpha.min()) < 1.0:
        notes.append(
            f"{fmt} has no transparency, so its alpha channel is dropped (.png, .webp or .tiff keep it)"
        )
    if src.bit_depth == 16 and fmt not in ("PNG", "TIFF"):
        notes.append(
            f"{fmt} holds 8 bits per channel, so its 16-bit depth is not kept (.png or .tiff keep it)"
        )
    return notes


def save_image(
    loaded_like: LoadedImage | None,
    rgb,
    path: str | os.PathLike,
    force: bool = False,
    png_level: int = FAST_PNG,
) -> Path:
    """Write `rgb` (H x W x 3 float [0,1] array or PIL image) like the source: same bit depth where
    the format allows, grey for a grey source, its alpha (resized if needed) and its ICC profile.
    `png_level`: zlib level 0-9 for PNG (speed vs size). Returns the path."""
    path = Path(path)
    fmt = check_output_path(path, force)
    src = loaded_like or LoadedImage(np.zeros((1, 1, 3), np.float32))
    arr = _as_float_rgb(rgb)
    h, w = arr.shape[:2]
    alpha = _resize_alpha(src.alpha, (w, h)) if src.alpha is not None else None
    if fmt in ("JPEG", "BMP"):
        alpha = None  # these formats have no alpha channel
    sixteen = src.bit_depth == 16 and fmt in ("PNG", "TIFF")
    if src.grey:  # the network sees three equal channels and returns three near-equal ones: one again
        arr = arr.mean(axis=2, keepdims=True)

    if sixteen:
        data = arr if alpha is None else np.concatenate([arr, alpha[..., None]], axis=2)
        data = np.round(np.clip(data, 0, 1) * 65535).astype(np.uint16)
        if fmt == "PNG":
            payload = encode_png16(data, src.icc_profile, png_level)
            atomic_write(path, lambda fh: fh.write(payload))
        else:
            import tifffile

            extratags = [(34675, "B", len(src.icc_profile), src.icc_profile, True)] if src.icc_profile else []
            photometric = "minisblack" if src.grey else "rgb"
            extrasamples = ["unassalpha"] if alpha is not None else None
            if src.grey and alpha is None:
                data = data[..., 0]
            atomic_write(
                path,
                lambda fh: tifffile.imwrite(
                    fh, data, photometric=photometric, extratags=extratags, extrasamples=extrasamples
                ),
            )
        return path

    pixels = np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8)
    im = Image.fromarray(pixels[..., 0], "L") if src.grey else Image.fromarray(pixels)
    if src.icc_converted and src.icc_profile:
        im = profile_convert(im, src.icc_profile, to_srgb=False)
    if alpha is not None:
        im.putalpha(Image.fromarray(np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)))
    options: dict = {}
    if src.icc_profile and fmt != "BMP":
        options["icc_profile"] = src.icc_profile
    if src.exif and fmt in ("JPEG", "WEBP", "PNG", "TIFF"):
        options["exif"] = src.exif
    if fmt == "JPEG":
        options.update(quality=95, subsampling=0)
    elif fmt == "WEBP":
        options.update(quality=95, method=4)
    elif fmt == "PNG":
        options.update(compress_level=png_level)
    atomic_write(path, lambda fh: im.save(fh, fmt, **options))
    return path


def _as_float_rgb(rgb) -> np.ndarray:
    if isinstance(rgb, Image.Image):
        return np.asarray(rgb.convert("RGB"), dtype=np.float32) / 255.0
    arr = np.asarray(rgb, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected H x W x 3 RGB, got shape {arr.shape}")
    return arr


def _resize_alpha(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if alpha.shape[1] == size[0] and alpha.shape[0] == size[1]:
        return alpha
    resized = Image.fromarray(alpha.astype(np.float32)).resize(size, Image.Resampling.BICUBIC)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def encode_png16(data: np.ndarray, icc_profile: bytes | None = None, level: int = 6) -> bytes:
    """A 16-bit grey, grey+alpha, RGB or RGBA PNG (Pillow cannot write one); rows use the Up filter."""
    if data.ndim == 2:
        data = data[..., None]
    h, w, c = data.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]  # grey, grey + alpha, RGB, RGBA
    rows = np.ascontiguousarray(data, dtype=">u2").view(np.uint8).reshape(h, w * c * 2)
    up = rows.copy()
    up[1:] = rows[1:] - rows[:-1]  # uint8 wrap-around is the PNG Up filter
    raw = np.concatenate([np.full((h, 1), 2, np.uint8), up], axis=1).tobytes()

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    out = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0))]
    if icc_profile:
        out.append(chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(icc_profile)))
    out += [chunk(b"IDAT", zlib.compress(raw, level)), chunk(b"IEND", b"")]
    return b"".join(out)
