"""Comparisons draw the same attribute from each side, in the order the question names them, with
rows of one table set against each other by a calculator; a side without the attribute gets "the
sources don't say" beside the other's fact; a "which one" follow-up picks among the rows just
compared."""

from __future__ import annotations

import pytest

from agent.compose import answer_question
from agent.conversation import Conversation
from knowledge.store import load_knowledge


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _lines(answer) -> list[str]:
    return [c.text for c in answer.direct_answer]


def test_rows_of_a_table_lead_with_their_ratio_and_the_other_side_on_the_same_point(kb):
    answer = answer_question(
        "To make deblurring cheaper, is it better to take MSSNet_small or run EASIER on the base model?",
        kb=kb,
    )
    lines = _lines(answer)
    assert lines[0].startswith("MSSNet against MSSNet_small: 3.5× the GMACs") and "computed here" in lines[0]
    assert answer.direct_answer[1].sources == ["easier"] and "compute" in lines[1]


def test_a_side_without_the_attribute_is_said_to_lack_it_then_what_it_is_for(kb):
    answer = answer_question(
        "MSSNet and FeatSharp both do 'multi-scale' things. What's actually different?", kb=kb
    )
    lines = _lines(answer)
    assert "stages" in lines[0] and answer.direct_answer[0].sources == ["mssnet"]
    assert lines[1] == "The sources don't say FeatSharp's stages and scales."
    assert "feature maps" in lines[2]


@pytest.mark.parametrize(
    "question, first",
    [
        ("How is EASIER different from MSSNet?", "easier"),  # the order named
        ("Compare DataCrafter and MSSNet.", "datacrafter"),
        ("Should I use FeatSharp or MSSNet to sharpen a blurry photo?", "mssnet"),  # made for the job named
    ],
)
def test_the_side_that_leads(question, first, kb):
    assert answer_question(question, kb=kb).direct_answer[0].sources == [first]


def test_a_yes_no_about_two_sources_answers_for_both(kb):
    answer = answer_question("Is DataCrafter's diffusion sampling similar to MSSNet's stages?", kb=kb)
    assert [c.sources for c in answer.direct_answer[:2]] == [["datacrafter"], ["mssnet"]]
    assert "not rounds of a sampler" in answer.direct_answer[1].text


def test_which_one_after_a_comparison_picks_among_its_rows(kb):
    chat = Conversation(kb)
    chat.ask("What's the difference between MSSNet small and large?")
    answer = chat.ask("which one would you pick for a laptop?")
    assert _lines(answer)[0].startswith("MSSNet_large against MSSNet_small: 4.2× the parameters")


@pytest.mark.parametrize(
    "earlier, question, expected",
    [
        ("Does MSSNet need a special image size?", "what about 1080p then", "padded to 1920×1088"),
        ("How does FeatSharp tile the image?", "so at 3x how many tiles would that be?", "= 9 tiles"),
    ],
)
def test_a_follow_up_applies_the_earlier_point_to_its_number(earlier, question, expected, kb):
    chat = Conversation(kb)
    chat.ask(earlier)
    assert expected in _lines(chat.ask(question))[0]
