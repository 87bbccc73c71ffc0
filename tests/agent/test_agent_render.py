"""Rendering: Markdown (numbered citations, mermaid), terminal (rich / plain), JSON; escapes stripped."""

import io
import json
import re

import pytest

from agent.compose import answer_question
from agent.console import make_console, plain_wanted
from agent.render import render, render_markdown, render_terminal
from agent.workflow_graph import build_graph
from common.textsafe import strip_terminal_codes
from knowledge import load_knowledge
from tests.constants import FOUNDING_QUESTION as FOUNDING

ANSI = re.compile(r"\x1b[\[\]]")


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.fixture(scope="module")
def answer(kb):
    return answer_question(FOUNDING, kb=kb)


def test_markdown_numbered_citations_and_mermaid(answer, kb):
    md = render_markdown(answer, kb)
    assert "```mermaid\nflowchart LR" in md
    assert 'n0(["Input"])' in md and '["Model: MSSNet"]' in md and "-->|" in md
    refs = re.findall(r"^(\d+)\. \*\*(.+?)\*\* \(`(\w+)`\)", md, re.M)
    assert [r[2] for r in refs] == list(dict.fromkeys(s.id for s in answer.sources))
    cited_numbers = {int(n) for n in re.findall(r"\[(\d+)\]", md)}
    assert cited_numbers == set(range(1, len(refs) + 1))
    for ref in answer.sources:
        assert f"<{ref.url}>" in md
    # every claim is followed by its citation number(s)
    number = {r[2]: r[0] for r in refs}
    claim = answer.claims[0]
    assert f"[{number[claim.sources[0]]}]" in md.split(claim.text.split(".")[0], 1)[1].split("\n", 1)[0]


def test_workflow_graph_edges_say_what_flows(answer, kb):
    nodes, edges = build_graph(answer, "MSSNet")
    assert [n.title for n in nodes] == ["Input", "Preprocess", "Model: MSSNet", "Postprocess", "Output"]
    assert len(edges) == 4 and edges[0].label.startswith("RGB tensor in [0,1]")
    # each edge is the card's own label for what the step hands on
    steps = {f.text: f for f in kb.workflow("mssnet")}
    assert (
        edges[2].label
        == [steps[t] for t in nodes[2].steps][-1].passes
        == "restored tensor, same size as the input"
    )


def test_plain_terminal_output_has_no_escape_codes(answer, kb, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    buf = io.StringIO()
    render_terminal(answer, make_console(buf), kb)  # StringIO is not a tty -> plain
    out = buf.getvalue()
    assert not ANSI.search(out)
    for heading in ("1. The task you are performing", "2. How it works", "3. Papers and tools"):
        assert heading in out
    assert "Model: MSSNet" in out and "▼" in out
    assert "https://github.com/kky7/MSSNet" in out


def test_no_color_env_forces_plain(monkeypatch):
    class FakeTty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert plain_wanted(FakeTty()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert plain_wanted(FakeTty()) is True


def test_colour_terminal_has_styles_and_clickable_links(answer, kb):
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, color_system="truecolor", width=120)
    render_terminal(answer, console, kb)
    out = buf.getvalue()
    assert "\x1b[" in out
    assert "\x1b]8;" in out and "https://github.com/kky7/MSSNet" in out  # OSC 8 hyperlink


def test_hostile_question_text_cannot_reach_the_terminal(kb):
    nasty = "How does MSSNet work \x1b]8;;http://evil.test\x1b\\click\x1b]8;;\x1b\\ [bold red]x[/] ?"
    answer = answer_question(nasty, kb=kb)
    buf = io.StringIO()
    render_terminal(answer, make_console(buf), kb)
    out = buf.getvalue()
    assert "\x1b" not in out and "evil.test" not in out
    assert "[bold red]x[/]" in out  # shown literally, not interpreted as markup
    assert strip_terminal_codes("a\x1b[31mb\x1b[0mc\x07\x9b2Jd") == "abcd"


def test_json_render_is_the_contract(answer):
    buf = io.StringIO()
    render(answer, "json", file=buf)
    data = json.loads(buf.getvalue())
    assert data["task"] == {"id": "super-resolution", "label": answer.task.label}
    assert data["abstained"] is False and data["claims"] and data["sources"]


def test_abstained_markdown_offers_questions(kb):
    answer = answer_question("What is the capital of Australia?", kb=kb)
    md = render_markdown(answer, kb)
    assert "do not cover this question" in md
    for s in answer.suggestions:
        assert s in md.replace("\\", "")


def _demo_with_files(tmp_path):
    import numpy as np
    from PIL import Image

    from agent.demo.result import DemoResult, MetricRow

    rng = np.random.default_rng(0)
    files = {}
    for name in ("before_crop", "after_crop", "stages", "spectrum"):
        path = tmp_path / f"{name}.png"
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(path)
        files[name] = path
    return DemoResult(
        image_name="cat\x1b[31m.png",
        out_dir=tmp_path,
        files=files,
        metrics=[MetricRow("Sharpness (Laplacian variance)", 0.001, 0.002, "no reference", 4)],
        timings={"total": 2.5},
    )


def test_demo_section_colour_preview_and_plain_fallback(kb, tmp_path):
    from rich.console import Console

    from agent.compose import attach_demo

    answer = attach_demo(
        answer_question("How does MSSNet keep fur detail sharp?", kb=kb), _demo_with_files(tmp_path)
    )
    assert answer.illustrations and all(
        set(v) <= {"stages", "spectrum", "crops"} for v in answer.illustrations.values()
    )

    colour = io.StringIO()
    render_terminal(
        answer, Console(file=colour, force_terminal=True, color_system="truecolor", width=120), kb
    )
    out = colour.getvalue()
    assert "▀" in out and "48;2;" in out  # half-block preview with true-colour backgrounds
    assert "Live demo: MSSNet on cat.png" in re.sub(r"\x1b\[[0-9;]*m", "", out)  # file name escape stripped

    plain = io.StringIO()
    render_terminal(answer, make_console(plain), kb)
    text = plain.getvalue()
    assert "▀" not in text and not ANSI.search(text)
    assert "on your picture:" in text and "the six stage outputs" in text and "0.0020" in text

    md = render_markdown(answer, kb)
    assert "*On your picture:*" in md and "file://" in md
