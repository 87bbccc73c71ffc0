"""This tool as the subject: its own facts (knowledge/tool/explainer.json) lead the answers about
it, with the attached picture's measured size where the question asks about the picture."""

from __future__ import annotations

import pytest

from agent.compose import answer_question
from knowledge.store import load_knowledge

PICTURE = (160, 120)  # samples/cat-small.png


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.mark.parametrize(
    "question, picture, fact, opens",
    [
        ("Which weights ship with the tool?", False, "explainer.bundled-weights", ""),
        ("can you answer me in German from now on?", False, "explainer.answer-language", "No —"),
        ("Do you speak French?", False, "explainer.answer-language", "No —"),
        ("Can I ask it about other stuff, like audio denoising models?", False, "explainer.topics", ""),
        ("sharpen it but don't touch my original file pls", True, "explainer.output-files", ""),
        (
            "how many megapixels is my photo and will the tool take it?",
            True,
            "explainer.size-limit",
            "Your picture",
        ),
    ],
)
def test_the_tools_own_fact_leads(question, picture, fact, opens, kb):
    answer = answer_question(question, kb=kb, picture=picture, picture_size=PICTURE if picture else None)
    lead = answer.direct_answer[0]
    assert lead.facts == [fact] and lead.text.startswith(opens), lead.text
    assert not answer.long_form  # a point about the tool's files is no founding question


def test_a_point_an_earlier_part_answered_is_not_called_missing():
    from agent.compose import answer_question, load_default_kb

    answer = answer_question(
        "A 1000×750 scan — will mssnet take it as is? if not what size does it become", kb=load_default_kb()
    )
    text = " ".join(c.text for c in answer.direct_answer) + " ".join(answer.not_covered)
    assert "1008×752" in text
    assert "don't say" not in text
