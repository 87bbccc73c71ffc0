"""`explainer restore`: default output name, no silent overwrite, options, one-line errors."""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from common.progress import duration, time_left
from models import restore_cli
from models.errors import ModelError
from models.imageio import load_image
from models.imagesave import encode_png16
from tests.constants import DATA, ROOT

TINY = str(DATA / "tiny_official_checkpoint.pt")


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
    assert "cat.jpg: weights tiny_official_checkpoint, because --weights names them" in line
    assert re.search(r"restore \d+\.\ds, save \d+\.\ds\)", line)
    assert re.search(r"^wall time \d+\.\ds for the photo \(start-up, weights", line, re.M)
    before = out.read_bytes()
    with pytest.raises(ModelError, match="already exists; pass --force"):
        _cli([str(photo), "--weights", TINY, "--stages", "2"])
    assert out.read_bytes() == before
    assert _cli([str(photo), "--weights", TINY, "--stages", "2", "--force"]) == 0
    assert out.read_bytes() != before


def test_options_upscale_tile_precision_output(photo, tmp_path, capsys):
    out = tmp_path / "big.webp"
    assert (
        _cli(
            [
                str(photo),
                "-o",
                str(out),
                "--weights",
                TINY,
                "--upscale",
                "2",
                "--tile",
                "64",
                "--precision",
                "fp32",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert Image.open(out).size == (120, 80)
    text = capsys.readouterr().out
    assert "x2" in text and "tiles of 64x64 px" in text and "cpu fp32" in text
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
    with pytest.raises(ModelError, match="no such image file"):
        _cli([str(tmp_path / "missing.png"), "--weights", TINY])
    with pytest.raises(ModelError, match="weights file not found"):
        _cli([str(photo), "--weights", str(tmp_path / "nope.pt")])
    with pytest.raises(ModelError, match="more than the limit of 1,000 pixels"):
        _cli([str(photo), "--weights", TINY, "--max-pixels", "1000"])
    with pytest.raises(ModelError, match="replace the input"):
        _cli([str(photo), "-o", str(photo), "--weights", TINY, "--force"])


def _photos(folder, names, size=(40, 60)):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(2)
    paths = []
    for name in names:
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / name)
        paths.append(folder / name)
    return paths


def test_several_photos_go_into_a_folder_and_one_bad_photo_does_not_stop_the_rest(tmp_path, capsys):
    a, b = _photos(tmp_path / "in", ["a.png", "b.jpg"])
    broken = tmp_path / "in" / "broken.png"
    broken.write_bytes(a.read_bytes()[:100])
    out = tmp_path / "results"  # created: its parent exists
    with pytest.raises(ModelError, match="1 of 3 photos could not be restored"):
        _cli([str(a), str(broken), str(b), "-o", str(out), "--weights", TINY])
    assert sorted(p.name for p in out.iterdir()) == ["a_restored.png", "b_restored.png"]
    assert Image.open(out / "b_restored.png").size == (60, 40)
    captured = capsys.readouterr()
    assert captured.out.count("restored ") == 2
    assert "broken.png: cannot decode image" in captured.err


def test_a_batch_is_checked_before_any_work(tmp_path):
    a, b = _photos(tmp_path / "in", ["a.png", "b.png"])
    (same,) = _photos(tmp_path / "other", ["a.png"])
    out = tmp_path / "results"
    out.mkdir()
    (out / "b_restored.png").write_bytes(b"keep me")
    no_weights = str(tmp_path / "nope.pt")  # never reached: the plan fails first
    with pytest.raises(ModelError, match="b_restored.png already exists"):
        _cli([str(a), str(b), "-o", str(out), "--weights", no_weights])
    with pytest.raises(ModelError, match="would both be written to"):
        _cli([str(a), str(same), "-o", str(out / "new"), "--weights", no_weights])
    with pytest.raises(ModelError, match="is a file, not a folder"):
        _cli([str(a), str(b), "-o", str(a), "--weights", no_weights])
    with pytest.raises(ModelError, match="no such image file"):
        _cli([str(a), str(tmp_path / "missing.png"), "-o", str(out / "new"), "--weights", no_weights])
    with pytest.raises(ModelError, match="cannot write .txt"):
        _cli([str(a), "-o", str(tmp_path / "a.txt"), "--weights", no_weights])
    assert (out / "b_restored.png").read_bytes() == b"keep me"
    assert sorted(p.name for p in out.iterdir()) == ["b_restored.png"]  # nothing written, no folder made


def test_a_folder_stands_for_the_photos_in_it(tmp_path, capsys):
    folder = tmp_path / "shoot"
    _photos(folder, ["b.png", "a.JPG"])
    (folder / "notes.txt").write_text("not a photo")
    (folder / "old_restored.png").write_bytes(b"an earlier result, not an input")
    (folder / "sub").mkdir()
    assert _cli([str(folder), "-o", str(tmp_path / "out"), "--weights", TINY]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_restored.png", "b_restored.png"]
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("restored ")]
    assert [line.split()[1] for line in lines] == [str(folder / "a.JPG"), str(folder / "b.png")]  # by name
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="no photos in"):
        _cli([str(empty), "--weights", TINY])


def test_one_photo_into_a_folder(tmp_path):
    (a,) = _photos(tmp_path, ["a.png"])
    existing = tmp_path / "existing"
    existing.mkdir()
    assert _cli([str(a), "-o", str(existing), "--weights", TINY]) == 0
    assert (existing / "a_restored.png").is_file()
    assert _cli([str(a), "-o", str(tmp_path / "fresh") + os.sep, "--weights", TINY]) == 0
    assert (tmp_path / "fresh" / "a_restored.png").is_file()


def _explainer(args, env_extra):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1", **env_extra}
    exe = Path(sys.executable).with_name("explainer")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "agent.cli"]
    return subprocess.run(
        cmd + ["restore", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


def test_console_script_end_to_end(photo, tmp_path):
    empty = tmp_path / "no-weights"
    empty.mkdir()
    proc = _explainer([str(photo)], {"MSSNET_WEIGHTS_DIR": str(empty)})
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("explainer: error: no MSSNet weights are installed")
    assert "explainer train" in proc.stderr and "--weights PATH" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = _explainer([str(photo), "--weights", TINY, "-o", str(tmp_path / "o.png")], {})
    assert proc.returncode == 0, proc.stderr
    assert Image.open(tmp_path / "o.png").size == (60, 40)


def test_module_import_stays_light():
    code = "import sys, models.restore_cli, models; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_what_the_output_cannot_keep_is_said(tmp_path, capsys):
    rng = np.random.default_rng(2)
    seethrough = tmp_path / "logo.png"
    rgba = rng.integers(0, 256, (32, 32, 4), dtype=np.uint8)
    rgba[..., 3] = 128
    Image.fromarray(rgba).save(seethrough)
    frames = [Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)) for _ in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    deep = tmp_path / "deep.png"
    deep.write_bytes(encode_png16((rng.random((32, 32, 3)) * 65535).astype(np.uint16)))

    assert _cli([str(seethrough), "-o", str(tmp_path / "logo.jpg"), "--weights", TINY]) == 0
    assert "logo.png: JPEG has no transparency" in capsys.readouterr().err
    assert _cli([str(tmp_path / "anim.gif"), "--weights", TINY]) == 0
    assert "anim.gif: only the first of its 3 frames is restored" in capsys.readouterr().err
    assert _cli([str(deep), "-o", str(tmp_path / "deep.webp"), "--weights", TINY]) == 0
    assert "16-bit depth is not kept" in capsys.readouterr().err
    # nothing is lost: nothing is said
    assert _cli([str(seethrough), "-o", str(tmp_path / "logo.webp"), "--weights", TINY]) == 0
    assert _cli([str(deep), "--weights", TINY]) == 0
    assert "note" not in capsys.readouterr().err


def test_file_names_cannot_send_terminal_escapes(photo, tmp_path):
    """A photo named with an escape sequence is shown without it, in the summary and in errors."""
    evil = tmp_path / "red\x1b[31m\x07.jpg"
    evil.write_bytes(photo.read_bytes())
    broken = tmp_path / "bad\x1b]0;title\x07.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    proc = _explainer([str(evil), str(broken), "--weights", TINY, "-o", str(tmp_path / "out") + "/"], {})
    assert proc.returncode == 2
    shown = proc.stdout + proc.stderr
    assert "\x1b" not in shown and "\x07" not in shown
    assert "red.jpg" in proc.stdout and "bad.png: cannot decode" in proc.stderr  # whole sequences go
    proc = _explainer([str(broken), "--weights", TINY, "-o", str(tmp_path / "one.png")], {})
    assert proc.returncode == 2 and "\x1b" not in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "mode, name", [("L", "g.png"), ("LA", "ga.png"), ("L", "g.jpg"), ("I;16", "g16.png"), ("L", "g.tif")]
)
def test_a_grey_photo_comes_back_grey_in_its_mode(tmp_path, mode, name):
    rng = np.random.default_rng(4)
    if mode == "I;16":
        src = Image.fromarray((rng.random((40, 56)) * 65535).astype(np.uint16))
    else:
        src = Image.fromarray(rng.integers(0, 256, (40, 56), dtype=np.uint8), "L")
        if mode == "LA":
            src.putalpha(Image.fromarray(rng.integers(0, 256, (40, 56), dtype=np.uint8)))
    path = tmp_path / name
    src.save(path)
    assert _cli([str(path), "--weights", TINY]) == 0
    out = Image.open(restore_cli.default_output(path))
    assert out.mode == ("I;16" if mode == "I;16" else mode), out.mode  # one channel (+ alpha), not RGB
    if mode == "LA":
        assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(src.getchannel("A")))


