"""CPU smoke training: tiny widths and crops; dead-leaves images stand in for the photos."""

import json

import pytest
import torch

from models.errors import ModelError
from models.training.data import dead_leaves_pool
from models.training.train import (
    CHECKPOINT_NAME,
    LOG_NAME,
    PRESETS,
    export_weights,
    learning_rate,
    mssnet_loss,
    train,
)

SMOKE = PRESETS["smoke"]


@pytest.fixture(scope="module")
def photos():
    return dead_leaves_pool(4, 96, seed=5)


def test_learning_rate_warms_up_then_decays():
    cfg = PRESETS["cpu"]
    lrs = [learning_rate(s, cfg) for s in range(cfg.steps)]
    assert lrs[0] < lrs[cfg.warmup - 1] == pytest.approx(cfg.lr)
    assert all(a >= b for a, b in zip(lrs[cfg.warmup :], lrs[cfg.warmup + 1 :]))
    assert lrs[-1] == pytest.approx(cfg.lr_min, rel=0.05)


def test_loss_uses_half_resolution_target_for_first_output():
    sharp = torch.rand(2, 3, 32, 32)
    half = torch.nn.functional.interpolate(sharp, scale_factor=0.5, mode="bilinear", align_corners=True)
    perfect = [half] + [sharp] * 5
    assert float(mssnet_loss(perfect, sharp)) == pytest.approx(0.0, abs=1e-6)
    worse = [half + 0.1] + [sharp] * 5
    # L1 0.1 plus FFT-L1 of a constant shift (only the DC bin, real part: 0.1·16·16 / (16·16·2))
    assert float(mssnet_loss(worse, sharp)) == pytest.approx(0.1 + 0.1 * 0.05, rel=1e-4)


def test_loss_goes_down_on_a_fixed_batch(tmp_path, photos):
    cfg = PRESETS["smoke"].__class__(
        **{
            **PRESETS["smoke"].__dict__,
            "steps": 30,
            "val_every": 30,
            "save_every": 30,
            "log_every": 1,
            "lr": 2e-3,
            "warmup": 3,
        }
    )
    result = train(cfg, tmp_path / "run", photos=photos, fixed_batch=True, progress=False, device="cpu")
    losses = [e["loss"] for e in result.history if "loss" in e]
    assert len(losses) == 30
    assert sum(losses[-5:]) / 5 < 0.9 * sum(losses[:5]) / 5
    assert losses[-1] < min(losses[:10])
    log = [json.loads(line) for line in (tmp_path / "run" / LOG_NAME).read_text().splitlines()]
    assert any("val_psnr" in e for e in log) and all("samples_per_s" in e for e in log if "loss" in e)


def test_resume_continues_exactly(tmp_path, photos):
    straight = train(SMOKE, tmp_path / "a", photos=photos, progress=False, device="cpu", steps=4)
    train(SMOKE, tmp_path / "b", photos=photos, progress=False, device="cpu", steps=2)
    resumed = train(SMOKE, tmp_path / "b", photos=photos, progress=False, device="cpu", resume=True, steps=4)
    assert resumed.step == straight.step == 4
    a = torch.load(tmp_path / "a" / CHECKPOINT_NAME, weights_only=True)
    b = torch.load(tmp_path / "b" / CHECKPOINT_NAME, weights_only=True)
    for key, value in a["model_state_dict"].items():
        assert torch.equal(value, b["model_state_dict"][key]), key
    assert torch.equal(a["rng"]["data"], b["rng"]["data"])
    la = [e["loss"] for e in straight.history if "loss" in e]
    lb = [e["loss"] for e in resumed.history if "loss" in e]
    assert la[2:] == lb


def test_refuses_to_overwrite_a_run_and_exports_fp16(tmp_path, photos):
    train(SMOKE, tmp_path / "run", photos=photos, progress=False, device="cpu", steps=2)
    with pytest.raises(ModelError, match="--resume"):
        train(SMOKE, tmp_path / "run", photos=photos, progress=False, device="cpu", steps=2)
    out = tmp_path / "w.safetensors"
    sha = export_weights(tmp_path / "run" / CHECKPOINT_NAME, out)
    assert len(sha) == 64
    from safetensors.torch import load_file

    tensors = load_file(out)
    assert all(t.dtype == torch.float16 for t in tensors.values())
    from models.checkpoints import load_model

    model = load_model(str(out)).model
    assert model.config == SMOKE.width
    with pytest.raises(ModelError, match="exists"):
        export_weights(tmp_path / "run" / CHECKPOINT_NAME, out)


