import numpy as np
import pytest
import torch

from models.errors import ModelError
from models.training import data as D
from tests.constants import ROOT


def _pool():
    rng = np.random.default_rng(0)
    flat = np.full((80, 120, 3), 128, np.uint8)  # featureless
    busy = (rng.random((100, 90, 3)) * 255).astype(np.uint8)  # all detail
    return D.ImagePool.from_arrays([flat, busy], ["flat", "busy"])


def test_pool_pads_and_crops_stay_inside_each_image():
    pool = _pool()
    assert pool.pixels.shape == (2, 3, 100, 120)
    assert pool.sizes.tolist() == [[80, 120], [100, 90]]
    crops = pool.random_crops(64, 48, torch.Generator().manual_seed(0))
    assert crops.shape == (64, 3, 48, 48) and crops.dtype == torch.float32
    # the zero padding never leaks in: every crop is entirely one of the two images
    flat = (crops == 128 / 255).all(dim=(1, 2, 3))
    assert flat.any() and (~flat).any()
    assert (crops[~flat].amin(dim=(1, 2, 3)) >= 0).all()
    with pytest.raises(ModelError, match="smaller"):
        pool.random_crops(4, 96, torch.Generator().manual_seed(0))


def test_detail_filter_prefers_rich_crops():
    pool = _pool()
    g = torch.Generator().manual_seed(1)
    crops = D.detailed_crops(pool, 16, 32, g, threshold=0.03, candidates=4)
    scores = D.detail_score(crops)
    plain = D.detail_score(pool.random_crops(16, 32, torch.Generator().manual_seed(1)))
    assert (scores > 0.03).float().mean() > (plain > 0.03).float().mean()
    assert (scores > 0.03).all()


def test_augment_gives_the_eight_symmetries_and_is_seeded():
    x = torch.arange(16.0).view(1, 1, 4, 4).repeat(64, 3, 1, 1)
    a = D.augment(x, torch.Generator().manual_seed(2))
    b = D.augment(x, torch.Generator().manual_seed(2))
    assert torch.equal(a, b)
    variants = {tuple(v[0].flatten().tolist()) for v in a}
    assert len(variants) == 8
    assert all(sorted(v) == list(range(16)) for v in variants)


def test_dead_leaves_cover_canvas_with_photo_colours():
    rng = np.random.default_rng(3)
    colours = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    img = D.dead_leaves(64, rng, colours, textured=0.0)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    found = {tuple(c) for c in img.reshape(-1, 3)}
    assert found <= {(255, 0, 0), (0, 0, 255)} and len(found) == 2
    again = D.dead_leaves(64, np.random.default_rng(3), colours, textured=0.0)
    assert np.array_equal(img, again)
    # many small disks: edges everywhere, like natural images
    assert D.detail_score(torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255) > 0.03


def test_pair_sampler_mixes_and_degrades_reproducibly():
    photos = _pool()
    leaves = D.dead_leaves_pool(2, 64, seed=4)

    def make(seed):
        s = D.PairSampler(photos, leaves, 32, 8, torch.Generator().manual_seed(seed), leaves_fraction=0.5)
        return s.sample()

    (deg, sharp), (deg2, sharp2) = make(5), make(5)
    assert torch.equal(deg, deg2) and torch.equal(sharp, sharp2)
    assert deg.shape == sharp.shape == (8, 3, 32, 32)
    assert not torch.equal(deg, sharp)


def test_find_photos_reports_missing_folder(tmp_path):
    with pytest.raises(ModelError, match="fetch_training_photos"):
        D.find_photos(tmp_path)


def test_load_photo_shrinks_at_least_twice(tmp_path):
    from PIL import Image

    path = tmp_path / "p.jpg"
    Image.fromarray((np.random.default_rng(0).random((200, 300, 3)) * 255).astype(np.uint8)).save(path)
    assert D.load_photo(path, max_side=1000).shape == (100, 150, 3)
    assert D.load_photo(path, max_side=60).shape == (40, 60, 3)


def test_validation_pairs_are_fixed_and_use_the_evaluation_degradations():
    from models.training.degrade import eval_degradation

    pool = D.dead_leaves_pool(2, 96, seed=6)
    deg, sharp = D.validation_pairs(pool, 6, 32, seed=9)
    deg2, sharp2 = D.validation_pairs(pool, 6, 32, seed=9)
    assert torch.equal(deg, deg2) and torch.equal(sharp, sharp2)
    assert torch.equal(deg[0::3], eval_degradation(sharp[0::3], "x2", 9))
    assert torch.equal(deg[2::3], eval_degradation(sharp[2::3], "motion", 9))


def test_fetch_script_is_valid_bash_and_keeps_copyright_files():
    import subprocess

    script = ROOT / "scripts" / "fetch_training_photos.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    for package in ("lomiri-wallpapers-16.04", "mate-backgrounds", "plasma-workspace-wallpapers"):
        assert package in text
    assert "copyright" in text and "umang" in text
