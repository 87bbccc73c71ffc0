"""The cards say only what the sources say: no known-wrong claims, no number from nowhere, and the
workflow graph's edges are each source's own labels."""

import json
import os
import re
from pathlib import Path

import pytest

from agent.answer import Answer, WorkflowStep
from agent.workflow_graph import build_graph
from knowledge.store import PACKAGE_CARDS, load_knowledge_uncached
from tests.constants import ROOT

FACT_SHEET = Path(os.environ.get("EXPLAINER_SHARED", ROOT.parent / "shared")) / "sources-facts.md"
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# Phrasings that once reached the cards and are wrong (or unsupported by any source).
KNOWN_WRONG = [
    r"finer scales carry smaller blur",  # backwards: the coarse scales see the small blur
    r"most of the work at coarse scales",  # 3 of 6 stages run at full resolution
    r"(does not|never) invent(s)? detail",  # no source says so
    r"a few dozen photos",  # no source gives a dataset size
    r"coarse scales? (carr(y|ies)|see|has) (the )?(larger|largest|bigger) blur",
]


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_uncached(PACKAGE_CARDS)


def _all_texts(kb):
    out = [(f.id, f.text) for f in kb.facts] + [(f.id + ".passes", f.passes) for f in kb.facts if f.passes]
    out += [(f"task {t.id}", t.description) for t in kb.tasks.values()]
    out += [(f"capability {c.source}/{c.task}", f"{c.input} {c.output} {c.note}") for c in kb.capabilities]
    return out


@pytest.mark.parametrize("pattern", KNOWN_WRONG)
def test_no_card_carries_a_known_wrong_claim(kb, pattern):
    offenders = [where for where, text in _all_texts(kb) if re.search(pattern, text, re.I)]
    assert not offenders, f"{pattern!r} in {offenders}"


def test_the_three_corrected_mssnet_facts_say_what_the_sources_say(kb):
    stages = kb.fact("mssnet.stages-per-scale").text
    assert "1, 2 and 3 stages" in stages and "coarsest scale sees the smallest blur" in stages
    assert "Our reading" in stages  # the blur-size argument is ours, not the paper's
    assert "most of the computation is at the finest scale" in kb.fact("mssnet.steps-are-stages").text
    assert "invent" not in kb.fact("mssnet.trained-on-motion-blur").text


@pytest.mark.skipif(not FACT_SHEET.exists(), reason="the shared fact sheet is not beside this checkout")
def test_every_number_in_every_card_is_in_its_origin_or_the_fact_sheet(kb):
    sheet = set(NUMBER.findall(FACT_SHEET.read_text(encoding="utf-8")))
    sheet |= {n.replace(",", "") for n in sheet}
    missing = []
    for fact in kb.facts:
        allowed = sheet | set(NUMBER.findall(fact.origin))
        for text in [fact.text, fact.passes or "", *fact.answers]:
            missing += [
                (fact.id, n)
                for n in NUMBER.findall(text)
                if n not in allowed and n.replace(",", "") not in allowed
            ]
    assert not missing, missing


def _sheet_values() -> set[float]:
    return {float(n.replace(",", "")) for n in NUMBER.findall(FACT_SHEET.read_text(encoding="utf-8"))}


@pytest.mark.skipif(not FACT_SHEET.exists(), reason="the shared fact sheet is not beside this checkout")
def test_every_number_in_every_table_is_in_the_fact_sheet(kb):
    sheet = _sheet_values()
    missing = [
        (table.id, value)
        for table in kb.tables.values()
        for value in table.cell_numbers()
        if value not in sheet
    ]
    assert not missing, missing


@pytest.mark.skipif(not FACT_SHEET.exists(), reason="the shared fact sheet is not beside this checkout")
def test_every_easier_row_is_printed_in_its_appendix_table(kb):
    """Each row's 'removed/total -> top-1' is the fact sheet's own entry, under its dataset and model."""
    sheet = FACT_SHEET.read_text(encoding="utf-8")
    for row in kb.tables["easier.accuracy-vs-removed"].rows:
        section = sheet.split(f"**{row['dataset']} (Table {row['table']})**", 1)[1].split("**", 1)[0]
        line = next(ln for ln in section.splitlines() if ln.startswith(f"| {row['model']} |"))
        assert f"{row['removed']}/{row['total']} → {row['top1']:.2f}" in line, row


def test_tool_facts_say_only_what_the_project_documents(kb):
    """The tool card's numbers come from the README, the model cards or the weights manifest, and
    each shipped weight file's measured gain is quoted exactly as its manifest summary gives it."""
    weights = ROOT / "models" / "weights"
    documents = [ROOT / "README.md", *weights.glob("*.md"), weights / "manifest.json"]
    allowed = {n for doc in documents for n in NUMBER.findall(doc.read_text(encoding="utf-8"))}
    allowed |= {n.replace(",", "") for n in allowed}
    missing = [
        (fact.id, n)
        for fact in kb.tool_facts
        for text in [fact.text, *fact.answers]
        for n in NUMBER.findall(text)
        if n not in allowed and n.replace(",", "") not in allowed
    ]
    assert not missing, missing
    manifest = json.loads((weights / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["weights"]:
        quoting = [f.id for f in kb.tool_facts if entry["summary"] in f.text and entry["name"] in f.text]
        assert quoting, f"no tool fact quotes {entry['name']}'s measured gain"
    assert all(f.origin.startswith("this explainer") for f in kb.tool_facts)


def test_own_readings_say_so(kb):
    """A fact whose origin is the project's own reading says so in its text too (or is a relevance
    summary, which is labelled as such)."""
    for fact in kb.facts:
        if re.search(r"our (reading|caveat)", fact.origin) and not fact.workflow:
            assert re.search(
                r"our reading|our suggestion|this explainer|counted by us|computed by us|"
                r"^Relevance to the question|reading comes from",
                fact.text,
                re.I,
            ), fact.id


def test_each_source_labels_its_own_workflow_edges(kb):
    """The graph's edges come from each source's card: FeatSharp hands on feature maps, EASIER a
    shallower classifier, DataCrafter generated images; none of them a 'restored tensor'."""
    expected = {
        "featsharp": "feature maps",
        "easier": "shallower classifier",
        "datacrafter": "generated images",
        "mssnet": "restored tensor",
    }
    for sid in kb.sources:
        steps = kb.workflow(sid)
        answer = Answer(
            question="q",
            abstained=False,
            workflow=[
                WorkflowStep(stage=f.workflow, text=f.text, sources=[sid], passes=f.passes) for f in steps
            ],
        )
        nodes, edges = build_graph(answer, kb.sources[sid].name)
        assert len(edges) == len(nodes) - 1
        model_edge = next(e for e, n in zip(edges, nodes) if n.stage == "model")
        assert expected[sid] in model_edge.label, (sid, model_edge.label)
        if sid != "mssnet":
            assert all("restored" not in e.label for e in edges), sid
        assert all(e.label != "output of this step" for e in edges), (sid, [e.label for e in edges])


def test_passes_needs_a_workflow_stage():
    from pydantic import ValidationError

    from knowledge.schema import Fact

    with pytest.raises(ValidationError, match="workflow"):
        Fact(id="x.y", source="x", text="a fact text here", origin="CODE", passes="a tensor")
