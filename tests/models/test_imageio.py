"""Image I/O: formats, orientation, colour modes, 16-bit, alpha, ICC, bombs, no silent overwrite."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from models.errors import ModelError
from models.imageio import load_image
from models.imagesave import encode_png16, save_image


def _photo(h=40, w=56, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x / w, y / h, (x + y) / (w + h)], axis=2)
    return np.clip(base + 0.05 * rng.standard_normal((h, w, 3)), 0, 1).astype(np.float32)


def _u8(a):
    return np.round(a * 255).astype(np.uint8)


@pytest.mark.parametrize(
    "ext,tol",
    [(".png", 0.5 / 255), (".bmp", 0.5 / 255), (".tif", 0.5 / 255), (".webp", 0.08), (".jpg", 0.08)],
)
def test_common_formats_roundtrip(tmp_path, ext, tol):
    photo = _photo()
    Image.fromarray(_u8(photo)).save(
        tmp_path / f"in{ext}", **({"quality": 98} if ext in (".jpg", ".webp") else {})
    )
    loaded = load_image(tmp_path / f"in{ext}")
    assert loaded.rgb.dtype == np.float32 and loaded.rgb.shape == photo.shape
    assert loaded.bit_depth == 8 and loaded.alpha is None
    assert np.abs(loaded.rgb - photo).mean() < tol + 0.5 / 255
    out = save_image(loaded, loaded.rgb, tmp_path / f"out{ext}")
    assert np.abs(load_image(out).rgb - loaded.rgb).mean() < tol + 0.5 / 255


def test_exif_orientation_is_applied(tmp_path):
    photo = _u8(_photo(30, 50))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display needs a 90-degree clockwise turn
    Image.fromarray(photo).save(tmp_path / "o.jpg", exif=exif.tobytes(), quality=98)
    loaded = load_image(tmp_path / "o.jpg")
    assert loaded.rgb.shape[:2] == (50, 30)
    expected = np.rot90(photo, -1).astype(np.float32) / 255
    assert np.abs(loaded.rgb - expected).mean() < 0.05
    assert np.abs(loaded.rgb - np.rot90(photo, 1).astype(np.float32) / 255).mean() > 0.15
    save_image(loaded, loaded.rgb, tmp_path / "o_out.jpg")
    again = Image.open(tmp_path / "o_out.jpg")
    assert again.size == (30, 50) and again.getexif().get(0x0112, 1) == 1


def test_grey_palette_cmyk_and_grey_alpha(tmp_path):
    grey = _u8(_photo()[..., 0])
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    g = load_image(tmp_path / "g.png")
    assert (
        g.rgb.shape[2] == 3
        and np.allclose(g.rgb[..., 0], grey / 255)
        and np.allclose(g.rgb[..., 1], g.rgb[..., 0])
    )

    pal = Image.fromarray(_u8(_photo())).quantize(16)
    pal.info["transparency"] = 0
    pal.save(tmp_path / "p.png", transparency=0)
    p = load_image(tmp_path / "p.png")
    assert p.mode == "P" and p.alpha is not None and p.alpha.min() == 0.0 and p.alpha.max() == 1.0

    Image.fromarray(_u8(_photo())).convert("CMYK").save(tmp_path / "c.jpg", quality=98)
    c = load_image(tmp_path / "c.jpg")
    assert c.mode == "CMYK" and c.rgb.shape[2] == 3
    assert np.abs(c.rgb - _photo()).mean() < 0.06

    Image.fromarray(grey, "L").convert("LA").save(tmp_path / "la.png")
    assert load_image(tmp_path / "la.png").alpha is not None


def _png16_all_filters(data):
    """A 16-bit PNG whose rows cycle through the five PNG filters (as libpng's encoder may)."""
    h, w, c = data.shape
    rows = np.ascontiguousarray(data, dtype=">u2").view(np.uint8).reshape(h, -1).astype(np.int32)
    bpp = c * 2
    out = []
    for r in range(h):
        x = rows[r]
        up = rows[r - 1] if r else np.zeros_like(x)
        left = np.concatenate([np.zeros(bpp, np.int32), x[:-bpp]])
        ul = np.concatenate([np.zeros(bpp, np.int32), up[:-bpp]])
        kind = r % 5
        if kind == 0:
            pred = 0
        elif kind == 1:
            pred = left
        elif kind == 2:
            pred = up
        elif kind == 3:
            pred = (left + up) // 2
        else:
            p = left + up - ul
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, ul))
        out.append(bytes([kind]) + ((x - pred) % 256).astype(np.uint8).tobytes())

    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, {3: 2, 4: 6}[c], 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"".join(out)))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("channels", [3, 4])
def test_sixteen_bit_png_in_sixteen_bit_png_out(tmp_path, channels):
    data = (np.random.default_rng(1).random((23, 17, channels)) * 65535).astype(np.uint16)
    (tmp_path / "in16.png").write_bytes(_png16_all_filters(data))
    loaded = load_image(tmp_path / "in16.png")
    assert loaded.bit_depth == 16
    assert np.array_equal(np.round(loaded.rgb * 65535).astype(np.uint16), data[..., :3])
    assert (loaded.alpha is not None) == (channels == 4)
    save_image(loaded, loaded.rgb, tmp_path / "out16.png")
    again = load_image(tmp_path / "out16.png")
    assert again.bit_depth == 16 and np.array_equal(np.round(again.rgb * 65535), np.round(loaded.rgb * 65535))
    if channels == 4:
        assert np.array_equal(np.round(again.alpha * 65535), data[..., 3])


