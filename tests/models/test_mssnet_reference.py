"""MSSNet reproduces the official code's outputs on the reference vectors (tests/data)."""

import json

import numpy as np
import pytest
import torch

from models.mssnet import CONFIGS, MSSNet, config_name, count_parameters
from tests.constants import DATA

pytestmark = pytest.mark.usefixtures("one_torch_thread")
VECTORS = {"tiny": (8, 4, 4), "tiny2": (12, 6, 10)}


def _reference(tag, shortcuts: bool = True):
    ckpt = torch.load(DATA / f"{tag}_official_checkpoint.pt", weights_only=True)
    io = np.load(DATA / f"{tag}_io.npz")
    model = MSSNet(*VECTORS[tag], shortcuts=shortcuts).eval()
    model.load_state_dict(ckpt["model_state_dict"], strict=True)
    return model, io


@pytest.mark.parametrize("order", ["shortcuts", "official"])
@pytest.mark.parametrize("tag", sorted(VECTORS))
def test_official_checkpoint_reproduces_eval_and_training_outputs(tag, order):
    model, io = _reference(tag, shortcuts=order == "shortcuts")
    x = torch.from_numpy(io["input"])
    with torch.no_grad():
        final = model(x)
        stages = model.forward_stages(x)
    assert final.shape == x.shape
    assert (final - torch.from_numpy(io["output"])).abs().max().item() < 1e-5
    assert len(stages) == 6
    for i, out in enumerate(stages):
        ref = torch.from_numpy(io[f"train_output_{i}"])
        assert out.shape == ref.shape
        assert (out - ref).abs().max().item() < 1e-5, f"stage {i + 1}"
    # res1_1 is at half resolution, the other five at full resolution
    assert stages[0].shape[-2:] == (x.shape[-2] // 2, x.shape[-1] // 2)


def test_early_exit_uses_the_matching_tail():
    model, io = _reference("tiny")
    x = torch.from_numpy(io["input"])
    with torch.no_grad():
        for s in range(2, 7):
            out = model(x, stages=s)
            ref = torch.from_numpy(io[f"train_output_{s - 1}"])
            assert (out - ref).abs().max().item() < 1e-5
        first = model(x, stages=1)
        half = torch.from_numpy(io["train_output_0"])
        up = torch.nn.functional.interpolate(half, size=x.shape[-2:], mode="bilinear", align_corners=False)
        assert first.shape == x.shape
        assert (first - up).abs().max().item() < 1e-5
    with pytest.raises(ValueError):
        model(x, stages=7)


def test_timings_filled_per_stage():
    model, io = _reference("tiny2")
    timings = {}
    with torch.no_grad():
        model.forward_stages(torch.from_numpy(io["input"]), timings=timings)
    assert sorted(timings) == [f"stage_{i}" for i in range(1, 7)]
    assert all(t >= 0 for t in timings.values())


def test_one_shared_prelu_slope_under_87_keys():
    model = MSSNet(*VECTORS["tiny"])
    prelus = {id(m) for m in model.modules() if isinstance(m, torch.nn.PReLU)}
    assert len(prelus) == 1
    keys = [k for k, v in model.state_dict().items() if v.shape == (1,)]
    assert len(keys) == 87
    with torch.no_grad():
        model.act.weight.fill_(0.3)
    assert all(float(v) == pytest.approx(0.3) for k, v in model.state_dict().items() if k in keys)


@pytest.mark.parametrize("name", ["small", "base", "large"])
def test_official_key_layout_and_parameter_counts(name):
    manifest = json.loads((DATA / "manifest.json").read_text())
    expected = {k: tuple(s) for k, s in manifest["official_state_dict_keys"][name]["keys"]}
    with torch.device("meta"):
        model = MSSNet(*CONFIGS[name])
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == expected
    assert len(got) == 328
    full = {"small": 6_756_161, "base": 15_614_497, "large": 28_182_041}[name]
    assert count_parameters(model) == full
    assert config_name(CONFIGS[name]) == name


def test_rejects_sizes_that_are_not_multiples_of_16():
    model = MSSNet(8, 4, 4).eval()
    with torch.no_grad(), pytest.raises(ValueError, match="multiples of 16"):
        model(torch.rand(1, 3, 40, 48))
