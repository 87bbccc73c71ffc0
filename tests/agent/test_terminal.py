"""Output that fits where it goes: a terminal's real width (60/80/120, NO_COLOR too), COLUMNS, and
pipes (one line a paragraph, no trailing spaces); a URL is never split across lines."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.constants import ROOT

QUESTION = "How does MSSNet work?"  # the full form: boxes, bullets and links
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def _cmd():
    script = Path(sys.executable).with_name("explainer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]


def _urls() -> list[str]:
    done = subprocess.run(
        _cmd() + ["ask", QUESTION, "--format", "json"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    return [s["url"] for s in json.loads(done.stdout)["sources"]]


def _piped(**env) -> str:
    return subprocess.run(
        _cmd() + ["ask", QUESTION],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=dict(os.environ, **env),
    ).stdout


def _on_a_terminal(columns: int, args, **env) -> list[str]:
    env = dict(os.environ, TERM="xterm", LINES="50", **env)
    env.pop("COLUMNS", None)
    child = pexpect.spawn(
        _cmd()[0],
        _cmd()[1:] + args,
        cwd=str(ROOT),
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(50, columns),
    )
    child.expect(pexpect.EOF)
    child.close()
    return [_ANSI.sub("", line) for line in child.before.replace("\r\n", "\n").split("\n")]


def test_piped_output_is_one_line_a_paragraph_without_trailing_spaces():
    out = _piped()
    lines = out.splitlines()
    assert not [ln for ln in lines if ln != ln.rstrip()], "trailing spaces"
    direct = next(ln for ln in lines[1:] if ln.strip())  # the direct answer opens the answer
    assert direct.rstrip().endswith("[mssnet]")  # the whole claim on one line, not wrapped
    bullets = [ln for ln in lines if ln.startswith("  • ")]
    assert bullets and all(ln.rstrip().endswith("]") for ln in bullets)
    for url in _urls():
        assert any(ln.strip() == url for ln in lines), url  # each URL whole, on its own line


def test_columns_sets_the_width_of_boxes_when_piped():
    lines = _piped(COLUMNS="60").splitlines()
    boxes = [ln for ln in lines if ln[:1] in "╭│╰"]
    assert boxes and max(len(ln) for ln in boxes) == 60


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("no_color", [True, False])
def test_a_terminal_gets_its_own_width_and_whole_urls(columns, no_color):
    lines = _on_a_terminal(columns, ["ask", QUESTION], **({"NO_COLOR": "1"} if no_color else {}))
    urls = _urls()
    text = "\n".join(lines)
    for url in urls:
        assert url in text, url  # never split by us (the terminal may wrap it)
    too_wide = [ln for ln in lines if len(ln) > columns and not any(u in ln for u in urls)]
    assert not too_wide, too_wide[:3]
    assert max(len(ln) for ln in lines) >= columns - 2  # laid out at the terminal's width, not 100


def test_chat_long_answer_goes_to_a_pager_when_taller_than_the_screen(tmp_path):
    paged = tmp_path / "paged.txt"
    env = dict(
        os.environ,
        TERM="xterm",
        NO_COLOR="1",
        PROMPT_TOOLKIT_NO_CPR="1",
        PAGER=f"cat > {paged}",
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    env.pop("COLUMNS", None)
    child = pexpect.spawn(
        _cmd()[0],
        _cmd()[1:] + ["chat"],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(24, 80),
    )
    try:
        child.expect_exact("explainer>")
        child.sendline(QUESTION)
        child.expect_exact("explainer>")
        child.sendline("/long")
        child.expect_exact("explainer>")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    text = paged.read_text()
    assert text.count("\n") > 24 and "How it works" in text and "https://github.com/kky7/MSSNet" in text
