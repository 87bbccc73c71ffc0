"""Colour profiles: pixels are converted from a photo's own ICC profile to sRGB for the network,
and back to that profile when the result is saved (models.imageio reads, models.imagesave writes)."""

from __future__ import annotations

import io
import logging

from PIL import Image, ImageCms

log = logging.getLogger(__name__)

_SRGB = None


def srgb_profile():
    global _SRGB
    if _SRGB is None:
        _SRGB = ImageCms.createProfile("sRGB")
    return _SRGB


def is_srgb(icc: bytes) -> bool:
    """Whether a profile describes sRGB (an unreadable one counts as sRGB: its bytes are kept)."""
    try:
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (OSError, ImageCms.PyCMSError):
        return True  # unreadable profile: keep the bytes, treat the pixels as sRGB
    return "srgb" in desc.lower().replace(" ", "").replace("-", "")


def _to_rgb_profile(im: Image.Image, src, dst) -> Image.Image:
    out = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
    assert out is not None  # None only when converting in place
    return out


def profile_convert(im: Image.Image, icc: bytes, to_srgb: bool) -> Image.Image:
    """`im` from its own profile `icc` to sRGB (`to_srgb`) or back; unchanged if the profile cannot be applied."""
    try:
        own = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        src, dst = (own, srgb_profile()) if to_srgb else (srgb_profile(), own)
        return _to_rgb_profile(im, src, dst)
    except (OSError, ImageCms.PyCMSError):
        return im


def cmyk_to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """A CMYK picture as sRGB, through its profile when it has a usable one."""
    if icc:
        try:
            return _to_rgb_profile(im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb_profile())
        except (OSError, ImageCms.PyCMSError) as exc:
            log.warning("the CMYK picture's ICC profile could not be applied (%s): plain conversion", exc)
    return im.convert("RGB")
