"""Read any common photo into RGB float [0, 1] for the network, and write the result back faithfully.

Handles PNG, JPEG, WebP, TIFF, BMP (and anything else Pillow reads): EXIF orientation applied,
grey / palette / CMYK / 16-bit converted to RGB (a grey photo is written grey again), alpha kept
aside and re-attached, the ICC profile kept (pixels are converted to sRGB for the network and back
on save), 16-bit in -> 16-bit PNG/TIFF out, decompression bombs refused, existing outputs never
overwritten silently.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from common.errors import os_reason
from common.files import atomic_write, check_writable
from models.errors import ModelError
from models.formats import DEFAULT_MAX_PIXELS, FAST_PNG, PHOTO_SUFFIXES  # noqa: F401 - re-exported

log = logging.getLogger(__name__)

_ORIENTATION_TAG = 0x0112
_SIXTEEN_BIT_RAW = {"RGB;16B": "RGB;16L", "RGBA;16B": "RGBA;16L"}


@dataclass
class LoadedImage:
    rgb: np.ndarray  # H x W x 3 float32 in [0, 1], sRGB
    alpha: np.ndarray | None = None  # H x W float32 in [0, 1]
    icc_profile: bytes | None = None  # the file's own profile, written back on save
    bit_depth: int = 8  # 8 or 16
    format: str | None = None  # "PNG", "JPEG", ...
    mode: str | None = None  # Pillow mode of the file ("P", "CMYK", "I;16", ...)
    path: str | None = None
    exif: bytes | None = None  # with orientation reset to 1 (already applied)
    icc_converted: bool = field(default=False)  # pixels were converted from icc_profile to sRGB
    n_frames: int = 1  # frames in the file (animations); only the first is loaded
    grey: bool = False  # a grey file (three equal channels here): saved grey again

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) like PIL."""
        return self.rgb.shape[1], self.rgb.shape[0]


