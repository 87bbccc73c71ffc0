"""The demo in every format: the founding report (enlargement scored, early exit, EASIER), the same
numbers in `ask --format json`, Markdown with relative links, chat /save with the tables."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.cli import main
from tests.constants import FOUNDING_QUESTION as FOUNDING
from tests.constants import TINY_WEIGHTS


@pytest.fixture(scope="module")
def pictures(tmp_path_factory, one_torch_thread):
    pytest.importorskip("models.engine")
    folder = tmp_path_factory.mktemp("pics")
    rng = np.random.default_rng(5)
    sharp = np.full((96, 128, 3), 120, np.uint8)
    sharp[16:80, 40:120] = rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)
    Image.fromarray(sharp).save(folder / "cat.png")
    Image.fromarray(sharp).resize((64, 48), Image.Resampling.BICUBIC).save(folder / "small_cat.png")
    return folder


DEMO_ARGS = ["--weights", str(TINY_WEIGHTS), "--device", "cpu", "--precision", "fp32"]


@pytest.fixture(scope="module")
def founding_report(pictures):
    out = pictures / "out" / "r.md"
    assert (
        main(
            [
                "report",
                FOUNDING,
                "--image",
                str(pictures / "small_cat.png"),
                "--upscale",
                "2",
                "--reference",
                str(pictures / "cat.png"),
                "-o",
                str(out),
                *DEMO_ARGS,
            ]
        )
        == 0
    )
    return out, out.read_text()


def test_founding_report_has_every_measurement(founding_report):
    path, text = founding_report
    for piece in (
        "| Metric | Bicubic ×2 | MSSNet | Note |",
        "share of the lost energy brought back",
        "**Fine detail:** MSSNet",
        "what stopping early would save",
        "](assets/early_exit.png)",
        "Streamlining the steps: EASIER",
        "| Rank | Site (ResBlock) |",
        "| Sites linearised |",
        "![EASIER ranking and linearisation sweep](assets/streamline.png)",
        "](assets/zoom_strip.png)",
        "](assets/difference.png)",
        "5×5",
        "### Measured on your picture",
        "not facts from the sources",
        "| weights provenance |",
    ):
        assert piece in text, piece
    assert re.search(
        r"\*weights: tiny_official_checkpoint \(MSSNet .*SHA-256 [0-9a-f]{12}…\); no model card", text
    )
    assert len(re.findall(r"^\| [1-6] \| res\d_\d", text, re.M)) == 6  # the early-exit table
    for link in re.findall(r"\]\((assets/[^)]+)\)", text):
        assert (path.parent / link).is_file(), link


def test_ask_json_carries_the_same_numbers(founding_report, pictures, capsys):
    _, text = founding_report
    capsys.readouterr()
    assert (
        main(
            [
                "ask",
                FOUNDING,
                "--format",
                "json",
                "--image",
                str(pictures / "small_cat.png"),
                "--upscale",
                "2",
                "--reference",
                str(pictures / "cat.png"),
                "--out",
                str(pictures / "ask"),
                *DEMO_ARGS,
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    demo = data["demo"]
    psnr = next(m for m in demo["metrics"] if m["name"] == "PSNR (dB)")
    assert f"| PSNR (dB) | {psnr['before']:.2f} | {psnr['after']:.2f} |" in text
    assert f"{100 * demo['detail']['recovered_share']:.1f}%" in text
    for row in demo["early_exit"]:
        assert f"| {row['stage']} | " in text and f"{row['psnr']:.2f} |" in text
    best = demo["streamline"]["sites"][0]
    assert f"| {best['name']} | {best['channels']} | {best['mean_entropy']:.3f}" in text
    assert demo["weights"]["sha256"] and demo["weights"]["provisional"] is False and demo["device"] == "cpu"
    assert demo["precision"] == "fp32" and set(demo["stage_times"]) == {f"stage_{i}" for i in range(1, 7)}
    assert all(Path(f).is_file() for f in demo["files"].values())
    assert {m["topic"] for m in demo["measurements"]} >= {"detail", "stages", "streamline"}
    assert "weights" not in {m["topic"] for m in demo["measurements"]}  # provenance is no measurement
    assert demo["weights_line"] and demo["weights_reason"]
    # measurements are kept out of the claims
    assert not any("dB" in c["text"] and "your picture" in c["text"] for c in data["claims"])


def test_ask_markdown_links_the_demo_files_relatively(pictures, capsys, monkeypatch):
    monkeypatch.chdir(pictures)
    capsys.readouterr()
    assert (
        main(
            [
                "ask",
                "How does MSSNet bring back fine fur detail?",
                "--format",
                "markdown",
                "--image",
                "small_cat.png",
                "--self-test",
                "--upscale",
                "2",
                "--out",
                "md",
                *DEMO_ARGS,
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "## Live demo: MSSNet on" in text and "| Metric | Bicubic ×2 | MSSNet | Note |" in text
    assert (
        "| Stop after | Stage |" in text and "Streamlining the steps" not in text
    )  # not a streamlining question
    links = re.findall(r"\]\(([^)]+\.png)\)", text)
    assert links and all(
        not link.startswith(("/", "file:")) and (pictures / link).is_file() for link in links
    )


def test_chat_save_keeps_the_tables_and_a_bare_demo(pictures, tmp_path):
    import io

    from agent.chat import Chat

    target = tmp_path / "talk.md"
    lines = [f"/attach {pictures / 'small_cat.png'}", "/demo", f"/save {target}"]
    chat = Chat(
        out_dir=tmp_path / "out",
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=io.StringIO(),
        dense=False,
        demo_options=dict(weights=str(TINY_WEIGHTS), device="cpu", precision="fp32", self_test=True),
    )
    chat.run()
    text = target.read_text()
    assert "## Turn 1: /demo" in text and "| Metric | Bicubic ×2 | MSSNet | Note |" in text
    assert "| Stop after | Stage |" in text and "*weights: tiny_official_checkpoint" in text
    for link in re.findall(r"\]\(([^)]+\.png)\)", text):
        assert not link.startswith("/") and (tmp_path / link).is_file(), link
