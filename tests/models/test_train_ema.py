"""The weights campaign: moving average, per-task validation sets, random-direction motion blur,
the fine-detail loss terms and the background runner (tiny widths; dead leaves stand in for photos)."""

import math
from dataclasses import replace

import pytest
import torch

from models.training import background as B
from models.training.data import dead_leaves_pool, validation_pairs
from models.training.degrade import eval_degradation, motion_blur_noise, random_motion
from models.training.train import (
    BEST_NAME,
    CHECKPOINT_NAME,
    PRESETS,
    WeightsEMA,
    export_weights,
    hf_l1,
    high_pass,
    mssnet_loss,
    train,
)

SMOKE = PRESETS["smoke"]


@pytest.fixture(scope="module")
def photos():
    return dead_leaves_pool(4, 96, seed=5)


def test_ema_moves_each_weight_by_one_minus_decay():
    model = torch.nn.Linear(3, 2)
    ema = WeightsEMA(model, 0.9)
    before = ema.state["weight"].clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    assert torch.allclose(ema.state["weight"], 0.9 * before + 0.1 * model.weight)
    copy = ema.copy_to(torch.nn.Linear(3, 2))
    assert torch.equal(copy.weight, ema.state["weight"])


def test_ema_resumes_exactly_is_validated_kept_as_best_and_exported(tmp_path, photos):
    cfg = replace(SMOKE, ema_decay=0.5)
    train(cfg, tmp_path / "a", photos=photos, progress=False, device="cpu", steps=4)
    train(cfg, tmp_path / "b", photos=photos, progress=False, device="cpu", steps=2)
    resumed = train(cfg, tmp_path / "b", photos=photos, progress=False, device="cpu", resume=True, steps=4)
    a = torch.load(tmp_path / "a" / CHECKPOINT_NAME, weights_only=True)
    b = torch.load(tmp_path / "b" / CHECKPOINT_NAME, weights_only=True)
    for key, value in a["ema_state_dict"].items():
        assert torch.equal(value, b["ema_state_dict"][key]), key
    # the average differs from the raw weights after training
    assert any(not torch.equal(v, a["model_state_dict"][k]) for k, v in a["ema_state_dict"].items())
    vals = [e for e in resumed.history if "val_psnr" in e]
    assert vals and all("raw_val_psnr" in e for e in vals)
    best = torch.load(tmp_path / "b" / BEST_NAME, weights_only=True)
    assert best["all_step"] == b["best"]["step"] and "val_psnr" in best["val"]
    from safetensors.torch import load_file

    key = next(iter(a["ema_state_dict"]))
    export_weights(tmp_path / "a" / CHECKPOINT_NAME, tmp_path / "ema.safetensors")
    export_weights(tmp_path / "a" / CHECKPOINT_NAME, tmp_path / "raw.safetensors", raw=True)
    assert torch.equal(load_file(tmp_path / "ema.safetensors")[key], a["ema_state_dict"][key].half())
    assert torch.equal(load_file(tmp_path / "raw.safetensors")[key], a["model_state_dict"][key].half())


def test_a_stop_request_checkpoints_after_the_current_step(tmp_path, photos):
    result = train(
        SMOKE, tmp_path / "r", photos=photos, progress=False, device="cpu", should_stop=lambda: True
    )
    assert result.step == 1
    assert torch.load(tmp_path / "r" / CHECKPOINT_NAME, weights_only=True)["all_step"] == 1


def test_background_presets_validate_on_at_least_96_crops_per_task():
    for name in ("cpu-enlarge-ema", "cpu-enlarge-ema-hf", "cpu-enlarge-ema-fft3", "cpu-deblur-ema"):
        cfg = PRESETS[name]
        assert cfg.val_count >= 96 and cfg.val_count % len(cfg.val_kinds) == 0 and cfg.ema_decay == 0.999
    assert PRESETS["cpu-deblur-ema"].val_kinds == ("motion_random",)
    assert PRESETS["cpu-deblur-ema"].degrade["shake_length"] == (5.0, 25.0)  # trained as validated
    assert {r.preset for r in B.ROTATION} == {
        "cpu-enlarge-ema",
        "cpu-enlarge-ema-hf",
        "cpu-enlarge-ema-fft3",
        "cpu-deblur-ema",
    }


