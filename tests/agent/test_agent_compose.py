"""Question analysis and answer composition from the cards (text path: no torch)."""

import subprocess
import sys

import pytest

from agent.answer import WORKFLOW_STAGES
from agent.compose import answer_question
from agent.errors import AgentError
from knowledge import load_knowledge
from knowledge.understand import understand
from tests.constants import FOUNDING_QUESTION as FOUNDING
from tests.constants import JSON_CONTRACT_KEYS


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.fixture(scope="module")
def founding(kb):
    return answer_question(FOUNDING, kb=kb)


def _card_texts(kb):
    texts = {f.text for f in kb.facts}
    texts |= {t.description for t in kb.tasks.values()} | {c.note for c in kb.capabilities if c.note}
    texts |= {c.input for c in kb.capabilities} | {c.output for c in kb.capabilities}
    return texts


def test_founding_task_is_super_resolution_served_by_mssnet_after_interpolation(founding, kb):
    assert founding.abstained is False
    assert founding.task.id == "super-resolution"
    first = founding.task_claims
    assert any("MSSNet" in c.text and "bicubic" in c.text for c in first)
    assert kb.fact("mssnet.keeps-size").text in {c.text for c in first}


def test_founding_workflow_is_mssnet_input_to_output(founding, kb):
    stages = [w.stage for w in founding.workflow]
    assert stages == sorted(stages, key=WORKFLOW_STAGES.index)
    assert set(stages) == set(WORKFLOW_STAGES)
    assert [w.text for w in founding.workflow] == [f.text for f in kb.workflow("mssnet")]
    assert all(w.sources == ["mssnet"] for w in founding.workflow)


def test_founding_corrects_the_sampling_misconception(founding, kb):
    corrections = {f.text for f in kb.facts_tagged("misconception:sampling") if f.source == "mssnet"}
    assert corrections and corrections <= {c.text for c in founding.claims}


def test_a_founding_kind_question_naming_no_task_gets_the_founding_task(kb):
    """A misconception with no task words ("these AIs ... diffusion steps"): the cards' own question's task."""
    answer = answer_question(
        "How do these AIs keep fine texture without running lots of diffusion steps?", kb=kb
    )
    assert answer.abstained is False and answer.task.id == "super-resolution"
    assert {s.id for s in answer.sources} == {"mssnet", "featsharp", "datacrafter", "easier"}


def test_founding_lists_all_four_sources_with_links(founding, kb):
    assert {s.id for s in founding.sources} == {"mssnet", "featsharp", "datacrafter", "easier"}
    assert {s.url for s in founding.sources} <= kb.allowed_urls()
    relevance = {f.text for f in kb.facts_tagged("relevance")}
    assert relevance <= {c.text for c in founding.claims}


def _assert_card_text(answer, kb):
    card_texts = _card_texts(kb)
    for claim in answer.claims:
        assert claim.sources and set(claim.sources) <= set(kb.sources)
        # either a card text verbatim, or built around card descriptions
        assert claim.text in card_texts or any(t and t in claim.text for t in card_texts), claim.text
    assert all(c in card_texts for c in answer.caveats)


def test_claims_are_card_text_and_cite_sources(founding, kb):
    _assert_card_text(founding, kb)
    assert founding.caveats


def test_json_has_exactly_the_contract_keys(founding):
    d = founding.model_dump(mode="json")
    assert list(d) == list(JSON_CONTRACT_KEYS)
    assert d["demo"] is None  # no picture, no demo
    assert d["direct_answer"] and all(set(c) == {"text", "sources", "facts"} for c in d["direct_answer"])
    assert all(set(c) == {"text", "sources", "facts"} for c in d["claims"])
    assert any(c["facts"] for c in d["claims"])
    assert set(d["task"]) == {"id", "label"}
    assert all(set(w) == {"stage", "text", "sources"} for w in d["workflow"])
    assert all(set(s) == {"id", "title", "url"} for s in d["sources"])


@pytest.mark.parametrize(
    "question, task",
    [
        ("How many stages does MSSNet run at each scale, and why?", "image-deblurring"),
        ("My photo is blurry from camera shake, can it be fixed?", "image-deblurring"),
        (
            "My CLIP features are only 14x14; how can I get sharper high-resolution feature maps?",
            "feature-upsampling",
        ),
        (
            "I only have about forty photos of a rare bird species. How could I get more training images?",
            "dataset-expansion",
        ),
        (
            "How can I remove layers from an over-sized classifier without losing much accuracy?",
            "depth-reduction",
        ),
    ],
)
def test_the_task_the_person_is_doing(kb, question, task):
    assert understand(question, kb).task == task


