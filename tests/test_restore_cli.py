"""`explainer restore`: default output name, no silent overwrite, options, one-line errors."""
import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models import restore_cli
from models.errors import ModelError
from models.imageio import encode_png16, load_image

DATA = Path(__file__).parent / "data"
TINY = str(DATA / "tiny_official_checkpoint.pt")
ROOT = Path(__file__).resolve().parents[1]


def _cli(argv):
    parser = argparse.ArgumentParser(prog="explainer")
    restore_cli.add_parser(parser.add_subparsers(dest="verb", required=True))
    args = parser.parse_args(["restore", *argv])
    return args.run(args)


@pytest.fixture()
def photo(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "cat.jpg"
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(path, quality=95)
    return path


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_default_output_name_and_no_overwrite(photo, capsys):
    assert _cli([str(photo), "--weights", TINY]) == 0
    out = photo.with_name("cat_restored.png")
    assert Image.open(out).size == (60, 40)
    line = capsys.readouterr().out
    assert "cat_restored.png" in line and "tiny_official_checkpoint" in line and "whole image" in line
    before = out.read_bytes()
    with pytest.raises(ModelError, match="already exists; pass --force"):
        _cli([str(photo), "--weights", TINY, "--stages", "2"])
    assert out.read_bytes() == before
    assert _cli([str(photo), "--weights", TINY, "--stages", "2", "--force"]) == 0
    assert out.read_bytes() != before


def test_options_upscale_tile_precision_output(photo, tmp_path, capsys):
    out = tmp_path / "big.webp"
    assert _cli([str(photo), "-o", str(out), "--weights", TINY, "--upscale", "2", "--tile", "64",
                 "--precision", "fp32", "--device", "cpu"]) == 0
    assert Image.open(out).size == (120, 80)
    text = capsys.readouterr().out
    assert "x2" in text and "tiles of 64px" in text and "cpu fp32" in text
    with pytest.raises(SystemExit):
        _cli([str(photo), "--upscale", "5"])
    with pytest.raises(SystemExit):
        _cli([str(photo), "--tile", "-3"])


def test_sixteen_bit_in_sixteen_bit_out(tmp_path):
    data = (np.random.default_rng(1).random((32, 48, 3)) * 65535).astype(np.uint16)
    src = tmp_path / "deep.png"
    src.write_bytes(encode_png16(data))
    assert _cli([str(src), "--weights", TINY]) == 0
    assert load_image(tmp_path / "deep_restored.png").bit_depth == 16


def test_user_errors(photo, tmp_path):
    with pytest.raises(ModelError, match="image not found"):
        _cli([str(tmp_path / "missing.png"), "--weights", TINY])
    with pytest.raises(ModelError, match="weights file not found"):
        _cli([str(photo), "--weights", str(tmp_path / "nope.pt")])
    with pytest.raises(ModelError, match="over the 0.001 MP limit"):
        _cli([str(photo), "--weights", TINY, "--max-pixels", "1000"])
    with pytest.raises(ModelError, match="replace the input"):
        _cli([str(photo), "-o", str(photo), "--weights", TINY, "--force"])


def _explainer(args, env_extra):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1", **env_extra}
    exe = Path(sys.executable).with_name("explainer")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "agent.cli"]
    return subprocess.run(cmd + ["restore", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_console_script_end_to_end(photo, tmp_path):
    empty = tmp_path / "no-weights"
    empty.mkdir()
    proc = _explainer([str(photo)], {"MSSNET_WEIGHTS_DIR": str(empty)})
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("explainer: error: no MSSNet weights are installed")
    assert "python -m models.train" in proc.stderr and "--weights PATH" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = _explainer([str(photo), "--weights", TINY, "-o", str(tmp_path / "o.png")], {})
    assert proc.returncode == 0, proc.stderr
    assert Image.open(tmp_path / "o.png").size == (60, 40)


def test_module_import_stays_light():
    code = "import sys, models.restore_cli, models; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
