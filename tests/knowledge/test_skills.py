"""The calculators (knowledge/skills.py): each number in knowledge/skills.yml is in the fact or table
it names, and a result cites what it computes from and says it was computed; the attached
picture's measured size feeds them only where its size is what was asked."""

from __future__ import annotations

import re

import pytest

from knowledge.skills import apply, skills_data
from knowledge.store import load_knowledge
from knowledge.understand import understand

PICTURE = (160, 120)  # samples/cat-small.png


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _number_in(value: float, text: str) -> bool:
    said = {float(n.replace(",", "")) for n in re.findall(r"\d+(?:[.,]\d+)*", text)}
    return value in said


def test_every_constant_is_in_the_fact_it_names(kb):
    spec = skills_data()
    assert _number_in(spec.pad.multiple, kb.fact(spec.pad.fact).text)
    assert all(_number_in(n, kb.fact(spec.upscale.fact).text) for n in spec.upscale.factors)
    assert _number_in(spec.limit.limit_mp, kb.fact(spec.limit.fact).text)


def _computed(question, kb, picture_size=None):
    u = understand(question, kb, picture=picture_size is not None, picture_size=picture_size)
    return [c for p in u.parts for c in apply(p, kb)]


@pytest.mark.parametrize(
    "question, picture_size, expected, cites",
    [
        (
            "how many megapixels is my photo and will the tool take it?",
            PICTURE,
            "0.019 megapixels: under the 100 MP",
            "explainer.size-limit",
        ),
        (
            "My panorama is 150 megapixels and restore refuses it. What now?",
            None,
            "150 megapixels: over the 100 MP",
            "explainer.size-limit",
        ),
        ("how big will it be at x4?", PICTURE, "into 640×480", "explainer.enlarge"),
        (
            "Will this need padding before MSSNet?",
            PICTURE,
            "must be padded to 160×128",
            "mssnet.multiple-of-16",
        ),
        ("small vs large MSSNet: what am I giving up?", None, "4.2× the parameters", "mssnet.configurations"),
        (
            "compute at 720p: base vs large mssnet?",
            None,
            "2.0× the GMACs at 720×1280",
            "mssnet.configurations",
        ),
        (
            "FeatSharp at 3x: how many tiles?",
            None,
            "3×3 = 9 tiles and runs its backbone 10 times",
            "featsharp.cost",
        ),
        (
            "Will a 1080p frame go straight into MSSNet?",
            None,
            "must be padded to 1920×1088",
            "mssnet.multiple-of-16",
        ),
    ],
)
def test_a_result_cites_its_fact_and_says_it_was_computed(question, picture_size, expected, cites, kb):
    results = _computed(question, kb, picture_size)
    hits = [c for c in results if expected in c.text]
    assert hits, [c.text for c in results]
    assert hits[0].cites == cites and "computed here" in hits[0].text
    if picture_size:
        assert "measured here" in hits[0].text


@pytest.mark.parametrize(
    "question",
    [
        "this is a fox I shot at dusk, blurry and noisy — which of your four sources can help?",
        "sharpen it but don't touch my original file pls",
    ],
)
def test_the_pictures_size_is_not_checked_when_its_size_is_not_asked(question, kb):
    assert not [c for c in _computed(question, kb, PICTURE) if c.cites == "mssnet.multiple-of-16"]


def test_a_threshold_in_megapixels_is_no_picture(kb):
    question = "what resolution does a 1000x750 photo reach at x2, and is that more than 2 megapixels?"
    assert not [c for c in _computed(question, kb) if c.cites == "explainer.size-limit"]


def test_a_size_asked_for_a_cost_is_not_checked_for_padding(kb):
    for question in (
        "How long does MSSNet take on a 1080p photo on a CPU?",
        "compute at 720p: base vs large mssnet?",
    ):
        assert not [c for c in _computed(question, kb) if c.cites == "mssnet.multiple-of-16"], question


def test_a_size_the_table_has_a_column_for_is_read_not_scaled(kb):
    texts = [c.text for c in _computed("How many GMACs does the base MSSNet need at 720p?", kb)]
    assert any("2031.70" in t for t in texts) and not any("scaled by pixel count" in t for t in texts), texts