def test_requests_premises_and_named_sources(kb):
    q = "Compare MSSNet with FeatSharp and show me the papers; how many denoising steps does it need?"
    understood = understand(q, kb)
    assert {"papers", "run-it"} <= set(understood.requests)
    assert understood.parts[0].kind == "comparison"
    assert understood.premises == ("sampling",)
    assert set(understood.named_sources) == {"mssnet", "featsharp"}


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of Australia?",
        "How does SDXL Turbo generate an image in a single sampling step?",
        # "classifier" is a depth-reduction alias; "guidance" no card says
        "What is classifier-free guidance?",
        # "compress" is a depth-reduction alias too; H.265 no card names
        "How do I compress a video with H.265?",
    ],
)
def test_abstains_with_coverage_and_answerable_suggestions(kb, question):
    answer = answer_question(question, kb=kb)
    assert answer.abstained and answer.task is None and answer.workflow == []
    assert answer.claims, "says what the sources do cover"
    assert 2 <= len(answer.suggestions) <= 3
    for suggestion in answer.suggestions:
        follow_up = answer_question(suggestion, kb=kb)
        assert not follow_up.abstained, suggestion


@pytest.mark.parametrize(
    "question, task",
    [
        ("How do I compress my image classifier?", "depth-reduction"),
        ("What is classifier pruning?", "depth-reduction"),
        ("What is motion deblurring?", "image-deblurring"),
        ("Explain feature upsampling.", "feature-upsampling"),
    ],
)
def test_ambiguous_words_and_definitions_the_cards_cover_are_answered(kb, question, task):
    answer = answer_question(question, kb=kb)
    assert not answer.abstained and answer.task.id == task


@pytest.mark.parametrize(
    "question, named",
    [
        ("What is classifier-free guidance?", "None of the sources mentions classifier-free guidance."),
        (
            "How does SDXL Turbo generate an image in a single sampling step?",
            "None of the sources mentions SDXL Turbo.",
        ),
        ("How do I compress a video with H.265?", None),  # an echoed number would break the grounding rule
    ],
)
def test_abstention_names_what_no_source_mentions(kb, question, named):
    answer = answer_question(question, kb=kb)
    assert answer.abstained
    mentions = [c for c in answer.caveats if c.startswith("None of the sources mentions")]
    assert mentions == ([named] if named else [])


def test_ambiguous_aliases_alone_do_not_put_a_question_in_scope(kb):
    understood = understand("How do I compress a video with H.265?", kb)
    tasks = [s for p in understood.parts for s in p.subjects if s.kind == "task"]
    assert [(s.id, s.how) for s in tasks] == [("depth-reduction", "loosely")]
    assert not understood.in_scope
    understood = understand("What is classifier-free guidance?", kb)
    assert understood.outside_subject == "classifier-free guidance" and not understood.in_scope


def test_empty_question_is_a_user_error(kb):
    with pytest.raises(AgentError, match="empty"):
        answer_question("  \x1b[31m \n", kb=kb)


def test_escape_sequences_are_stripped_from_the_question(kb):
    answer = answer_question("How does \x1b[2J\x1b]0;pwned\x07MSSNet\x1b[31m work?", kb=kb)
    assert "\x1b" not in answer.question and "\x07" not in answer.question
    assert answer.question == "How does MSSNet work?"


