"""A bad command line gets one line on stderr naming the problem and where help is, and exit 2."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.constants import ROOT


def _explainer():
    script = Path(sys.executable).with_name("explainer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]


@pytest.mark.parametrize(
    "argv, says",
    [
        (["frob"], "invalid choice: 'frob'"),
        (["restore"], "required: IN"),
        (["restore", "a.png", "--upscale", "7"], "invalid choice: 7"),
        (["restore", "a.png", "--bogus"], "unrecognized arguments: --bogus"),
        (["ask", "--cards-dir"], "expected one argument"),
        (["kb", "frob"], "invalid choice: 'frob'"),
    ],
)
def test_bad_command_line_is_one_line_exit_2(argv, says):
    done = subprocess.run(_explainer() + argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "usage:" not in done.stderr, done.stderr
    assert says in done.stderr and "--help)" in done.stderr


def test_main_job_bad_option_is_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "agent.main_job", "--device", "tpu"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "invalid choice: 'tpu'" in done.stderr


def test_a_reader_that_stops_early_is_not_an_error():
    """`explainer ask … | head -1`: the closed pipe ends the answer quietly with exit 0."""
    import os

    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [*_explainer(), "ask", "How does MSSNet work?", "--long"],
        cwd=ROOT,
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write_end)
    os.close(read_end)  # the reader hangs up before the first line, like head -0
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == ""
