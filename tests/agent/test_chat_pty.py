"""`explainer chat` driven through a real pseudo-terminal (pexpect): slash commands, line editing,
history, staging an attachment without a turn, and Ctrl-C stopping a demo without ending the chat."""

import os
import signal
import sys
from pathlib import Path

import numpy as np
import pexpect
import pytest
from PIL import Image

from tests.constants import ROOT

TINY_WEIGHTS = ROOT / "tests" / "data" / "tiny_official_checkpoint.pt"
PROMPT = "explainer>"  # prompt_toolkit draws the trailing space as a cursor move


def _spawn(tmp_path, *args, timeout=40):
    script = Path(os.environ.get("EXPLAINER_BIN", Path(sys.executable).with_name("explainer")))
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]
    # PAGER=cat: a /long answer taller than the screen goes through the pager, read here as output
    env = dict(
        os.environ,
        NO_COLOR="1",
        PROMPT_TOOLKIT_NO_CPR="1",
        TERM="xterm",
        PAGER="cat",
        XDG_STATE_HOME=str(tmp_path / "state"),
        COLUMNS="100",
        LINES="40",
    )
    child = pexpect.spawn(
        cmd[0],
        cmd[1:] + ["chat", "--out", str(tmp_path / "out"), *args],
        cwd=str(tmp_path),
        env=env,
        # Ctrl-C as in a terminal: a runner started in the background (`cmd &`) ignores SIGINT, and
        # the child would inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        encoding="utf-8",
        timeout=timeout,
        dimensions=(40, 100),
    )
    child.expect_exact(PROMPT)
    return child


def _image(path: Path, size=(64, 48)) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def test_commands_editing_history_and_attach(tmp_path):
    child = _spawn(tmp_path)
    try:
        child.sendline("/help")
        child.expect_exact("/attach PATH")
        child.expect_exact(PROMPT)

        child.sendline("/attach no-such-file.png")
        child.expect_exact("error: no such image file: no-such-file.png")
        child.expect_exact(PROMPT)

        _image(tmp_path / "cat.png")
        child.sendline("/attach cat.png")
        child.expect_exact("attached cat.png")
        # staging fires no turn: the very next thing is the prompt, no answer, no demo
        child.expect_exact(PROMPT)
        assert "Question:" not in child.before and "running MSSNet" not in child.before

        child.sendline("/sources")
        child.expect_exact("https://github.com/kky7/MSSNet")
        child.expect_exact(PROMPT)

        # line editing: a typo fixed with backspace before Enter
        child.send("How many stages does MSSNet ruX")
        child.send("\x7f")
        child.send("n at each scale?\r")
        child.expect_exact("Question: How many stages does MSSNet run at each scale?")
        child.expect_exact("1, 2 and 3 stages")  # the direct answer, not the whole explanation
        child.expect_exact(PROMPT, timeout=120)  # the demo on cat.png may run first, or be skipped
        assert "2. How it works" not in child.before

        child.sendline("/long")  # the same question in the full form
        child.expect_exact("2. How it works")
        child.expect_exact("3. Papers and tools")
        child.expect_exact(PROMPT, timeout=60)

        # history: Up recalls the last question
        child.send("\x1b[A")
        child.send("\r")
        child.expect_exact("Question: How many stages does MSSNet run at each scale?")
        child.expect_exact(PROMPT, timeout=60)

        out_md = tmp_path / "conv" / "chat.md"
        child.sendline(f"/save {out_md}")
        child.expect_exact("saved")
        child.expect_exact(PROMPT)
        text = out_md.read_text()
        assert text.count("How many stages does MSSNet run at each scale?") >= 3 and "```mermaid" in text

        child.sendline("/nonsense")
        child.expect_exact("unknown command /nonsense")
        child.expect_exact(PROMPT)

        child.sendcontrol("c")  # Ctrl-C at the prompt does not leave
        child.expect_exact("Ctrl-C")
        child.sendline("/quit")
        child.expect_exact("bye")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert (tmp_path / "state" / "explainer" / "chat_history").read_text().count("MSSNet run") >= 1


