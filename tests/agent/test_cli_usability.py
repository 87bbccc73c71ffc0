"""The small things a new user meets: --version, bare `explainer`, help on every option, one
spelling of the output option, a question from stdin, an exit code for an abstention, kb ids in
any case, report -o DIR/, and reports that leave no stale or half-made images."""

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.cli import _build_parser
from tests.constants import ROOT

TINY = str(ROOT / "tests" / "data" / "tiny_official_checkpoint.pt")
COVERED = "How does MSSNet keep fine detail?"
OUTSIDE = "What is the capital of Australia?"


def _explainer(*args, input=None, cwd=ROOT):
    script = Path(sys.executable).with_name("explainer")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]
    return subprocess.run(
        cmd + [str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=cwd, input=input
    )


def _picture(path: Path) -> Path:
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(path)
    return path


def test_version_and_bare_explainer_prints_help():
    version = _explainer("--version")
    assert version.returncode == 0 and version.stdout.startswith("explainer ")
    bare = _explainer()
    assert bare.returncode == 0 and bare.stdout.startswith("usage: explainer") and bare.stderr == ""
    assert "Exit codes:" in bare.stdout and "3 the sources do not cover" in bare.stdout


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_command_and_option_has_help():
    for parser in _parsers(_build_parser()):
        if not parser.add_help:  # a forwarded tool verb (train, evaluate, ...): its module has the help
            continue
        assert parser.description, f"{parser.prog} has no description"
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"{parser.prog} {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize("verb", ["ask", "chat", "report", "restore"])
def test_output_option_has_the_same_spellings_everywhere(verb):
    sub = next(p for p in _parsers(_build_parser()) if p.prog == f"explainer {verb}")
    spellings = {s for a in sub._actions for s in a.option_strings if s in ("-o", "--output", "--out")}
    assert spellings == {"-o", "--output", "--out"}


def test_question_from_stdin_and_exit_code_for_an_abstention():
    piped = _explainer("ask", "-", "--format", "json", input=COVERED + "\n")
    assert piped.returncode == 0 and '"question": "How does MSSNet keep fine detail?"' in piped.stdout
    assert _explainer("ask", OUTSIDE).returncode == 0
    strict = _explainer("ask", OUTSIDE, "--fail-on-abstain")
    assert strict.returncode == 3 and "Traceback" not in strict.stderr
    assert _explainer("ask", COVERED, "--fail-on-abstain").returncode == 0


def test_no_demo_when_the_question_abstains(tmp_path):
    done = _explainer(
        "ask", OUTSIDE, "--image", _picture(tmp_path / "p.png"), "--weights", TINY, "-o", tmp_path / "out"
    )
    assert done.returncode == 0 and "no demo" in done.stderr and not (tmp_path / "out").exists()


def test_kb_show_takes_any_case_and_names():
    for typed in ("MSSNet", "MSSNET", "mssnet"):
        shown = _explainer("kb", "show", typed)
        assert shown.returncode == 0 and "[mssnet" in shown.stdout.splitlines()[0]


def test_task_heading_and_side_source_labels_read_once():
    out = _explainer("ask", "I want to upscale an image").stdout
    assert "(super-resolution)" not in out.splitlines()[3]
    founding = (
        "I upscaled a low-res animal picture and the fur returned naturally. How does AI streamline its "
        "steps to keep high-frequency detail with so few sampling rounds?"
    )
    shown = _explainer("ask", founding, "--format", "json").stdout
    # the card names its source ("FeatSharp's cost: ..."): no label is added in front of it again
    assert "FeatSharp's cost:" in shown
    assert not re.search(r"FeatSharp(:| —) (FeatSharp|Cost:)", shown)


def test_report_into_a_folder_and_no_stale_or_half_made_images(tmp_path):
    folder = tmp_path / "rep"
    made = _explainer(
        "report",
        COVERED,
        "-o",
        f"{folder}/",
        "--image",
        _picture(tmp_path / "p.png"),
        "--weights",
        TINY,
        "--device",
        "cpu",
    )
    assert made.returncode == 0, made.stderr
    assert (folder / "report.md").is_file() and (folder / "assets" / "restored.png").is_file()
    (folder / "assets" / "mine.txt").write_text("the person's own file")
    before = (folder / "report.md").read_bytes()

    text = tmp_path / "text.png"
    text.write_text("not a picture")
    failed = _explainer("report", COVERED, "-o", folder, "--force", "--image", text, "--weights", TINY)
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and "not an image" in failed.stderr
    assert (folder / "report.md").read_bytes() == before and (folder / "assets" / "restored.png").is_file()

    plain = _explainer("report", COVERED, "-o", folder / "report.md", "--force")
    assert plain.returncode == 0
    assert sorted(p.name for p in (folder / "assets").iterdir()) == [
        "mine.txt"
    ]  # stale images gone, not theirs
    assert "assets/" not in (folder / "report.md").read_text()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