def test_fine_tune_starts_from_the_given_weights(tmp_path, photos):
    train(SMOKE, tmp_path / "first", photos=photos, progress=False, device="cpu", steps=2)
    weights = tmp_path / "first.safetensors"
    export_weights(tmp_path / "first" / CHECKPOINT_NAME, weights)
    from dataclasses import replace

    from models.checkpoints import load_model

    # lr 0: the fine-tune cannot move, so its weights are exactly where it started
    frozen = replace(SMOKE, init_weights=str(weights), lr=0.0, lr_min=0.0, fft_weight=0.3)
    train(frozen, tmp_path / "tuned", photos=photos, progress=False, device="cpu", steps=2)
    export_weights(tmp_path / "tuned" / CHECKPOINT_NAME, tmp_path / "tuned.safetensors")
    start, tuned = (
        load_model(str(weights)).model.state_dict(),
        load_model(str(tmp_path / "tuned.safetensors")).model.state_dict(),
    )
    assert all(torch.equal(start[k], tuned[k]) for k in start)
    assert any(v.abs().sum() > 0 for k, v in start.items() if k.startswith("tail"))  # not zeroed tails
    wrong = replace(SMOKE, width=(8, 8, 8), init_weights=str(weights))
    with pytest.raises(ModelError, match="pass the matching --width"):
        train(wrong, tmp_path / "wrong", photos=photos, progress=False, device="cpu", steps=1)


def test_bad_crop_size_is_a_user_error(tmp_path, photos):
    cfg = PRESETS["smoke"].__class__(**{**PRESETS["smoke"].__dict__, "crop": 40})
    with pytest.raises(ModelError, match="multiples of 16"):
        train(cfg, tmp_path / "r", photos=photos, progress=False, device="cpu")


def test_zero_tails_make_the_untrained_network_the_identity():
    from models.mssnet import MSSNet
    from models.training.train import zero_tails

    torch.manual_seed(0)
    model = MSSNet(8, 4, 4).eval()
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        assert not torch.allclose(model(x), x, atol=1e-3)  # random tails change the image
        zero_tails(model)
        outs = model.forward_stages(x)
    assert torch.equal(outs[-1], x)
    assert all(o.shape[-2:] == x.shape[-2:] for o in outs[1:])
    # the half-resolution first output is the ×0.5 input, untouched
    assert outs[0].shape[-2:] == (16, 24)
    assert PRESETS["cpu"].zero_tails


def test_the_trainer_picks_its_precision_from_the_hardware(tmp_path, photos):
    """Native bf16 units (AVX-512 BF16 / AMX in /proc/cpuinfo) -> bf16, else fp32: bf16 is
    emulated on an AVX2-only CPU and trained 18x slower there."""
    from models.precision import cpu_flags, has_native_bf16

    result = train(SMOKE, tmp_path / "run", photos=photos, progress=False, device="cpu", steps=1)
    expected = "bf16" if has_native_bf16(cpu_flags()) else "fp32"
    assert result.precision == expected
    start = result.history[0]
    assert start["precision"] == expected and f"on cpu, {expected} (CPU with" in start["start"]
    assert start["threads"] == torch.get_num_threads()


def test_an_avx2_cpu_gets_fp32():
    from models.precision import has_native_bf16

    avx2 = {"sse4_2", "avx", "avx2", "fma", "f16c"}  # the AMD EPYC without AVX-512
    assert has_native_bf16(avx2) is False
    assert has_native_bf16(avx2 | {"avx512f", "avx512bw", "avx512vl"}) is False  # oneDNN would still say yes
    assert has_native_bf16(avx2 | {"avx512f", "avx512_bf16"}) and has_native_bf16({"amx_bf16"})
    assert has_native_bf16(None) is None


def test_training_refuses_fp16_and_chooses_bf16_on_cuda_only_where_supported():
    from models.precision import resolve_precision

    with pytest.raises(ModelError, match="loss scaling"):
        resolve_precision("fp16", torch.device("cpu"), training=True)
    assert resolve_precision("fp32", torch.device("cpu"), training=True) == "fp32"
