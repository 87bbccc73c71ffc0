"""The chat without a terminal (plain input fallback), driven in-process: staging, demo, /save with images."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from agent.chat import Chat
from tests.constants import ROOT

TINY_WEIGHTS = ROOT / "tests" / "data" / "tiny_official_checkpoint.pt"


def _chat(tmp_path, lines, **options):
    stdin, stdout = io.StringIO("\n".join(lines) + "\n"), io.StringIO()
    chat = Chat(out_dir=tmp_path / "out", stdin=stdin, stdout=stdout, dense=False, demo_options=dict(options))
    code = chat.run()
    return chat, code, stdout.getvalue()


def test_plain_fallback_answers_and_ends_on_eof(tmp_path):
    chat, code, out = _chat(tmp_path, ["", "/help", "What is the capital of Australia?", "/frobnicate"])
    assert code == 0 and out.rstrip().endswith("bye")
    assert "\x1b" not in out  # not a tty: plain text
    assert "Questions I can answer:" in out
    assert "unknown command /frobnicate" in out
    assert len(chat.turns) == 1 and chat.turns[0].abstained


def test_save_needs_a_turn_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "c.md"
    _, _, out = _chat(tmp_path, [f"/save {target}"])
    assert "nothing to save yet" in out and not target.exists()
    target.write_text("mine")
    _, _, out = _chat(tmp_path, ["How does MSSNet work?", f"/save {target}"])
    assert "already exists" in out and target.read_text() == "mine"
    _, _, out = _chat(tmp_path, ["How does MSSNet work?", f"/save {target} --force"])
    assert "saved" in out and "How does MSSNet work?" in target.read_text()


def test_attach_stages_then_question_runs_demo_and_save_copies_images(tmp_path):
    pytest.importorskip("models.engine")
    picture = tmp_path / "fur.png"
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(picture)
    target = tmp_path / "saved" / "talk.md"
    chat, code, out = _chat(
        tmp_path,
        [f"/attach {picture}", "How does MSSNet keep fur detail?", f"/save {target}"],
        weights=str(TINY_WEIGHTS),
        device="cpu",
        precision="fp32",
    )
    assert code == 0
    attach_at = out.index("attached fur.png")
    assert "running MSSNet" not in out[: attach_at + 80]  # staging alone fires nothing
    assert "running MSSNet on fur.png" in out and "Live demo: MSSNet on fur.png" in out
    assert chat.turns[0].demo is not None
    text = target.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links and all((target.parent / link).is_file() for link in links)
    assert all(not link.startswith("/") for link in links)