# ---------------------------------------------------------------------------- loading
def load_image(path: str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> LoadedImage:
    path = require_file(path)
    limit = max_pixels or 0
    saved_limit = Image.MAX_IMAGE_PIXELS
    try:
        # Pillow's own guard fires at 2x its limit; we apply ours on the header before decoding.
        Image.MAX_IMAGE_PIXELS = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        check_pixels(path.name, im.size, limit, " (decompression-bomb guard)")
        n_frames = int(getattr(im, "n_frames", 1) or 1)
        im.seek(0)  # first frame of animations
        loaded = from_pil(im, _read_sixteen_bit(im, path))
        loaded.n_frames = n_frames
    except UnidentifiedImageError:
        raise ModelError(f"{path.name}: not an image format that can be read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ModelError(f"{path.name}: cannot decode image ({str(exc).splitlines()[0][:120]})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = saved_limit
    loaded.path = str(path)
    return loaded


def require_file(path: str | os.PathLike) -> Path:
    """`path` if it is a file; else one line saying why not (missing, a folder, a symlink loop)."""
    path = Path(path)
    try:
        path.stat()
    except FileNotFoundError:
        raise ModelError(f"no such image file: {path}") from None
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {os_reason(exc)}") from None
    if not path.is_file():
        raise ModelError(f"{path} is a folder, not an image" if path.is_dir() else f"{path} is not a file")
    return path


def probe_image(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of a readable image file, checked without decoding all of it into memory,
    or a one-line error (missing, not an image, a symlink loop, truncated)."""
    path = require_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                size = im.size
                im.verify()  # reads the data (for PNG: every chunk's checksum) without decoding pixels
    except UnidentifiedImageError:
        raise ModelError(f"{path.name}: not an image format that can be read") from None
    except Image.DecompressionBombError:
        return size
    except (OSError, SyntaxError, ValueError) as exc:
        raise ModelError(f"{path.name}: cannot decode image ({str(exc).splitlines()[0][:120]})") from None
    return size


def check_pixels(what: str, size: tuple[int, int], limit: int | None, why: str = "") -> None:
    """A one-line error when `what` (w, h) has more pixels than `limit` (0/None: no limit)."""
    w, h = size
    if limit and w * h > limit:
        raise ModelError(
            f"{what} is {w}x{h} = {_pixels(w * h)}, more than the limit of {_pixels(limit)}{why}; "
            f"raise it with --max-pixels"
        )


def _pixels(n: int) -> str:
    """Megapixels for photos, exact pixels for small limits (so 225 is not '0.0 MP')."""
    return f"{n / 1e6:.1f}".removesuffix(".0") + " MP" if n >= 100_000 else f"{n:,} pixels"


def _read_sixteen_bit(im: Image.Image, path: Path) -> np.ndarray | None:
    """uint16 H x W x C for 16-bit colour files, which Pillow would cut to 8 bits; else None."""
    raw_modes = [t.args for t in getattr(im, "tile", [])]  # ImageFile's decoder list
    if (
        im.format == "PNG"
        and raw_modes
        and all(isinstance(r, str) and r in _SIXTEEN_BIT_RAW for r in raw_modes)
    ):
        # Pillow's zip decoder unfilters 48/64-bit pixels correctly but keeps only the high byte;
        # decoding a second time with the little-endian raw mode yields the low bytes.
        planes = []
        for swap in (False, True):
            frame = Image.open(path)
            if swap:
                frame.tile = [t._replace(args=_SIXTEEN_BIT_RAW[str(t.args)]) for t in frame.tile]
            frame.load()
            planes.append(np.asarray(frame, dtype=np.uint16))
        return (planes[0] << 8) | planes[1]
    if im.format == "TIFF" and im.mode in ("RGB", "RGBA") and _tiff_bits(im) == 16:
        import tifffile

        data = tifffile.imread(path)
        if data.ndim == 3 and data.shape[-1] in (3, 4) and data.dtype == np.uint16:
            return data
    return None


def _tiff_bits(im: Image.Image) -> int:
    bits = im.tag_v2.get(258, (8,)) if hasattr(im, "tag_v2") else (8,)
    return int(bits[0] if isinstance(bits, tuple) else bits)


def from_pil(im: Image.Image, sixteen: np.ndarray | None = None) -> LoadedImage:
    """Convert a Pillow image (and optionally its full 16-bit pixels) to a LoadedImage."""
    fmt, mode = im.format, im.mode
    icc = im.info.get("icc_profile") or None
    exif = im.getexif()
    orientation = exif.get(_ORIENTATION_TAG, 1)
    if sixteen is None and orientation != 1:
        im = ImageOps.exif_transpose(im)  # before the tag is reset below
    if orientation != 1:
        exif[_ORIENTATION_TAG] = 1
    exif_bytes = exif.tobytes() if len(exif) else None

    if sixteen is not None:
        arr = _orient(sixteen, orientation).astype(np.float32) / 65535.0
        rgb, alpha = arr[..., :3], (arr[..., 3] if arr.shape[-1] == 4 else None)
        return LoadedImage(np.ascontiguousarray(rgb), alpha, icc, 16, fmt, mode, exif=exif_bytes)

    bit_depth = 8
    alpha = None
    icc_converted = False
    grey_file = mode in _GREY_MODES
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        grey = np.asarray(im).astype(np.float32)
        bit_depth = 16 if mode.startswith("I;16") or grey.max(initial=0) > 255 else 8
        grey /= 65535.0 if bit_depth == 16 else 255.0
        rgb = np.repeat(np.clip(grey, 0, 1)[..., None], 3, axis=2)
    elif mode == "F":
        rgb = np.repeat(np.clip(np.asarray(im, dtype=np.float32), 0, 1)[..., None], 3, axis=2)
    else:
        if mode == "CMYK":
            im, icc = _cmyk_to_srgb(im, icc), None
        elif mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        elif mode in ("LA", "La", "PA", "RGBa") or (mode == "L" and "transparency" in im.info):
            im = im.convert("RGBA")
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGB")
        if im.mode == "RGBA":
            alpha = np.asarray(im.getchannel("A"), dtype=np.float32) / 255.0
            im = im.convert("RGB")
        if icc and not _is_srgb(icc) and not grey_file:  # a grey profile stays with grey pixels
            im, icc_converted = _profile_convert(im, icc, to_srgb=True), True
        rgb = np.asarray(im, dtype=np.float32) / 255.0
    return LoadedImage(
        np.ascontiguousarray(rgb, dtype=np.float32),
        alpha,
        icc,
        bit_depth,
        fmt,
        mode,
        exif=exif_bytes,
        icc_converted=icc_converted,
        grey=grey_file,
    )


_GREY_MODES = ("1", "L", "LA", "La", "I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def _orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """EXIF orientation 1..8 applied to an H x W x C array (the same ops as ImageOps.exif_transpose)."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 1)[::-1],
        8: lambda a: np.rot90(a, 1),
    }
    return np.ascontiguousarray(ops[orientation](arr)) if orientation in ops else arr


_SRGB = None


def _srgb_profile():
    global _SRGB
    if _SRGB is None:
        _SRGB = ImageCms.createProfile("sRGB")
    return _SRGB


def _is_srgb(icc: bytes) -> bool:
    try:
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (OSError, ImageCms.PyCMSError):
        return True  # unreadable profile: keep the bytes, treat the pixels as sRGB
    return "srgb" in desc.lower().replace(" ", "").replace("-", "")


def _to_rgb_profile(im: Image.Image, src, dst) -> Image.Image:
    out = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
    assert out is not None  # None only when converting in place
    return out


def _profile_convert(im: Image.Image, icc: bytes, to_srgb: bool) -> Image.Image:
    try:
        own = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        src, dst = (own, _srgb_profile()) if to_srgb else (_srgb_profile(), own)
        return _to_rgb_profile(im, src, dst)
    except (OSError, ImageCms.PyCMSError):
        return im


def _cmyk_to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            return _to_rgb_profile(im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _srgb_profile())
        except (OSError, ImageCms.PyCMSError) as exc:
            log.warning("the CMYK picture's ICC profile could not be applied (%s): plain conversion", exc)
    return im.convert("RGB")


# ---------------------------------------------------------------------------- saving
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
        im = _profile_convert(im, src.icc_profile, to_srgb=False)
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
