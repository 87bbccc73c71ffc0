"""`explainer report`: answer + demo images in DIR/assets/ with working relative links, metrics, provenance."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.errors import AgentError
from agent.report import write_report
from tests.constants import ROOT

TINY_WEIGHTS = ROOT / "tests" / "data" / "tiny_official_checkpoint.pt"
QUESTION = "How does MSSNet bring back fine fur detail?"


def _picture(path: Path) -> Path:
    rng = np.random.default_rng(3)
    img = np.full((96, 128, 3), 128, np.uint8)
    img[20:70, 30:100] = rng.integers(0, 255, (50, 70, 3), dtype=np.uint8)
    Image.fromarray(img).save(path)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    pytest.importorskip("models.engine")
    folder = tmp_path_factory.mktemp("rep")
    picture = _picture(folder / "fur.png")
    path = write_report(
        QUESTION,
        folder / "out" / "report.md",
        image=picture,
        weights=str(TINY_WEIGHTS),
        self_test=True,
        device="cpu",
        precision="fp32",
    )
    return path, path.read_text()


def test_report_has_answer_demo_metrics_and_provenance(report):
    path, text = report
    for heading in (
        "# Report: ",
        "## Answer",
        "### 2. How it works",
        "```mermaid",
        "## Live demo: MSSNet on",
        "### The six stages, coarse to fine",
        "### Measurements",
        "## Provenance",
    ):
        assert heading in text, heading
    assert re.search(r"\| PSNR \(dB\) \| \d+\.\d\d \| \d+\.\d\d \|", text)
    assert "| weights SHA-256 | " in text
    sha = re.search(r"\| weights SHA-256 \| ([0-9a-f]{64}) \|", text)
    assert sha, "the weights hash is in the provenance block"
    for key in ("| device | ", "| precision | ", "| version: torch | ", "| why these weights | "):
        assert key in text, key
    provenance = text[text.index("## Provenance") :]
    assert "time:" not in provenance  # measurements stay in the demo section, provenance apart


def test_report_shows_the_zoom_strip_and_the_difference_map(report):
    """The change a person can see: the ×3 nearest-neighbour strip and the amplified difference,
    labelled in words and linked to files that exist."""
    path, text = report
    assert "### What changed, zoomed ×3" in text
    strip = re.search(r"!\[zoom strip ×3 \(nearest-neighbour\): ([^\]]+)\]\((assets/zoom_strip\.png)\)", text)
    assert strip and "MSSNet" in strip.group(1) and "sharp reference" in strip.group(1)
    diff = re.search(r"!\[difference map: MSSNet − ([^\]]+)\]\((assets/difference\.png)\)", text)
    assert diff and "amplified ×" in diff.group(1) and "grey = unchanged" in diff.group(1)
    with Image.open(path.parent / strip.group(2)) as img:
        zoomed_crop = 3 * 96  # the crop is min(96, picture side) px, each pixel drawn 3×3
        assert img.height > zoomed_crop and img.width > 3 * zoomed_crop  # four panels side by side
    with Image.open(path.parent / diff.group(2)) as img:
        assert img.size == (128, 96)
    assert "\\_" not in text.split("## Provenance")[0].split("## Live demo")[1].split("\n")[0]


def test_report_image_links_are_relative_and_resolve(report):
    path, text = report
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) >= 4
    for link in links:
        assert not link.startswith(("/", "file:")), link
        assert link.startswith("assets/")
        assert (path.parent / link).is_file(), link
    # the claims cite the demo artefacts beside them, with the same relative links
    assert re.search(r"\*On your picture:\* \[[^\]]+\]\(assets/(stages|spectrum|crop_after)\.png\)", text)


def test_existing_report_is_refused_without_force(report):
    path, _ = report
    before = path.read_text()
    with pytest.raises(AgentError, match="already exists"):
        write_report(QUESTION, path)
    assert path.read_text() == before
    write_report("How many stages does MSSNet run?", path, force=True)
    assert "How many stages does MSSNet run?" in path.read_text()


def test_report_cli_refuses_existing_file_with_one_line(tmp_path):
    target = tmp_path / "r" / "report.md"
    target.parent.mkdir()
    target.write_text("keep me")
    script = Path(sys.executable).with_name("explainer")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]
    done = subprocess.run(
        cmd + ["report", QUESTION, "-o", str(target)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "already exists" in done.stderr and "Traceback" not in done.stderr
    assert target.read_text() == "keep me"


def test_report_without_image_is_text_only(tmp_path):
    path = write_report(QUESTION, tmp_path / "report.md")
    text = path.read_text()
    assert "## Live demo" not in text and "## Provenance" in text and not (tmp_path / "assets").exists()
