"""Read any common photo into RGB float [0, 1] for the network (models.imagesave writes it back).

Handles PNG, JPEG, WebP, TIFF, BMP (and anything else Pillow reads): EXIF orientation applied,
grey / palette / CMYK / 16-bit converted to RGB (the `LoadedImage` remembers it was grey), alpha
kept aside, the ICC profile kept (pixels converted to sRGB for the network, models.colour),
16-bit depth kept as floats, decompression bombs refused before decoding.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from common.errors import os_reason
from models.colour import cmyk_to_srgb, is_srgb, profile_convert
from models.errors import ModelError
from models.formats import DEFAULT_MAX_PIXELS

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


def oriented_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) as the picture is shown: probe_image's size, turned by its EXIF orientation."""
    size = probe_image(path)
    try:
        with Image.open(path) as im:
            turned = im.getexif().get(_ORIENTATION_TAG, 1) in (5, 6, 7, 8)
    except (OSError, SyntaxError, ValueError):
        turned = False
    return (size[1], size[0]) if turned else size


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
            im, icc = cmyk_to_srgb(im, icc), None
        elif mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        elif mode in ("LA", "La", "PA", "RGBa") or (mode == "L" and "transparency" in im.info):
            im = im.convert("RGBA")
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGB")
        if im.mode == "RGBA":
            alpha = np.asarray(im.getchannel("A"), dtype=np.float32) / 255.0
            im = im.convert("RGB")
        if icc and not is_srgb(icc) and not grey_file:  # a grey profile stays with grey pixels
            im, icc_converted = profile_convert(im, icc, to_srgb=True), True
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
