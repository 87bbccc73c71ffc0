"""The packaged source cards: they validate and carry what the agent relies on."""

import json
import re
from pathlib import Path

import pytest

from knowledge.schema import TASK_IDS
from knowledge.store import CANONICAL_LINKS, PACKAGE_CARDS, load_knowledge, load_knowledge_uncached

SOURCE_IDS = ["mssnet", "featsharp", "datacrafter", "easier"]


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_uncached(PACKAGE_CARDS)


def test_four_sources_in_seed_order(kb):
    assert list(kb.sources) == SOURCE_IDS
    assert kb.sources["mssnet"].kind == "model"
    assert kb.sources["mssnet"].links.code == "https://github.com/kky7/MSSNet"
    assert kb.sources["featsharp"].links.paper == "http://arxiv.org/pdf/2502.16025v1.pdf"


def test_fact_counts(kb):
    assert len(kb.facts_for("mssnet")) >= 15
    for sid in SOURCE_IDS[1:]:
        assert len(kb.facts_for(sid)) >= 6, sid


@pytest.mark.parametrize(
    "topic, pattern",
    [
        ("stages per scale", r"1, 2 and 3 stages"),
        ("pixel-unshuffle", r"pixel-unshuffle"),
        ("cross-stage fusion", r"[Cc]ross-stage feature fusion"),
        ("inter-scale propagation", r"[Ii]nter-scale propagation"),
        ("residual learning", r"[Rr]esidual learning"),
        ("FFT loss", r"0\.1 times an L1 loss .* Fourier"),
        ("training data", r"GoPro .* 2103"),
        ("training settings", r"batch size 16, 3000 epochs"),
        ("configs and parameters", r"6,756,161 .* 15,614,497 .* 28,182,041"),
        ("multiple of 16", r"multiples of 16"),
        ("checkpoint format", r"model_state_dict, optimizer_state_dict, epoch and all_step"),
        ("one pass, no sampling", r"one deterministic feed-forward pass .* no iterative sampling"),
        ("keeps the size", r"does not enlarge"),
    ],
)
def test_mssnet_topics(kb, topic, pattern):
    texts = [f.text for f in kb.facts_for("mssnet")]
    assert any(re.search(pattern, t) for t in texts), topic


def test_each_source_has_does_not_not_known_relevance_and_workflow(kb):
    for sid in SOURCE_IDS:
        facts = kb.facts_for(sid)
        assert any(f.kind == "does-not" for f in facts), sid
        assert any(f.kind == "not-known" for f in facts), sid
        assert any("relevance" in f.tags for f in facts), sid
        stages = [f.workflow for f in kb.workflow(sid)]
        assert stages[0] == "input" and stages[-1] == "output", sid
        assert "model" in stages, sid


def test_mssnet_workflow_is_the_concrete_graph(kb):
    steps = kb.workflow("mssnet")
    stages = [f.workflow for f in steps]
    assert stages == sorted(stages, key=["input", "preprocess", "model", "postprocess", "output"].index)
    text = " | ".join(f.text for f in steps)
    for needle in [
        "[0,1]",
        "B x 3 x H x W",
        "bicubic",
        "reflect-pad",
        "multiples of 16",
        "1/4 resolution",
        "1/2 resolution",
        "(1 stage)",
        "(2 stages)",
        "(3 stages)",
        "added to the blurry input",
        "crop",
        "clamp",
        "quantise",
        "PNG",
    ]:
        assert needle in text, needle
    orders = [(f.workflow, f.order) for f in steps]
    assert len(set(orders)) == len(orders)


def test_conventional_tags_present(kb):
    assert len(kb.facts_tagged("misconception:sampling")) >= 3
    assert any(f.source == "mssnet" for f in kb.facts_tagged("misconception:sampling"))
    assert len(kb.facts_tagged("high-frequency")) >= 4
    assert {f.source for f in kb.facts_tagged("relevance")} == set(SOURCE_IDS)


def test_tasks_and_capabilities(kb):
    assert set(kb.tasks) == set(TASK_IDS)
    aliases = {a.lower() for t in kb.tasks.values() for a in t.aliases}
    for phrase in [
        "enlarge",
        "upscale",
        "make bigger",
        "fur came back",
        "sharpen",
        "blurry",
        "shaky",
        "clip features",
        "more photos",
        "rare species",
        "remove layers",
        "shallower",
        "prune",
    ]:
        assert phrase in aliases, phrase
    primary = {(c.source, c.task) for c in kb.capabilities if c.role == "primary"}
    assert primary == {
        ("mssnet", "image-deblurring"),
        ("featsharp", "feature-upsampling"),
        ("datacrafter", "dataset-expansion"),
        ("easier", "depth-reduction"),
    }


def test_links_are_canonical_and_exposed(kb):
    canonical = json.loads(Path(CANONICAL_LINKS).read_text())
    for sid, source in kb.sources.items():
        assert source.urls() and set(source.urls()) <= set(canonical[sid])
    assert "https://github.com/kky7/MSSNet" in kb.allowed_urls()
    assert "https://example.com/fake-paper" not in kb.allowed_urls()
    assert "FeatSharp" in kb.allowed_titles()


def test_no_third_party_numbers(kb):
    """Aggregator figures (leaderboards, summaries) are not citable and must not reach a card."""
    numbers = kb.allowed_numbers()
    for third_party in ["33.39", "32.1", "39.76", "39.84", "29.86"]:
        assert third_party not in numbers, third_party
    assert not any("minutes per image" in f.text for f in kb.facts)


def test_allowed_numbers_include_card_numbers(kb):
    numbers = kb.allowed_numbers()
    for n in ["15,614,497", "15614497", "2103", "16", "0.1", "2022", "2502.16025"]:
        assert n in numbers, n


def test_fact_lookups(kb):
    assert kb.fact("mssnet.stages-per-scale").source == "mssnet"
    assert all(f.source == "easier" for f in kb.facts_for("easier"))
    from knowledge.errors import KnowledgeError

    with pytest.raises(KnowledgeError, match="no-such"):
        kb.fact("mssnet.no-such")


def test_load_knowledge_is_cached():
    assert load_knowledge() is load_knowledge()


def test_other_names_are_allowed_titles(kb):
    titles = kb.allowed_titles()
    assert "Deblur-MSSNet-GoPro" in titles  # the seed prompt's name for the recommended model
    assert "Human-Guided Image Generation for Small-Scale Training Datasets Expansion" in titles
    assert "Some Invented Paper Title" not in titles
