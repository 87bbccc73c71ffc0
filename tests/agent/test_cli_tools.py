"""The maintainers' tools under the one CLI: explainer train | evaluate | main | bench."""

import subprocess
import sys

import pytest

from tests.constants import ROOT


def _explainer(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "verb,option", [("train", "--preset"), ("evaluate", "--weights"), ("main", "--weights")]
)
def test_tool_verbs_show_their_own_help_under_explainer(verb, option):
    done = _explainer(verb, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: explainer {verb}") and option in done.stdout


def test_tools_are_listed_in_the_main_help():
    out = _explainer("--help").stdout
    for verb in ("ask", "restore", "kb", "train", "evaluate", "bench", "main"):
        assert f"    {verb} " in out


def test_an_unknown_benchmark_is_one_line_and_exit_2():
    done = _explainer("bench", "no_such_bench")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "no benchmark 'no_such_bench'" in done.stderr


def test_a_bad_tool_option_is_one_line():
    done = _explainer("train", "--preset", "nope")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "explainer train" in done.stderr
    assert done.stderr.count("\n") == 1


def test_verbose_flag_reaches_the_library_loggers():
    code = (
        "import logging, agent.cli as c; c.configure_logging(1);"
        "print(logging.getLogger('knowledge.search').isEnabledFor(logging.WARNING),"
        " logging.getLogger('x').isEnabledFor(logging.DEBUG))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