def test_task_picks_the_bundled_weights_and_weights_override_it(photo, tmp_path, capsys):
    from models.checkpoints import weights_for_task

    enlarge, _ = weights_for_task("enlarge")
    deblur, deblur_note = weights_for_task("deblur")
    assert _cli([str(photo), "-o", str(tmp_path / "e.png"), "--task", "enlarge", "--stages", "1"]) == 0
    captured = capsys.readouterr()
    assert f"weights {enlarge} " in captured.out and "note:" not in captured.err
    assert _cli([str(photo), "-o", str(tmp_path / "d.png"), "--task", "deblur", "--stages", "1"]) == 0
    captured = capsys.readouterr()
    assert f"weights {deblur} " in captured.out
    assert (deblur_note is None) == ("no bundled weights are trained for deblur" not in captured.err)
    assert _cli([str(photo), "-o", str(tmp_path / "w.png"), "--task", "deblur", "--weights", TINY]) == 0
    captured = capsys.readouterr()
    assert "weights tiny_official_checkpoint " in captured.out and "note:" not in captured.err
    assert _cli([str(photo), "-o", str(tmp_path / "u.png"), "--upscale", "2", "--stages", "1"]) == 0
    assert f"weights {enlarge}, because --upscale 2 is an enlargement" in capsys.readouterr().out


def test_a_long_restore_is_announced_with_an_estimate_and_shows_time_left(
    photo, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # no calibration remembered yet
    monkeypatch.setattr(restore_cli, "ESTIMATE_FROM_PIXELS", 0)  # the tiny test weights are fast:
    monkeypatch.setattr(restore_cli, "ANNOUNCE_FROM_SECONDS", 0.0)  # announce whatever it measures
    assert _cli([str(photo), "--weights", TINY]) == 0
    note = capsys.readouterr().err
    assert "cat.jpg: 60x40 output; about " in note and "Ctrl-C stops it" in note and note.count("\n") == 1
    assert "(timed on two small patches)" in note
    assert _cli([str(photo), "--weights", TINY, "--force"]) == 0  # the calibration is remembered
    assert "(timed on two small patches earlier on this machine)" in capsys.readouterr().err
    assert duration(226) == "3 min 40 s" and duration(3900) == "1 h 5 min"
    assert time_left(0, 2.0, None, 10.0) == "about 8 s left"  # before a tile: the estimate
    assert time_left(3, 5.0, 42.0, 10.0) == "about 42 s left"  # then the tiles' pace