def test_text_answer_does_not_import_torch():
    code = (
        "import sys; from agent.compose import answer_question; from agent.render import render_markdown;"
        "a = answer_question('How does MSSNet keep fur detail?'); render_markdown(a);"
        "import agent.commands, agent.chat, agent.demo.result, agent.report;"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_comparison_describes_each_named_source(kb):
    answer = answer_question("Compare MSSNet and FeatSharp: how do they differ?", kb=kb)
    first = answer.direct_answer
    assert {"mssnet", "featsharp"} <= {s for c in first for s in c.sources}
    # each side on the same attribute: what each one is for, from its own card
    stated = {kb.fact(f).source: kb.fact(f).attribute for c in first for f in c.facts}
    assert stated == {"mssnet": "task", "featsharp": "task"}
    _assert_card_text(answer, kb)


def test_named_source_question_stays_on_topic(kb):
    answer = answer_question("Why does MSSNet need the input to be a multiple of 16?", kb=kb)
    assert answer.direct_answer[0].facts == ["mssnet.multiple-of-16"]  # the point asked comes first
    shown = [f for c in answer.direct_answer + answer.claims for f in c.facts]
    assert "mssnet.identity" not in shown  # no biography for a narrow question
    assert not answer.workflow and not answer.long_form


def test_claims_about_side_sources_name_them(founding, kb):
    """A FeatSharp or EASIER fact must not read as if it were about the recommended MSSNet."""
    side = [c for c in founding.claims if c.sources != ["mssnet"]]
    assert side, "the founding answer should draw on the related sources too"
    for claim in side:
        names = [kb.sources[s].name.lower() for s in claim.sources]
        assert any(n in claim.text.lower() for n in names), claim.text


@pytest.mark.parametrize(
    "question, fact_id",
    [
        ("Which networks was EASIER tested on?", "easier.models-datasets"),
        ("How does EASIER decide which layer to linearise first?", "easier.procedure easier.entropy-metric"),
        ("MSSNet small versus large: what changes?", "mssnet.configurations mssnet.configs"),
    ],
)
def test_the_direct_answer_is_the_fact_with_the_asked_facet_not_the_summary(question, fact_id, kb):
    """The lead is a fact (or a table computed from) that states the asked point, not the summary."""
    answer = answer_question(question, kb=kb)
    assert answer.direct_answer[0].facts[0] in fact_id.split()
    assert not any(f.endswith((".task", ".identity")) for c in answer.direct_answer for f in c.facts)


def test_a_size_goal_gets_the_keeps_size_answer(kb):
    """A thumbnail to a poster is enlargement: MSSNet keeps the size, so enlarging comes first."""
    answer = answer_question("Can I use this to turn a 500 pixel thumbnail into a poster-sized print?", kb=kb)
    assert answer.direct_answer[0].facts == ["mssnet.keeps-size"]


def test_a_job_no_card_describes_is_not_answered_as_another_task(kb):
    """No card describes noise removal: the lead says so with the not-known fact, never another task's."""
    answer = answer_question("How do I remove noise from a night photo?", kb=kb)
    lead = answer.direct_answer[0]
    assert lead.text.startswith("The sources don't say") and "noise" in lead.text
    assert all(kb.fact(f).kind == "not-known" for f in lead.facts)
    assert answer_question("How do I fix a shaky picture?", kb=kb).abstained is False


@pytest.mark.parametrize(
    "question, name",
    [
        ("Photoshop can sharpen my dog photo too, right?", "Photoshop"),
        ("Midjourney upscales cat photos, is it better than these?", "Midjourney"),
        ("Can Midjourney upscale my cat photo better than these?", "Midjourney"),
    ],
)
def test_an_outside_product_is_named_as_not_among_the_sources_even_opening_the_sentence(question, name, kb):
    answer = answer_question(question, kb=kb)
    assert answer.not_covered[0].startswith(f"{name} is not among the sources")
    assert not any("MSSNet is not among" in line for line in answer.not_covered)


def test_a_sentence_opened_by_a_source_or_a_verb_names_nothing_outside(kb):
    for question in ("MSSNet can deblur my photo?", "Upscaling my photo: what does MSSNet do?"):
        assert answer_question(question, kb=kb).not_covered == []


def test_a_runtime_the_sources_lack_is_said_missing_with_the_nearest_facts(kb):
    answer = answer_question("How long does MSSNet-large take per image on a GPU?", kb=kb)
    assert answer.direct_answer[0].facts == ["mssnet.runtime-unknown"]  # the runtime's own not-known fact
    assert not any(c.text.startswith("Output:") for c in answer.direct_answer)


def test_each_part_of_a_multi_part_question_gets_its_direct_answer(kb):
    answer = answer_question(
        "Does DataCrafter use Stable Diffusion, and what tasks was it evaluated on?", kb=kb
    )
    facts = [f for c in answer.direct_answer for f in c.facts]
    assert facts == ["datacrafter.stable-diffusion", "datacrafter.evaluation"]


def test_how_the_ai_does_a_described_enlargement_in_few_steps_is_the_founding_kind(kb):
    question = (
        "I blew up a tiny picture of my rabbit and the whiskers came back sharp. "
        "How does the AI do this in so few steps?"
    )
    answer = answer_question(question, kb=kb)
    assert answer.long_form and answer.task is not None and answer.task.id == "super-resolution"
    assert [s.stage for s in answer.workflow][:1] == ["input"]
    assert {s.id for s in answer.sources} == set(kb.sources)


def test_scores_the_cards_do_give_are_not_called_missing():
    """EASIER's card says only the appendix accuracies are known: those accuracies still answer."""
    answer = answer_question("What is EASIER's accuracy on CIFAR-10 with ResNet-18 after removing 8 layers?")
    lead = answer.direct_answer[0].text
    assert "92.10" in lead and "don't give" not in lead
    missing = answer_question("What PSNR does MSSNet reach on GoPro?")
    assert missing.direct_answer[0].facts == ["mssnet.results-unknown"]  # said missing, by its fact
