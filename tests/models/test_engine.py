"""restore(): padding, upscale, alpha, stages, tiles, OOM retry, precision, determinism."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage import data, transform

from models import tiling
from models.checkpoints import load_model
from models.engine import pad_to_multiple, restore, upscale_bicubic
from models.errors import ModelError
from models.mssnet import MSSNet
from models.precision import cpu_supports_bf16, resolve_precision
from tests.constants import DATA

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny():
    return load_model(DATA / "tiny_official_checkpoint.pt")


def _psnr(a, b):
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def _img(h, w, seed=0, mode="RGB"):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, len(mode)), dtype=np.uint8), mode)


def test_any_size_is_reflect_padded_and_cropped(tiny):
    img = _img(37, 53)
    res = restore(img, tiny, precision="fp32", tile=0)
    assert res.image.size == (53, 37) and res.image.mode == "RGB"
    x = np.asarray(img, np.float32) / 255
    padded = np.pad(x, ((0, 11), (0, 11), (0, 0)), mode="reflect")
    with torch.no_grad():
        ref = tiny.model(torch.from_numpy(padded).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    ref = np.clip(ref[:37, :53], 0, 1)
    assert np.abs(res.rgb - ref).max() < 1e-5
    assert np.array_equal(np.asarray(res.image), np.round(ref * 255).astype(np.uint8))
    assert res.stats.input_size == (53, 37) and res.stats.output_size == (53, 37)
    assert res.stats.weights is tiny.info  # the loaded description, not an attribute of the module
    assert restore(img, tiny.model, precision="fp32", tile=0).stats.weights.name == "untrained"
    assert pad_to_multiple(np.zeros((3, 1, 3), np.float32), 16).shape == (16, 16, 3)


def test_upscale_then_restore(tiny):
    img = _img(20, 30, seed=1)
    res = restore(img, tiny, upscale=3, precision="fp32", tile=0)
    assert res.image.size == (90, 60) and res.stats.upscale == 3
    x = torch.from_numpy(np.asarray(img, np.float32) / 255).permute(2, 0, 1)[None]
    ref = (
        F.interpolate(x, scale_factor=3, mode="bicubic", antialias=True)
        .clamp(0, 1)[0]
        .permute(1, 2, 0)
        .numpy()
    )
    big = upscale_bicubic(np.asarray(img, np.float32) / 255, 3)
    assert np.abs(big - ref).max() < 1e-6
    direct = restore(Image.fromarray(np.round(big * 255).astype(np.uint8)), tiny, precision="fp32", tile=0)
    assert _psnr(res.rgb, direct.rgb) > 30  # same pipeline up to the 8-bit rounding of the input
    assert res.timings["upscale"] >= 0 and res.timings["total"] >= res.timings["forward"]
    with pytest.raises(ModelError, match="upscale must be"):
        restore(img, tiny, upscale=5)


def test_alpha_reattached_at_output_size(tiny):
    rgba = np.asarray(_img(24, 40, seed=2, mode="RGBA")).copy()
    rgba[..., 3] = np.linspace(0, 255, 40).astype(np.uint8)[None, :]
    res = restore(Image.fromarray(rgba), tiny, upscale=2, precision="fp32", tile=0)
    assert res.image.mode == "RGBA" and res.image.size == (80, 48)
    alpha = np.asarray(res.image)[..., 3].astype(float)
    assert abs(alpha.mean() - rgba[..., 3].mean()) < 3 and alpha[:, 0].mean() < alpha[:, -1].mean()


def test_stages_and_keep_stages(tiny):
    img = _img(48, 64, seed=3)
    res = restore(img, tiny, precision="fp32", tile=0, keep_stages=True)
    assert len(res.stage_images) == 6 and all(s.size == (64, 48) for s in res.stage_images)
    assert np.array_equal(np.asarray(res.stage_images[-1]), np.asarray(res.image))
    assert all(f"stage_{i}" in res.timings for i in range(1, 7))
    three = restore(img, tiny, precision="fp32", tile=0, stages=3)
    assert np.array_equal(np.asarray(three.image), np.asarray(res.stage_images[2]))
    assert not np.array_equal(np.asarray(three.image), np.asarray(res.image))
    assert restore(img, tiny, tile=0).stage_images is None


def test_tiles_progress_and_determinism(tiny):
    img = _img(144, 200, seed=4)
    calls = []
    a = restore(img, tiny, tile=64, progress=lambda d, t: calls.append((d, t)))
    n = a.stats.n_tiles
    assert n > 4 and a.stats.tile == (64, 64)
    assert calls[0] == (0, n) and calls[-1] == (n, n) and len(calls) == n + 1
    b = restore(img, tiny, tile=64)
    assert np.array_equal(a.rgb, b.rgb)  # deterministic


def test_blending_identical_tiles_reproduces_the_image():
    rng = np.random.default_rng(5)
    image = rng.random((208, 304, 3)).astype(np.float32)
    tiles = tiling.plan_tiles(208, 304, 96)
    covered = np.zeros((208, 304), bool)
    blender = tiling.Blender(208, 304)
    for t in tiles:
        assert t.y % 16 == 0 and t.x % 16 == 0 and t.h == 96 and t.w == 96
        covered[t.y : t.y + t.h, t.x : t.x + t.w] = True
        blender.add(t, image[t.y : t.y + t.h, t.x : t.x + t.w])
    assert covered.all()
    assert np.abs(blender.result() - image).max() < 1e-5
    # a tile's weights fade towards neighbours and stay 1 on the outer image border
    w = tiling.feather(tiles[0], 208, 304)
    assert w[0, 0, 0] == 1.0 and w[-1, -1, 0] < 0.05


def test_tile_size_follows_memory_budget():
    small = (20, 40, 40)
    assert tiling.auto_tile(small, "bf16", 512, 512, budget=8 * 2**30) is None
    t = tiling.auto_tile(small, "bf16", 3008, 4000, budget=512 * 2**20)
    assert t[0] % 16 == 0 and t[1] % 16 == 0 and 64 <= min(t) and max(t) < 3008
    assert t[0] * t[1] * tiling.bytes_per_pixel(small, "bf16") <= 512 * 2**20
    t32 = tiling.auto_tile(small, "fp32", 3008, 4000, 512 * 2**20)
    assert t32[0] * t32[1] < t[0] * t[1]  # fp32 needs more per pixel
    assert 0 < tiling.available_memory(torch.device("cpu")) <= tiling.CPU_BUDGET_CAP


class _MemoryCappedMSSNet(MSSNet):
    """Runs out of memory (the real exception type) on inputs larger than `cap` pixels, the way
    a GPU with little free memory does."""

    cap = 96 * 96

    def forward(self, x, stages=6, half=None):
        if x.shape[-1] * x.shape[-2] > self.cap:
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {x.numel() * 512} bytes")
        return super().forward(x, stages, half)


def test_out_of_memory_retries_with_smaller_tiles(tiny):
    model = _MemoryCappedMSSNet(8, 4, 4)
    model.load_state_dict(tiny.model.state_dict())
    img = _img(160, 176, seed=6)
    res = restore(img, model, tile=0, precision="fp32")
    assert res.stats.oom_retries >= 1 and max(res.stats.tile) <= 96 and res.stats.n_tiles > 1
    assert res.image.size == (176, 160)
    model.cap = 10
    with pytest.raises(ModelError, match="out of memory even with 64px tiles"):
        restore(img, model, tile=0, precision="fp32")


def test_device_precision_and_limits(tiny, tmp_path, monkeypatch):
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if cpu_supports_bf16() else "fp32")
    with pytest.raises(ModelError, match="unknown precision"):
        resolve_precision("int8", cpu)
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="no CUDA GPU"):
            restore(_img(16, 16), tiny, device="cuda")
    res = restore(_img(16, 16), tiny)
    assert res.stats.device == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(
        ModelError, match="the x2 output is 40x40 = 1,600 pixels, more than the limit of 1,000 pixels"
    ):
        restore(_img(20, 20), tiny, upscale=2, max_pixels=1000)
    monkeypatch.setenv("MSSNET_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(ModelError, match="no MSSNet weights are installed"):
        restore(_img(16, 16))
    with pytest.raises(ModelError, match="cannot restore a list"):
        restore([1, 2, 3], tiny)


def test_reduced_precision_costs_under_0_05_db_on_a_real_photo():
    """bf16 vs fp32 on skimage's cat photo (300x451), blurred then restored with the reference
    checkpoint tiny2 (random official-format weights: any weights, not only ours)."""
    if not cpu_supports_bf16():
        pytest.skip("no native bf16 on this CPU")
    model = load_model(DATA / "tiny2_official_checkpoint.pt")
    sharp = data.chelsea().astype(np.float32) / 255
    from scipy.ndimage import uniform_filter1d

    blurred = uniform_filter1d(sharp, size=9, axis=1)  # horizontal motion blur
    img = Image.fromarray(np.round(blurred * 255).astype(np.uint8))
    fp32 = restore(img, model, precision="fp32", tile=0)
    bf16 = restore(img, model, precision="bf16", tile=0)
    assert bf16.stats.precision == "bf16"
    cost = _psnr(fp32.rgb, sharp) - _psnr(bf16.rgb, sharp)
    assert abs(cost) < 0.05
    assert _psnr(bf16.rgb, fp32.rgb) > 40


def test_reduced_precision_costs_under_0_05_db_with_the_bundled_weights():
    """The shipped workflow: a cat photo shrunk x2, enlarged and restored by the bundled trained
    weights, in bf16 (the engine's CPU default, with its lerp upsampling) against fp32."""
    if not cpu_supports_bf16():
        pytest.skip("no native bf16 on this CPU")
    model = load_model(None)
    sharp = data.chelsea()[:300, :450]
    small = Image.fromarray(sharp).resize((225, 150), Image.Resampling.BICUBIC)
    fp32 = restore(small, model, precision="fp32", upscale=2, tile=0)
    bf16 = restore(small, model, precision="bf16", upscale=2, tile=0)
    truth = sharp.astype(np.float32) / 255
    assert abs(_psnr(fp32.rgb, truth) - _psnr(bf16.rgb, truth)) < 0.05  # measured: 0.002 dB
    assert _psnr(bf16.rgb, fp32.rgb) > 45  # measured: 69 dB


def test_tiled_matches_whole_image_on_a_1024_photo(tiny):
    photo = transform.resize(data.astronaut(), (1024, 1024), order=3, anti_aliasing=False)
    img = Image.fromarray(np.round(np.clip(photo, 0, 1) * 255).astype(np.uint8))
    whole = restore(img, tiny, precision="fp32", tile=0)
    tiled = restore(img, tiny, precision="fp32", tile=512)
    assert whole.stats.n_tiles == 1 and tiled.stats.n_tiles == 9
    assert _psnr(tiled.rgb, whole.rgb) >= 45


def test_tiles_match_the_whole_image_with_the_bundled_weights_in_auto_precision():
    """The default path (trained weights, bf16 where the CPU has it): seams stay invisible."""
    photo = transform.resize(data.astronaut(), (1024, 1024), order=3, anti_aliasing=False)
    img = Image.fromarray(np.round(np.clip(photo, 0, 1) * 255).astype(np.uint8))
    model = load_model(None)
    whole = restore(img, model, tile=0)
    tiled = restore(img, model, tile=384)
    assert tiled.stats.n_tiles > 1 and tiled.stats.precision == whole.stats.precision
    assert _psnr(tiled.rgb, whole.rgb) >= 45  # measured: 59 dB in bf16 (256px tiles)


def test_auto_tiles_cover_a_photo_in_the_fewest_tiles_with_little_overlap():
    # the case: two halves of a 720x1280 photo, not two 720x896 squares (1.4x the work)
    assert tiling.fit_tiles(720, 1280, 720 * 1280) is None
    tile = tiling.fit_tiles(720, 1280, 600_000)
    tiles = tiling.plan_tiles(720, 1280, tile)
    assert len(tiles) == 2 and tile[0] == 720
    assert sum(t.h * t.w for t in tiles) / (720 * 1280) < 1.1
    assert tiles[1].x + tiles[1].w == 1280 and tiles[0].x + tiles[0].w - tiles[1].x >= tiling.DEFAULT_OVERLAP
    # a 4000x3000 photo under a 1.8 MP tile: no grid of fewer tiles fits, and the computed area is small
    tile = tiling.fit_tiles(3008, 4000, 1_800_000)
    tiles = tiling.plan_tiles(3008, 4000, tile)
    assert tile[0] * tile[1] <= 1_800_000 and len(tiles) == 8
    assert sum(t.h * t.w for t in tiles) / (3008 * 4000) < 1.15


def test_the_memory_model_covers_the_measured_activation_memory():
    # measured VmHWM growth per pixel (bytes) of a CPU forward, see tiling._BYTES_PER_PIXEL_CHANNEL
    measured = {
        ((20, 40, 40), "fp32"): 1080,
        ((20, 40, 40), "bf16"): 810,
        ((8, 8, 8), "fp32"): 459,
        ((32, 64, 64), "fp32"): 2074,
        ((32, 64, 64), "bf16"): 1212,
    }
    for (config, precision), value in measured.items():
        assert value <= tiling.bytes_per_pixel(config, precision) <= 1.5 * value
