"""Every bundled fact can be found by the questions people ask: it carries example questions
(`answers`), names the attribute it states (an id of knowledge/lang/en/attributes.yml) and, where
it settles a yes/no question about that attribute, its polarity. The tables and the tool card load
beside the cards."""

import pytest

from knowledge.store import PACKAGE_CARDS, attribute_ids, load_knowledge_uncached

YES_NO_OPENERS = ("can ", "could ", "does ", "do ", "is ", "are ", "will ", "would ", "did ", "was ")


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_uncached(PACKAGE_CARDS)


def _all_facts(kb):
    return [*kb.facts, *kb.tool_facts]


def test_every_fact_has_questions_and_a_known_attribute(kb):
    known = attribute_ids()
    for fact in _all_facts(kb):
        assert len(fact.answers) >= 4, fact.id
        assert len(set(a.lower() for a in fact.answers)) == len(fact.answers), fact.id
        assert fact.attribute in known, fact.id


def test_questions_are_varied_and_some_are_yes_no(kb):
    """People ask in many forms: across the cards there are yes/no questions and wh-questions, and
    every source's facts are asked about by name somewhere."""
    questions = [a.lower() for f in _all_facts(kb) for a in f.answers]
    yes_no = sum(q.startswith(YES_NO_OPENERS) for q in questions)
    assert 0.25 < yes_no / len(questions) < 0.75
    for sid, src in kb.sources.items():
        asked = [a for f in kb.facts_for(sid) for a in f.answers]
        assert any(src.name.lower() in a.lower() for a in asked), sid


def test_a_question_is_not_shared_by_two_facts_of_one_source(kb):
    seen: dict[tuple[str, str], str] = {}
    for fact in _all_facts(kb):
        for question in fact.answers:
            key = (fact.source, question.lower())
            assert key not in seen, f"{question!r} on {seen.get(key)} and {fact.id}"
            seen[key] = fact.id


def test_most_facts_name_their_source(kb):
    """A fact embedded without its source's name is matched to the wrong source: the text names it
    (workflow steps included)."""
    unnamed = [f.id for f in kb.facts if kb.sources[f.source].name.lower() not in f.text.lower()]
    assert not unnamed, unnamed


@pytest.mark.parametrize(
    "fact_id, attribute, polarity",
    [
        ("mssnet.keeps-size", "output-size", "no"),
        ("featsharp.not-pixels", "output-size", "no"),
        ("featsharp.task", "task", "yes"),
        ("datacrafter.task", "task", "yes"),
        ("mssnet.one-pass", "determinism", "no"),
        ("mssnet.single-image", "video", "no"),
        ("explainer.enlarge", "output-size", "yes"),
        ("explainer.streamline-result", "speed-up", "no"),
    ],
)
def test_the_facts_that_settle_yes_no_questions(kb, fact_id, attribute, polarity):
    fact = kb.fact(fact_id)
    assert (fact.attribute, fact.polarity) == (attribute, polarity)


def test_not_known_facts_never_settle_a_yes_or_no(kb):
    assert not [f.id for f in _all_facts(kb) if f.kind == "not-known" and f.polarity]


@pytest.mark.parametrize(
    "attribute",
    [
        "noise",
        "defocus",
        "faces",
        "raw-files",
        "regions",
        "video",
        "scratches",
        "colour",
        "memory",
        "runtime",
        "licence",
        "hardware",
    ],
)
def test_what_people_commonly_ask_about_mssnet_has_a_fact(kb, attribute):
    assert [f.id for f in kb.facts_for("mssnet") if f.attribute == attribute]


def test_every_source_has_a_licence_fact(kb):
    for sid in kb.sources:
        assert [f for f in kb.facts_for(sid) if f.attribute == "licence"], sid


def test_the_configuration_table(kb):
    table = kb.tables["mssnet.configurations"]
    assert table.attribute == "configurations" and table.key == "config"
    assert [r["config"] for r in table.rows] == ["MSSNet_small", "MSSNet", "MSSNet_large"]
    for row in table.rows:  # level widths are wf, wf+scale, wf+scale+vscale
        assert row["width_level1"] == row["wf"]
        assert row["width_level2"] == row["wf"] + row["scale"]
        assert row["width_level3"] == row["wf"] + row["scale"] + row["vscale"]
    assert {"params_full_state", "gmacs_720x1280", "width_level3"} <= set(table.derived)
    assert "the bigger one" in table.aliases["MSSNet_large"]
    assert max(table.rows, key=lambda r: r[table.rank_by])["config"] == "MSSNet_large"


def test_the_easier_table_holds_every_appendix_row(kb):
    table = kb.tables["easier.accuracy-vs-removed"]
    assert len(table.rows) == 102
    assert {r["dataset"] for r in table.rows} == {
        "CIFAR-10",
        "Tiny-ImageNet-200",
        "PACS",
        "VLCS",
        "Flowers-102",
        "DTD",
        "Aircraft",
    }
    resnet = {
        r["removed"]: r["top1"] for r in table.rows if (r["dataset"], r["model"]) == ("CIFAR-10", "ResNet-18")
    }
    assert resnet[9] == 90.35 and resnet[10] == 89.94


def test_table_numbers_are_allowed_in_answers(kb):
    numbers = kb.allowed_numbers()
    assert {"6748601", "4052.5", "92.10", "89.94", "180"} <= numbers


def test_the_tool_card_loads_apart_from_the_sources(kb):
    assert kb.tool is not None and kb.tool.kind == "tool" and kb.tool.id not in kb.sources
    assert kb.tool_facts and all(f.source == "explainer" for f in kb.tool_facts)
    assert not [f for f in kb.facts if f.source == "explainer"]
    assert kb.fact("explainer.enlarge").polarity == "yes"


def test_the_tool_card_loads_beside_an_imported_cards_dir(tmp_path):
    import shutil

    target = tmp_path / "cards"
    target.mkdir()
    shutil.copy(PACKAGE_CARDS / "easier.json", target / "easier.json")
    kb = load_knowledge_uncached(target)
    assert list(kb.sources) == ["easier"] and kb.tool_facts
    assert set(kb.tables) == {"easier.accuracy-vs-removed"}
