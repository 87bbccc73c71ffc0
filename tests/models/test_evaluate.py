import json

import numpy as np
import pytest
import torch

from models.errors import ModelError
from models.mssnet import MSSNet
from models.training import evaluate as E


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return MSSNet(8, 4, 4).eval()


@pytest.fixture(scope="module")
def report(tiny_model):
    # one small run shared by the tests (the first CPU forward of each shape is slow)
    return E.evaluate(tiny_model, ["chelsea"], size=64)


def test_eval_photos_are_fixed_centre_crops():
    cat = E.load_eval_photo("chelsea", 128)
    assert cat.shape == (128, 128, 3) and cat.dtype == np.float32
    assert np.array_equal(cat, E.load_eval_photo("chelsea", 128))
    cam = E.load_eval_photo("camera", 100)  # grey → RGB, sides rounded down to 16
    assert cam.shape == (96, 96, 3) and np.array_equal(cam[..., 0], cam[..., 2])
    with pytest.raises(ModelError, match="unknown evaluation photo"):
        E.load_eval_photo("lena")


def test_evaluate_scores_every_method_and_is_deterministic(report):
    a = report
    assert [(r["photo"], r["kind"]) for r in a.rows] == [("chelsea", k) for k in E.KINDS]
    baseline = E.evaluate(None, ["chelsea", "coffee"], size=64)
    assert baseline.rows == E.evaluate(None, ["chelsea", "coffee"], size=64).rows
    for r, b in zip(a.rows, baseline.rows):
        assert r["input_psnr"] == b["input_psnr"] and r["unsharp_ssim"] == b["unsharp_ssim"]
    for r in a.rows:
        for m in ("input", "unsharp", "mssnet2", "mssnet4", "mssnet6", "mssnet6_bf16"):
            assert 5 < r[m + "_psnr"] < 60 and 0 < r[m + "_ssim"] <= 1
    for photo in ("chelsea", "coffee"):
        rows = {r["kind"]: r for r in baseline.rows if r["photo"] == photo}
        assert rows["x2"]["input_psnr"] > rows["x4"]["input_psnr"]
    # an untrained network is near identity (residual outputs): bf16 changes little
    mean = a.means()["x2"]
    assert abs(mean["mssnet6_bf16_psnr"] - mean["mssnet6_psnr"]) < 1.0
    assert set(a.fur) == {"0.25", "0.5"}
    fur = a.fur["0.25"]
    assert fur["original_energy"] > fur["input_energy"]  # ×2 down-up loses fine detail


def test_table_lists_photos_means_gains_and_fur(report):
    table = E.format_table(report)
    for text in (
        "| chelsea | x2 |",
        "**mean**",
        "Mean gain",
        "bf16 − fp32",
        "Fur check",
        "lost energy recovered",
        "MSSNet 4 st.",
    ):
        assert text in table
    baseline = E.format_table(E.evaluate(None, ["chelsea"], size=64))
    assert "MSSNet" not in baseline and "unsharp mask" in baseline


def test_cli_writes_json_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert E.main(["--no-model", "--photos", "rocket", "--size", "64", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["means"]) == set(E.KINDS)
    assert "| rocket | motion |" in capsys.readouterr().out
    with pytest.raises(ModelError, match="--force"):
        E.main(["--no-model", "--photos", "rocket", "--size", "64", "--json", str(out)])


def test_random_direction_motion_is_reported_per_angle_bucket(tiny_model):
    report = E.evaluate(tiny_model, ["chelsea", "coffee"], size=64, random_motion=True)
    assert len(report.motion_rows) == 2 * len(E.ANGLE_BUCKETS) * len(E.RANDOM_LENGTHS)
    for row in report.motion_rows:
        lo, hi = E.ANGLE_BUCKETS[row["bucket"]]
        assert lo <= row["angle"] < hi and 5 <= row["length"] <= 25
        assert row["length"] == 13 or row["lengths"] == "5-25"
    means = report.angle_means()
    assert [r["n"] for r in means["5-25"]] == [2, 2, 2, 2, 8]
    assert E.random_motion_draws(0) == E.random_motion_draws(0) != E.random_motion_draws(1)
    table = E.format_table(report)
    assert "Motion blur in random directions" in table and "| **5-25 px** | **all** | **8** |" in table
    assert not E.evaluate(None, ["chelsea"], size=64).motion_rows  # off unless asked