def test_sixteen_bit_grey_and_tiff(tmp_path):
    grey = (np.random.default_rng(2).random((12, 9)) * 65535).astype(np.uint16)
    Image.fromarray(grey).save(tmp_path / "g16.png")
    g = load_image(tmp_path / "g16.png")
    assert g.bit_depth == 16 and np.array_equal(np.round(g.rgb[..., 1] * 65535).astype(np.uint16), grey)
    import tifffile

    rgb = (np.random.default_rng(3).random((12, 9, 3)) * 65535).astype(np.uint16)
    tifffile.imwrite(tmp_path / "t16.tif", rgb, photometric="rgb")
    t = load_image(tmp_path / "t16.tif")
    assert t.bit_depth == 16 and np.array_equal(np.round(t.rgb * 65535).astype(np.uint16), rgb)
    save_image(t, t.rgb, tmp_path / "t16_out.tif")
    assert np.array_equal(tifffile.imread(tmp_path / "t16_out.tif"), rgb)


def test_alpha_reattached_and_resized(tmp_path):
    rgba = np.concatenate(
        [_u8(_photo()), np.tile(np.linspace(0, 255, 56).astype(np.uint8), (40, 1))[..., None]], 2
    )
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    loaded = load_image(tmp_path / "a.png")
    assert loaded.alpha is not None and loaded.alpha.shape == (40, 56)
    save_image(loaded, loaded.rgb, tmp_path / "same.png")
    same = Image.open(tmp_path / "same.png")
    assert same.mode == "RGBA" and np.array_equal(np.asarray(same)[..., 3], rgba[..., 3])
    big = np.repeat(np.repeat(loaded.rgb, 2, 0), 2, 1)
    save_image(loaded, big, tmp_path / "big.png")
    out = Image.open(tmp_path / "big.png")
    assert out.mode == "RGBA" and out.size == (112, 80)
    assert abs(np.asarray(out)[..., 3].astype(float).mean() - rgba[..., 3].mean()) < 2


def _fake_non_srgb_profile():
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    for old, new in ((b"sRGB", b"Test"), ("sRGB".encode("utf-16-be"), "Test".encode("utf-16-be"))):
        data = data.replace(old, new)
    return bytes(data)


def test_icc_profile_kept(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    other = _fake_non_srgb_profile()
    assert (
        ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(other))).lower().count("srgb") == 0
    )
    for name, icc in (("s.png", srgb), ("o.jpg", other)):
        Image.fromarray(_u8(_photo())).save(tmp_path / name, icc_profile=icc, quality=98)
        loaded = load_image(tmp_path / name)
        assert loaded.icc_profile == icc
        assert loaded.icc_converted == (icc is other)
        out = save_image(loaded, loaded.rgb, tmp_path / ("out_" + name))
        assert Image.open(out).info.get("icc_profile") == icc
        assert np.abs(load_image(out).rgb - loaded.rgb).mean() < 0.03


def test_decompression_bomb_refused(tmp_path):
    Image.new("1", (12_000, 9_000)).save(tmp_path / "bomb.png")  # 108 MP, a few kB on disk
    with pytest.raises(
        ModelError, match=r"bomb.png is 12000x9000 = 108 MP, more than the limit of 100 MP.*--max-pixels"
    ):
        load_image(tmp_path / "bomb.png")
    Image.fromarray(_u8(_photo())).save(tmp_path / "small.png")
    with pytest.raises(ModelError, match="= 2,240 pixels, more than the limit of 1,000 pixels"):
        load_image(tmp_path / "small.png", max_pixels=1000)
    assert load_image(tmp_path / "small.png", max_pixels=None).rgb.shape == (40, 56, 3)


def test_never_overwrite_without_force_and_clear_errors(tmp_path):
    Image.fromarray(_u8(_photo())).save(tmp_path / "in.png")
    loaded = load_image(tmp_path / "in.png")
    target = tmp_path / "out.png"
    target.write_bytes(b"keep me")
    with pytest.raises(ModelError, match="already exists; pass --force"):
        save_image(loaded, loaded.rgb, target)
    assert target.read_bytes() == b"keep me"
    save_image(loaded, loaded.rgb, target, force=True)
    assert Image.open(target).size == (56, 40)
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ModelError, match="not an image format"):
        load_image(tmp_path / "text.png")
    with pytest.raises(ModelError, match="no such image file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ModelError, match="cannot write .gifx"):
        save_image(loaded, loaded.rgb, tmp_path / "x.gifx")


def test_encode_png16_readable_by_pillow_high_bytes(tmp_path):
    data = (np.random.default_rng(4).random((5, 6, 3)) * 65535).astype(np.uint16)
    (tmp_path / "e.png").write_bytes(encode_png16(data))
    im = Image.open(tmp_path / "e.png")
    assert im.size == (6, 5)
    assert np.array_equal(np.asarray(im), (data >> 8).astype(np.uint8))