@pytest.mark.skipif(not TINY_WEIGHTS.exists(), reason="reference checkpoint missing")
def test_ctrl_c_stops_a_running_demo_but_not_the_chat(tmp_path):
    # big enough that the run is still going when the Ctrl-C lands, even on a loaded machine (a
    # 2048-px picture with the tiny weights sometimes finished first); smooth, so the file is small
    w, h = 4096, 3072
    ramp = (np.add.outer(np.arange(h) % 256, np.arange(w) % 256) // 2).astype(np.uint8)
    big = tmp_path / "big.png"
    Image.fromarray(np.stack([ramp, ramp[::-1], ramp[:, ::-1]], axis=-1)).save(big)
    child = _spawn(
        tmp_path, "--weights", str(TINY_WEIGHTS), "--device", "cpu", "--precision", "fp32", timeout=90
    )
    try:
        child.sendline(f"/attach {big.name}")
        child.expect_exact(PROMPT)
        child.sendline("/demo")
        child.expect_exact("running MSSNet on big.png")
        child.sendcontrol("c")
        child.expect_exact("demo stopped; the chat goes on")
        child.expect_exact(PROMPT)
        child.sendline("/help")  # still alive and answering
        child.expect_exact("/save PATH")
        child.expect_exact(PROMPT)
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    # the stopped run left no half-written demo folder behind
    assert not list((tmp_path / "out").glob("demo-big*")) if (tmp_path / "out").exists() else True


def test_follow_ups_resolve_against_the_conversation(tmp_path):
    """'Who wrote it?' after a FeatSharp question is about FeatSharp; /context shows the subject,
    'What about EASIER?' asks the last question about EASIER, /clear forgets."""
    child = _spawn(tmp_path)
    try:
        child.sendline("What does FeatSharp do?")
        child.expect_exact("feature maps")
        child.expect_exact(PROMPT, timeout=60)

        child.sendline("Who wrote it?")
        child.expect_exact("understood as: Who wrote FeatSharp?")
        child.expect_exact("Mike Ranzinger")
        child.expect_exact(PROMPT, timeout=60)

        child.sendline("/context")
        child.expect_exact("talking about: FeatSharp")
        child.expect_exact(PROMPT)

        child.sendline("What about EASIER?")
        child.expect_exact("Victor Qu")
        child.expect_exact(PROMPT, timeout=60)

        child.sendline("compare it with MSSNet")
        child.expect_exact("motion deblurring")  # each side on what it is for: MSSNet's ...
        child.expect_exact("reduces the depth")  # ... and EASIER's ("it", the conversation's source)
        child.expect_exact(PROMPT, timeout=60)

        child.sendline("/clear")
        child.expect_exact("context cleared")
        child.expect_exact(PROMPT)
        child.sendline("/context")
        child.expect_exact("talking about: (nothing yet)")
        child.expect_exact(PROMPT)
        child.sendline("Who wrote it?")  # no subject any more: it says so, names none
        child.expect_exact("which source")
        child.expect_exact(PROMPT, timeout=60)
        assert "Ranzinger" not in child.before and "Kiyeon Kim" not in child.before
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("upscale", [[], ["--upscale", "2"]], ids=["picture-decides", "upscale-2"])
def test_the_attached_picture_is_what_it_means(tmp_path, upscale):
    """'can you make it twice as big?' with a picture attached is about the picture: the demo runs
    once, with the enlargement weights (said why), a later answer does not re-print it, and
    /detach drops the picture so the same question is about the tool again."""
    sample = ROOT / "samples" / "cat-small.png"
    child = _spawn(tmp_path, *upscale, timeout=120)
    try:
        child.sendline(f"/attach {sample}")
        child.expect_exact("attached cat-small.png")
        child.expect_exact(PROMPT)

        child.sendline("can you make it twice as big?")
        child.expect_exact("Yes — ")
        child.expect_exact("mssnet-small-cpu-enlarge-long")
        child.expect_exact("why these weights:")
        child.expect_exact(PROMPT, timeout=180)

        child.sendline("What is DataCrafter?")
        child.expect_exact("DataCrafter")
        child.expect_exact(PROMPT, timeout=60)
        assert "why these weights" not in child.before  # the demo is not printed again

        child.sendline("/detach")
        child.expect_exact("detached cat-small.png")
        child.expect_exact(PROMPT)
        child.sendline("can you make it twice as big?")
        child.expect_exact("explainer can enlarge a photo")
        child.expect_exact(PROMPT, timeout=60)
        assert "why these weights" not in child.before  # no picture: no demo
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
