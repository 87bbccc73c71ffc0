from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from models.training import degrade as D


def _photo(h=96, w=128, seed=0):
    from skimage import data

    img = data.chelsea()[:h, :w].astype(np.float32) / 255
    return torch.from_numpy(img).permute(2, 0, 1)[None]


def _psnr(a, b):
    return float(-10 * ((a - b) ** 2).mean().log10())


def test_bicubic_down_up_matches_pil_in_float():
    x = _photo()
    ours = D.resize_down_up(x, 2.0, "bicubic")[0].numpy()
    ref = []
    for c in range(3):
        im = Image.fromarray(x[0, c].numpy(), mode="F")
        ref.append(np.asarray(im.resize((64, 48), Image.BICUBIC).resize((128, 96), Image.BICUBIC)))
    assert np.abs(ours - np.stack(ref)).max() < 1e-5


def test_larger_factor_loses_more_and_kernels_differ():
    x = _photo()
    scores = {f: _psnr(D.resize_down_up(x, f, "bicubic"), x) for f in (2.0, 3.0, 4.0)}
    assert scores[2.0] > scores[3.0] > scores[4.0]
    outs = [D.resize_down_up(x, 2.5, k) for k in D.KERNELS]
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            assert not torch.allclose(outs[i], outs[j], atol=1e-4)


def test_per_sample_factors_equal_single_sample_calls():
    x = _photo().repeat(3, 1, 1, 1)
    factors = torch.tensor([2.0, 3.3, 4.0])
    kinds = torch.tensor([0, 2, 4])
    batch = D.resize_down_up(x, factors, kinds)
    for i in range(3):
        one = D.resize_down_up(x[i : i + 1], float(factors[i]), D.KERNELS[int(kinds[i])])
        assert torch.allclose(batch[i], one[0], atol=1e-5)


def test_blur_kernels_normalised_and_identity():
    for k in (
        D.gaussian_kernels(torch.tensor([0.5, 1.5]), torch.tensor([1.0, 0.6]), torch.tensor([0.0, 1.0])),
        D.disk_kernels(torch.tensor([1.0, 2.5])),
        D.line_motion_kernel(),
        D.shake_kernels(torch.Generator().manual_seed(1), 4),
    ):
        assert torch.allclose(k.sum((-1, -2)), torch.ones(k.shape[0]), atol=1e-5)
    x = _photo()
    delta = torch.zeros(1, 5, 5)
    delta[0, 2, 2] = 1
    assert torch.allclose(D.blur(x, delta), x, atol=1e-6)
    assert _psnr(D.blur(x, D.line_motion_kernel()), x) < 35


def test_motion_blur_is_directional():
    # a horizontal line kernel leaves horizontal edges (constant along x) untouched
    k = D.line_motion_kernel(7, 0.0)
    x = torch.zeros(1, 3, 32, 32)
    x[..., 16:, :] = 1
    assert torch.allclose(D.blur(x, k), x, atol=1e-5)
    assert not torch.allclose(D.blur(x.transpose(-1, -2), k), x.transpose(-1, -2), atol=1e-2)


def test_jpeg_close_to_pil_and_quality_monotone():
    import io

    x = _photo()
    img8 = (x[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img8).save(buf, "JPEG", quality=50)
    pil = torch.from_numpy(np.asarray(Image.open(buf)).astype(np.float32) / 255).permute(2, 0, 1)[None]
    ours = D.jpeg(torch.from_numpy(img8).permute(2, 0, 1)[None].float() / 255, 50)
    assert _psnr(ours, pil) > 38  # same codec up to rounding details
    assert abs(_psnr(ours, x) - _psnr(pil, x)) < 1.0
    assert _psnr(D.jpeg(x, 90), x) > _psnr(D.jpeg(x, 30), x) + 2


def test_degrade_reproducible_from_seed_and_varied():
    x = _photo(96, 96).repeat(8, 1, 1, 1)
    a = D.degrade(x, torch.Generator().manual_seed(3))
    b = D.degrade(x, torch.Generator().manual_seed(3))
    c = D.degrade(x, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert torch.equal(torch.round(a * 255) / 255, a)  # 8-bit levels
    per_sample = [_psnr(a[i], x[i]) for i in range(8)]
    assert len({round(p, 2) for p in per_sample}) > 4  # samples degraded differently


def test_eval_degradations_fixed():
    x = _photo()
    for kind in ("x2", "x3", "x4", "motion"):
        assert torch.equal(D.eval_degradation(x, kind), D.eval_degradation(x, kind))
    assert (
        _psnr(D.eval_degradation(x, "x2"), x)
        > _psnr(D.eval_degradation(x, "x3"), x)
        > _psnr(D.eval_degradation(x, "x4"), x)
    )
    with pytest.raises(ValueError):
        D.eval_degradation(x, "x5")


def test_eval_motion_is_the_issues_spec():
    """13-px straight blur (its support spans 13 px along the line) plus σ 0.005 noise."""
    k = D.line_motion_kernel(angle_deg=0.0)[0]
    row = k[k.sum(1).argmax()]
    assert abs(float(k.sum()) - 1) < 1e-5
    assert int((row > 0.05).sum()) == 13  # (the two end pixels get the sub-pixel remainder)
    x = torch.full((1, 3, 64, 64), 0.5)
    noise = D.eval_degradation(x, "motion") - x  # flat image: blur changes nothing, noise is left
    assert 0.003 < float(noise.std()) < 0.007


def test_straight_shake_kernels_are_lines_and_bicubic_share_changes_the_shrink():
    x = _photo(96, 96).repeat(8, 1, 1, 1)
    lines = D.line_motion_kernels(torch.tensor([5.0, 25.0]), torch.tensor([0.0, 0.0]), 27)
    assert torch.allclose(lines.sum((1, 2)), torch.ones(2), atol=1e-5)
    assert int((lines[1].sum(0) > 1e-3).sum()) >= 24 and int((lines[1].sum(1) > 1e-3).sum()) <= 2
    shake = D.DegradeSettings(p_resize=0.0, p_blur=0.0, p_shake=1.0, p_noise=0.0, p_jpeg=0.0, kernel_size=27)
    curved = D.degrade(x, torch.Generator().manual_seed(5), shake)
    straight = D.degrade(x, torch.Generator().manual_seed(5), replace(shake, p_straight=1.0))
    assert not torch.equal(curved, straight)
    # the option off draws nothing extra: the older recipes keep their random streams
    assert torch.equal(D.degrade(x, torch.Generator().manual_seed(5), replace(shake, p_straight=0.0)), curved)
    resize = D.DegradeSettings(p_resize=1.0, p_blur=0.0, p_shake=0.0, p_noise=0.0, p_jpeg=0.0)
    mixed = D.degrade(x, torch.Generator().manual_seed(6), resize)
    bicubic = D.degrade(x, torch.Generator().manual_seed(6), replace(resize, p_bicubic=1.0))
    assert not torch.equal(mixed, bicubic)