def test_random_motion_spans_every_direction_and_length():
    g = torch.Generator().manual_seed(0)
    _, angles = random_motion(torch.zeros(400, 3, 8, 8), g)
    counts = torch.histc(angles, bins=4, min=0, max=180)
    assert angles.min() >= 0 and angles.max() < 180 and counts.min() >= 70
    # one bright dot blurred horizontally by 21 px becomes a 21-px horizontal streak
    dot = torch.zeros(1, 3, 41, 41)
    dot[..., 20, 20] = 1.0
    line = motion_blur_noise(dot, torch.tensor([21.0]), torch.tensor([0.0]), g, sigma=0.0)
    lit = (line[0, 0] > 0).nonzero()
    assert 20 <= int(lit[:, 1].max() - lit[:, 1].min()) <= 23 and int(lit[:, 0].max() - lit[:, 0].min()) <= 1
    vertical = motion_blur_noise(dot, torch.tensor([21.0]), torch.tensor([math.pi / 2]), g, sigma=0.0)
    assert torch.allclose(vertical[0, 0], line[0, 0].T, atol=1 / 255)


def test_motion_random_validation_is_seeded_and_not_the_fixed_line():
    pool = dead_leaves_pool(2, 96, seed=6)
    deg, sharp = validation_pairs(pool, 4, 32, seed=3, kinds=("motion_random",))
    again, _ = validation_pairs(pool, 4, 32, seed=3, kinds=("motion_random",))
    assert torch.equal(deg, again)
    assert torch.equal(deg, eval_degradation(sharp, "motion_random", 3))
    assert not torch.equal(deg, eval_degradation(sharp, "motion", 3))


def test_fine_detail_terms_vanish_on_a_match_and_add_to_the_loss():
    x = torch.rand(2, 3, 32, 32)
    assert float(high_pass(torch.full((1, 3, 16, 16), 0.4)).abs().max()) < 1e-6
    for kind in ("highpass", "gradient"):
        assert float(hf_l1(x, x, kind)) == 0.0
    half = torch.nn.functional.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=True)
    blurred = [half] + [torch.nn.functional.avg_pool2d(x, 3, 1, 1)] * 5
    plain = float(mssnet_loss(blurred, x))
    assert float(mssnet_loss(blurred, x, 0.1, "highpass", 1.0)) > plain


def test_background_runner_alternates_runs_and_resumes(tmp_path, photos):
    presets = {
        "a": replace(SMOKE, steps=4, save_every=1, val_kinds=("x2", "x4"), val_count=4),
        "b": replace(SMOKE, steps=4, save_every=1, val_kinds=("motion_random",), val_count=2),
    }
    rotation = (B.Run("a", "a", None), B.Run("b", "b", None))
    lines: list[str] = []
    assert (
        B.run_forever(tmp_path, turn=2, rotation=rotation, presets=presets, photos=photos, say=lines.append)
        == 4
    )
    assert [line.split()[1:3] for line in lines if "resume" in line] == [["a:", "resume"], ["b:", "resume"]]
    more = {k: replace(v, steps=6) for k, v in presets.items()}  # a later session, longer schedule
    assert (
        B.run_forever(tmp_path, turn=2, rotation=rotation, presets=more, photos=photos, say=lines.append) == 2
    )
    for name in ("a", "b"):
        assert torch.load(tmp_path / name / CHECKPOINT_NAME, weights_only=True)["all_step"] == 6
    scores = B.write_scores(tmp_path, rotation, more)
    assert scores["a"]["step"] == 6 and scores["a"]["best"]["step"] in (2, 4, 6)
    assert "spread_ema" in scores["a"] and "raw" in scores["b"]["validations"][0]
