import numpy as np
import pytest
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from models import metrics as M


def _pair():
    a = data.astronaut()[:120, :160].astype(np.float64) / 255
    b = np.clip(a + np.random.default_rng(0).normal(0, 0.04, a.shape), 0, 1)
    return a, b


def test_psnr_ssim_match_skimage_convention():
    a, b = _pair()
    assert M.psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=1), abs=1e-9)
    ref = structural_similarity(
        a, b, data_range=1, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert M.ssim(a, b) == pytest.approx(ref, abs=1e-9)
    assert M.ssim(a, a) == pytest.approx(1.0)
    assert M.psnr(a, a) == float("inf")
    with pytest.raises(ValueError):
        M.psnr(a, b[:10])


def test_metrics_do_not_import_torch():
    import subprocess
    import sys

    code = "import models.metrics, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_high_frequency_energy_and_sharpness_follow_blur():
    a, _ = _pair()
    blurred = (a + np.roll(a, 1, 0) + np.roll(a, 1, 1) + np.roll(a, (1, 1), (0, 1))) / 4
    ha, hb = M.high_frequency_energy(a), M.high_frequency_energy(blurred)
    assert ha.energy > hb.energy > 0 and 0 < hb.share < ha.share < 1
    assert M.laplacian_sharpness(a) > M.laplacian_sharpness(blurred)
    # a higher radius keeps less energy
    assert M.high_frequency_energy(a, 0.5).energy < ha.energy


def test_radial_spectrum_shape_and_peak_of_a_sinusoid():
    x = np.arange(128)
    img = np.repeat((0.5 + 0.4 * np.sin(2 * np.pi * 0.25 * x))[None, :], 128, 0)
    freqs, power = M.radial_spectrum(img, bins=32)
    assert freqs.shape == power.shape == (32,)
    assert 0 < freqs[0] and freqs[-1] < 0.5
    assert abs(freqs[np.argmax(power)] - 0.25) < 0.02


def test_fur_check_shares():
    a, _ = _pair()
    blurred = (a + np.roll(a, 1, 0) + np.roll(a, 1, 1) + np.roll(a, (1, 1), (0, 1))) / 4
    assert M.fur_check(blurred, a, a).recovered_share == pytest.approx(1.0)
    assert M.fur_check(blurred, a, a).overshoot == pytest.approx(0.0)
    assert M.fur_check(blurred, blurred, a).recovered_share == pytest.approx(0.0)
    assert M.fur_check(blurred, 2 * a - blurred, a).overshoot > 0.1  # over-sharpened


@pytest.mark.parametrize("h, w", [(1, 1), (5, 17), (2, 40)])
def test_too_small_images_give_nan_without_numpy_warnings(h, w):
    import warnings

    img = np.random.default_rng(0).random((h, w, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        assert np.isnan(M.ssim(img, img))  # an 11-pixel window does not fit
        if min(h, w) < M.SPECTRUM_MIN_SIDE:
            assert np.isnan(M.high_frequency_energy(img).share)
            assert M.radial_spectrum(img)[0].size == 0
        if min(h, w) < M.LAPLACIAN_MIN_SIDE:
            assert np.isnan(M.laplacian_sharpness(img))


def test_demo_rows_say_too_small_to_measure():
    from agent.demo.result import MetricRow

    row = MetricRow("SSIM", float("nan"), float("nan"))
    assert row.before is None and row.before_text == row.after_text == "too small to measure"
    assert MetricRow("PSNR", None, 30.0).before_text == "—"


def test_lost_detail_recovered_and_too_small_pictures():
    from models import metrics

    rng = np.random.default_rng(0)
    sharp = rng.random((64, 64, 3))
    soft = (sharp + np.roll(sharp, 1, 0) + np.roll(sharp, 1, 1) + np.roll(sharp, 1, (0, 1))) / 4
    halfway = (sharp + soft) / 2
    check = metrics.lost_detail_recovered(soft, halfway, sharp)
    assert 0 < check.recovered_share < 1 and check.overshoot < 0
    assert metrics.lost_detail_recovered(sharp, sharp, sharp) is None  # nothing was lost
    tiny = sharp[:8, :8]
    assert not metrics.measurable(tiny) and metrics.measurable(sharp)
    assert metrics.lost_detail_recovered(tiny, tiny, tiny) is None
