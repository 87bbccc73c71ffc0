"""EASIER on MSSNet (models.streamline): entropy, per-site recording, linearisation, the 5×5 merge."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from models.streamline import (  # noqa: E402
    EntropyRecorder,
    binary_entropy,
    linearised,
    merged_kernel,
    prelu_sites,
    sites_are_shared,
    streamline,
)
from tests.constants import TINY_WEIGHTS  # noqa: E402


@pytest.fixture(scope="module")
def tiny(one_torch_thread):
    from models.checkpoints import load_model

    return load_model(str(TINY_WEIGHTS)).model


def _picture(h=48, w=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((h, w, 3), dtype=np.float32)


def test_binary_entropy_by_hand():
    # H(1/4) = 1/4·2 + 3/4·log2(4/3); 0·log 0 = 0 at both ends; a coin toss is one bit
    expected = [0.0, 0.0, 1.0, 0.25 * 2 + 0.75 * math.log2(4 / 3)]
    assert binary_entropy([0.0, 1.0, 0.5, 0.25]) == pytest.approx(expected, abs=1e-15)
    # nearly always off: both terms count; with p_off given exactly it does not collapse to 0 as fp32 would
    p = 1e-12
    by_hand = -p * math.log2(p) - (1 - p) * math.log2(1 - p)
    assert binary_entropy(p, 1 - p)[()] == pytest.approx(by_hand, rel=1e-9)
    assert np.float32(1) - np.float32(p) == 1  # why the p_off argument exists
    assert np.isfinite(binary_entropy([0.0, 1.0])).all()


def test_mssnet_has_87_sites_sharing_one_prelu(tiny):
    sites = prelu_sites(tiny)
    assert len(sites) == 87 and sites_are_shared(tiny)


def test_recorded_entropy_matches_a_hand_computed_site(tiny):
    """The first site (shallow_feat1's ResBlock): its pre-activation computed by hand from the input."""
    from models.mssnet import half_resolution

    x = torch.from_numpy(_picture()).permute(2, 0, 1)[None]
    with torch.inference_mode():
        with EntropyRecorder(tiny) as rec:
            tiny(x)
        feat = tiny.shallow_feat1[0](F.pixel_unshuffle(half_resolution(x), 2))
        pre = tiny.shallow_feat1[1].body[0](feat)
    p_on = (pre >= 0).double().mean(dim=(0, 2, 3)).numpy()
    h = -(p_on * np.log2(np.where(p_on > 0, p_on, 1)) + (1 - p_on) * np.log2(np.where(p_on < 1, 1 - p_on, 1)))
    site = {s.name: s for s in rec.results(1)}["shallow_feat1.1"]
    assert site.channels == len(p_on)
    assert site.on_share == pytest.approx(p_on.mean(), abs=1e-12)
    assert site.mean_entropy == pytest.approx(h.mean(), abs=1e-12)


def test_linearising_zero_sites_reproduces_the_model_exactly(tiny):
    x = torch.from_numpy(_picture()).permute(2, 0, 1)[None]
    with torch.inference_mode():
        plain = tiny(x)
        with EntropyRecorder(tiny):
            recorded = tiny(x)  # the hooks only read
        with linearised(tiny, []):
            zero = tiny(x)
    assert torch.equal(plain, recorded) and torch.equal(plain, zero)
    result = streamline(tiny, [_picture()], [None], device="cpu", precision="fp32", ks=[0])
    assert result.sweep[0].psnr_vs_full is None and result.sweep[0].psnr is None


def test_linearising_a_site_changes_only_that_site_and_is_undone(tiny):
    x = torch.from_numpy(_picture()).permute(2, 0, 1)[None]
    name = "E3_1.encoder_level1.0"
    blocks = dict(prelu_sites(tiny))
    with torch.inference_mode():
        plain = tiny(x)
        with linearised(tiny, [name]):
            assert isinstance(blocks[name].body[1], torch.nn.Identity)
            assert sum(isinstance(b.body[1], torch.nn.Identity) for b in blocks.values()) == 1
            changed = tiny(x)
        with linearised(tiny, list(blocks)):  # every site: no PReLU left, still runs
            assert tiny.act is None
            tiny(x)
        again = tiny(x)
    assert not torch.equal(plain, changed)
    assert torch.equal(plain, again) and sites_are_shared(tiny)


def test_sweep_ranks_sites_and_scores_against_a_reference(tiny):
    pictures = [_picture(seed=1), _picture(seed=2)]
    result = streamline(tiny, pictures, pictures, device="cpu", precision="fp32", ks=[0, 1, 87], repeats=1)
    assert [s.mean_entropy for s in result.sites] == sorted(s.mean_entropy for s in result.sites)
    assert all(0.0 <= s.mean_entropy <= 1.0 for s in result.sites)
    assert [r.k for r in result.sweep] == [0, 1, 87] and result.pictures == 2
    assert result.sweep[2].psnr_vs_full < result.sweep[1].psnr_vs_full
    assert result.to_dict()["merge"]["ratio"] == pytest.approx(25 / 18)


def test_merged_kernel_equals_the_two_convs_away_from_the_border():
    gen = torch.Generator().manual_seed(0)
    first, second = torch.randn(4, 3, 3, 3, generator=gen), torch.randn(5, 4, 3, 3, generator=gen)
    x = torch.randn(1, 3, 20, 24, generator=gen)
    pair = F.conv2d(F.conv2d(x, first, padding=1), second, padding=1)
    merged = F.conv2d(x, merged_kernel(first, second), padding=2)
    assert merged_kernel(first, second).shape == (5, 3, 5, 5)
    assert torch.allclose(pair[..., 2:-2, 2:-2], merged[..., 2:-2, 2:-2], atol=1e-4)
    assert not torch.allclose(pair, merged, atol=1e-4)  # the border differs: one conv, one zero padding
