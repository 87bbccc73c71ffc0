"""The whole question's reading (knowledge.reading): premises, requested sections, the task, scope.
The language data's examples run here."""

from pathlib import Path

import pytest

from knowledge import load_knowledge
from knowledge.lang.detect import language_of
from knowledge.lang.glossary import glossary, in_english
from knowledge.lang.language import LANG_DIR, language
from knowledge.text import stemmed_text
from knowledge.understand import understand

LANG = language()
PREMISES = [(m.id, e, True) for m in LANG.misconceptions.values() for e in m.examples]
PREMISES += [(m.id, e, False) for m in LANG.misconceptions.values() for e in m.counter_examples]
REQUESTS = [(r.id, e, True) for r in LANG.phrasing.requests for e in r.examples]
REQUESTS += [(r.id, e, False) for r in LANG.phrasing.requests for e in r.counter_examples]


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.mark.parametrize("premise, text, assumed", PREMISES, ids=[f"{p}-{t[:40]}" for p, t, _ in PREMISES])
def test_misconception_examples(premise, text, assumed):
    assert (premise in LANG.premises(text)) is assumed


@pytest.mark.parametrize("request_id, text, asked", REQUESTS, ids=[f"{r}-{t[:40]}" for r, t, _ in REQUESTS])
def test_request_examples(request_id, text, asked):
    assert (request_id in LANG.requests(text)) is asked


def test_every_correction_tag_is_on_some_card(kb):
    tags = {t for f in kb.facts for t in f.tags}
    assert {m.corrected_by for m in LANG.misconceptions.values()} <= tags


@pytest.mark.parametrize(
    "question, task, how",
    [
        # more of the wording names enlarging ("tiny picture") than deblurring ("sharp")
        (
            "I blew up a tiny picture of my rabbit and the whiskers came back sharp. How does the AI do it?",
            "super-resolution",
            "named",
        ),
        ("Who wrote FeatSharp?", "feature-upsampling", "source"),
        ("How many sampling rounds does the AI need?", "super-resolution", "founding"),
    ],
)
def test_the_task_and_how_it_was_found(question, task, how, kb):
    understood = understand(question, kb)
    assert (understood.task, understood.task_how) == (task, how)


@pytest.mark.parametrize(
    "question, broad",
    [
        ("How does MSSNet work?", True),
        ("How does AI streamline its steps with so few sampling rounds?", True),
        ("How many parameters does MSSNet have?", False),
        ("Does MSSNet pad images that are not multiples of 16?", False),
    ],
)
def test_the_founding_kind_gets_the_full_form(question, broad, kb):
    assert understand(question, kb).broad is broad


@pytest.mark.parametrize(
    "question, in_scope, outside",
    [
        ("What is the capital of Australia?", False, "the capital of Australia"),
        ("How does SDXL Turbo generate an image in one step?", False, "SDXL Turbo"),
        ("Is Topaz Gigapixel better at fur than MSSNet?", True, None),
        ("What is motion deblurring?", True, None),
    ],
)
def test_scope_and_the_outside_subject(question, in_scope, outside, kb):
    understood = understand(question, kb)
    assert understood.in_scope is in_scope and understood.outside_subject == outside


GLOSSARY_EXAMPLES = [
    (path.parent.name, e)
    for path in sorted((Path(LANG_DIR)).glob("*/glossary.yml"))
    for e in glossary(path.parent.name).examples
]


@pytest.mark.parametrize(
    "code, example", GLOSSARY_EXAMPLES, ids=[f"{c}-{e.text[:30]}" for c, e in GLOSSARY_EXAMPLES]
)
def test_glossary_examples_read_in_english(code, example):
    assert language_of(example.text, LANG.languages) == code
    read = f" {stemmed_text(in_english(example.text, code))} "
    for word in example.reads:
        assert f" {stemmed_text(word).strip()} " in read, (word, in_english(example.text, code))


def test_a_question_in_another_language_is_understood_in_english(kb):
    understood = understand("Kann MSSNet mein Foto vergrößern?", kb)
    assert understood.language == "de"
    part = understood.parts[0]
    assert part.kind == "yes-no" and part.attribute == "output-size"
    assert [s.id for s in part.subjects if s.kind == "source"] == ["mssnet"]


def test_a_factor_asks_about_the_output_size(kb):
    part = understand("Another model does 4x. Can MSSNet do 4x too?", kb).parts[-1]
    assert (part.attribute, part.attribute_by) == ("output-size", "quantity")


def test_this_tool_answers_a_point_the_named_sources_do_not_state(kb):
    from agent.compose import answer_question

    answer = answer_question("Would EASIER make MSSNet faster?", kb=kb)
    assert answer.direct_answer[0].sources == ["explainer"]  # what `explainer streamline` measured


def test_the_calculators_use_the_attached_picture_s_measured_size(kb):
    from agent.compose import answer_question

    answer = answer_question("Will this need padding before MSSNet?", kb=kb, picture_size=(160, 120))
    lead = answer.direct_answer[0].text
    assert "160×120 (measured here)" in lead and "160×128" in lead
    bigger = answer_question("how big will it be at x4?", kb=kb, picture_size=(160, 120))
    assert "640×480" in bigger.direct_answer[0].text
    # a size written in the question is the one used
    written = answer_question("Will a 1000x750 copy of this need padding?", kb=kb, picture_size=(160, 120))
    assert "1008×752" in written.direct_answer[0].text and "measured" not in written.direct_answer[0].text
