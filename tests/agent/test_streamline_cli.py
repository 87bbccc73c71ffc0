"""`explainer streamline IMAGE|FOLDER`: EASIER on MSSNet from the command line, every format, bad input."""

import json

import numpy as np
import pytest
from PIL import Image

from agent.cli import main
from tests.constants import TINY_WEIGHTS

TINY = ["--weights", str(TINY_WEIGHTS), "--device", "cpu", "--precision", "fp32", "--crop", "64"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory, one_torch_thread):
    pytest.importorskip("models.engine")
    folder = tmp_path_factory.mktemp("shoot")
    rng = np.random.default_rng(2)
    for name in ("a.png", "b.jpg"):
        Image.fromarray(rng.integers(0, 255, (72, 90, 3), dtype=np.uint8)).save(folder / name)
    return folder


def _run(capsys, *argv):
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_self_test_with_plot(photos, capsys, tmp_path):
    plot = tmp_path / "easier.png"
    code, out, _ = _run(
        capsys,
        "streamline",
        str(photos / "a.png"),
        "--self-test",
        "--format",
        "json",
        "--plot",
        str(plot),
        *TINY,
    )
    data = json.loads(out)
    assert code == 0 and len(data["sites"]) == 87 and data["reference"] == "self-test"
    assert [r["k"] for r in data["sweep"]] == [0, 1, 2, 4, 8, 16, 32, 64, 87]
    assert all(r["psnr"] is not None for r in data["sweep"]) and data["sweep"][0]["psnr_vs_full"] is None
    assert data["crop"] == 64 and "no model card" in data["weights_line"] and data["summary"]
    with Image.open(plot) as img:
        assert img.format == "PNG"


def test_folder_without_reference_in_markdown_and_terminal(photos, capsys):
    code, out, _ = _run(capsys, "streamline", str(photos), "--format", "markdown", *TINY)
    assert code == 0 and "Measured on 2 pictures" in out
    assert "| Rank | Site (ResBlock) |" in out and "| Sites linearised |" in out and "5×5" in out
    assert (
        "100.0" not in out and "| identical |" in out
    )  # k = 0 is the network itself: said, not a stand-in number
    code, out, _ = _run(capsys, "streamline", str(photos / "b.jpg"), *TINY)
    assert code == 0 and "PReLU sites by on/off entropy" in out and "unchanged network" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nope.png"], "no such image file"),
        (["{photos}", "--reference", "{photos}/a.png"], "--reference needs one IMAGE"),
        (["{photos}/a.png", "--plot", "{photos}/b.jpg"], "--plot must name a .png"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(photos, capsys, argv, message):
    argv = [a.replace("{photos}", str(photos)) for a in argv]
    code, _, err = _run(capsys, "streamline", *argv, *TINY)
    assert code == 2 and message in err and "Traceback" not in err and err.count("\n") == 1


def test_reference_and_self_test_exclude_each_other(photos, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["streamline", str(photos / "a.png"), "--reference", str(photos / "b.jpg"), "--self-test"])
    assert caught.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_existing_plot_is_kept_without_force(photos, capsys, tmp_path):
    plot = tmp_path / "keep.png"
    plot.write_bytes(b"mine")
    code, _, err = _run(capsys, "streamline", str(photos / "a.png"), "--plot", str(plot), *TINY)
    assert code == 2 and "already exists" in err and plot.read_bytes() == b"mine"
