"""Compose an Answer from retrieved facts only.

The text of every claim, workflow step and caveat is a fact's own text (or a task/capability
description from the cards) joined by a few fixed words; no numbers, titles or URLs are ever
written here. The grounding validator then checks the result against the cards.
"""

from __future__ import annotations

import logging
import re

from agent.analysis import QuestionAnalysis, analyse, normalise, phrase_in
from agent.answer import WORKFLOW_STAGES, Answer, Claim, SourceRef, TaskRef, WorkflowStep
from agent.answers import answer_parts
from agent.errors import AgentError
from agent.grounding import check_grounded, redact_urls
from common.textsafe import clean_line
from knowledge.lang.language import language
from knowledge.schema import ROLE_ORDER
from knowledge.understand import understand

log = logging.getLogger(__name__)

MAX_EVIDENCE_CLAIMS = 5
MAX_TOPIC_CLAIMS = 4
# Tags that organise the cards rather than name a topic a person would mention.
_STRUCTURAL_TAGS = ("task:", "misconception:", "relevance", "workflow", "bibliography")
MAX_CAVEATS = 4


def load_default_kb(cards_dir=None):
    """The cards in `cards_dir` (--cards-dir), else $EXPLAINER_CARDS, else the packaged ones."""
    from knowledge import load_knowledge

    return load_knowledge(cards_dir)


def default_retriever(kb, dense=True):
    """BM25 + MiniLM by default (the torch-free embedder loads in about 0.4 s; start it early with
    knowledge.embed.preload()); BM25 alone when it cannot load or `dense` is False.

    knowledge.search.EvidenceSearch has the same assess() as the langchain EvidenceRetriever
    without importing langchain (about 0.5 s), which matters for `ask`'s start-up.
    """
    try:
        from knowledge.search import EvidenceSearch

        return EvidenceSearch(kb=kb, dense=dense)
    except ImportError:
        from knowledge.retriever import EvidenceRetriever

        return EvidenceRetriever(kb=kb, dense=dense)


def answer_question(
    question: str,
    kb=None,
    retriever=None,
    demo=None,
    long: bool = False,
    context: list[str] | None = None,
    picture: bool = False,
) -> Answer:
    """Answer `question` from the knowledge cards; attach `demo` (an agent.demo.DemoReport) if given.

    The answer opens with a short direct answer per part of the question; a narrow question gets
    only what supports it, the founding kind (and `long`) the full task / workflow / papers form.
    `context`: the sources a conversation is about, so "Who wrote it?" has a subject;
    `picture`: a picture is attached, so "it", "this" and "my photo" mean it.
    """
    text = clean_line(question or "")
    if not text:
        raise AgentError(
            'the question is empty: type a question, e.g. explainer ask "What does the recommended model do?"'
        )
    kb = kb if kb is not None else load_default_kb()
    retriever = retriever if retriever is not None else default_retriever(kb)
    assessment = retriever.assess(text)
    analysis = analyse(text, kb, assessment, context=context)
    return compose_answer(
        text, analysis, assessment, kb, retriever, demo=demo, long=long, context=context, picture=picture
    )


def compose_answer(
    text: str,
    analysis: QuestionAnalysis,
    assessment,
    kb,
    retriever,
    demo=None,
    long: bool = False,
    context: list[str] | None = None,
    picture: bool = False,
) -> Answer:
    echo = redact_urls(text, kb)
    understanding = understand(text, kb, context=context, picture=picture)
    parts = answer_parts(understanding, kb)
    not_covered = list(dict.fromkeys(line for p in parts for line in p.not_covered))
    in_context = any(p.inherited for p in analysis.parts)
    own_question = _is_prompt_question(text, kb)  # the imported prompt's own question: its full answer
    if own_question:
        _task_of_the_prompt(analysis, kb)
        analysis.broad = True
    firm = any(  # a part about a source, this tool or the picture, named or pointed at
        s.kind in ("source", "tool", "picture") and s.how not in ("evidence", "loose-task")
        for p in parts
        for s in p.part.subjects
    )
    if not own_question and (
        (_out_of_scope(analysis, assessment) and not in_context and not firm)
        or not any(p.answered for p in parts)
        and not analysis.broad
    ):
        answer = _abstain(echo, analysis, assessment, kb)
        answer.not_covered = not_covered or answer.not_covered
    elif long or analysis.broad:
        answer = _compose(echo, analysis, assessment, kb)
        answer.long_form = True
        _put_direct_first(answer, parts, kb, founding=own_question)
        answer.not_covered = not_covered
    else:
        answer = _narrow(echo, analysis, parts, kb)
        answer.not_covered = not_covered
    answer.loaded_sources = kb.names()
    if answer.recommended is None and not answer.abstained:
        cited = (s for c in answer.direct_answer + answer.claims for s in c.sources if s in kb.sources)
        answer.recommended = next(cited, None)
    answer.about_picture = _about_picture(understanding, kb) if picture else None
    answer.trace = understanding.trace()
    answer.caveats = _reading_notes(understanding) + answer.caveats
    answer.demo_hint = (
        "run-it" in analysis.intents and bool(answer.recommended) and kb.runnable(answer.recommended)
    )
    _list_shown_urls(answer, kb)
    _drop_ungrounded(answer, kb)
    if demo is not None:
        attach_demo(answer, demo)
    return answer


def _about_picture(understanding, kb) -> bool | None:
    """The question concerns the attached picture: it points at it ("it", "my photo"); it does
    not when it is only about sources this program cannot run; else undecided (the demo runs)."""
    if understanding.about_picture:
        return True
    named = [s for p in understanding.parts for s in p.subjects if s.how == "named" and s.kind == "source"]
    if named and not any(kb.runnable(s.id) for s in named):
        return False
    return None


def demo_refusal(answer, kb) -> str | None:
    """Why the live demo does not run for this answer, or None when it does: the demo runs only a
    network the cards mark runnable (MSSNet today), and only when the answer recommends it."""
    runnable = [sid for sid in kb.sources if kb.runnable(sid)]
    if not runnable:
        return (
            "no live demo: none of the loaded sources has a network this program can run "
            f"({', '.join(kb.names())})"
        )
    if answer.recommended and not kb.runnable(answer.recommended):
        name = kb.sources[answer.recommended].name if answer.recommended in kb.sources else answer.recommended
        return (
            f"no live demo: the answer recommends {name}, which this program cannot run "
            f"(it runs {', '.join(kb.sources[s].name for s in runnable)} only)"
        )
    return None


def _narrow(echo: str, analysis: QuestionAnalysis, parts, kb) -> Answer:
    """Answer first, then only what supports it: the parts' direct answers, their supporting facts,
    the caveats in play and the sources cited."""
    direct = [c for p in parts for c in p.direct]
    claims = []
    for fact in (f for p in parts for f in p.support):
        claims.append(Claim(text=_whose(fact, kb), sources=[fact.source], facts=[fact.id]))
    caveats = [f.text for p in parts for f in p.caveats]
    task = kb.tasks.get(analysis.task_id) if analysis.task_id else None
    cited = [s for c in direct + claims for s in c.sources]
    return Answer(
        question=echo,
        abstained=False,
        direct_answer=direct,
        task=TaskRef(id=task.id, label=task.label) if task else None,
        claims=claims,
        caveats=list(dict.fromkeys(caveats))[:MAX_CAVEATS],
        sources=_source_refs(kb, cited),
    )


def _whose(fact, kb) -> str:
    """The fact's text, saying whose it is when the text does not."""
    name = kb.described(fact.source).name
    if name.lower() in fact.text.lower() or fact.source not in kb.sources:
        return fact.text
    labelled = re.match(r"[A-Z][a-z]+(?: [a-z]+)?: ", fact.text)
    return f"{name} — {fact.text}" if labelled else f"{name}: {fact.text}"


def _put_direct_first(answer: Answer, parts, kb, founding: bool = False) -> None:
    """The full form opens with the direct answer too: the parts' answers, or (for the founding
    kind, and the prompt's own question) the task line and the claims that correct the question's
    premise."""
    direct = [c for p in parts for c in p.direct]
    if not direct or founding or all(_unnamed_how(p.part) for p in parts):
        lead = [c for c in answer.claims if c.section == "task"][:2]
        lead += [c for c in answer.claims if c.section == "correction"][:1]
        direct = [c.model_copy(update={"section": "direct"}) for c in lead]
    answer.direct_answer = direct
    sources = {r.id for r in answer.sources}
    for c in direct:
        for sid in c.sources:
            if sid not in sources:
                answer.sources += _source_refs(kb, [sid])
                sources.add(sid)


def _reading_notes(understanding) -> list[str]:
    """How the question was read, when that is not plain: another language, a long question cut."""
    lang = language()
    notes = []
    if understanding.language != "en":
        name = lang.languages.names.get(understanding.language, understanding.language)
        notes.append(lang.frame("other-language", language=name))
    if understanding.shortened:
        notes.append(lang.frame("long-question", count=len(understanding.parts)))
    return notes


def _unnamed_how(part) -> bool:
    """The founding kind, or a "how does it work" part that names no source: the task lines lead."""
    unnamed = all(s.how != "named" or s.kind == "task" for s in part.subjects)
    return part.kind == "overview" or part.kind == "mechanism" and unnamed


def attach_demo(answer: Answer, demo) -> Answer:
    """Put a demo's artefacts beside the claims they illustrate (measurements stay in the demo section)."""
    answer.demo = demo
    answer.illustrations = _illustrations(answer)
    return answer


# -- scope -----------------------------------------------------------------------------------------


def _is_prompt_question(text: str, kb) -> bool:
    """The question of the prompt the cards were made for: the sources answer it by construction."""
    question = getattr(kb, "question", None)
    return isinstance(question, str) and bool(question) and normalise(text) == normalise(question)


def _task_of_the_prompt(analysis: QuestionAnalysis, kb) -> None:
    """The prompt's own question: the task its recommended model is for, unless the question's
    words name another task that model serves."""
    for sid in kb.recommended():
        serves = {c.task for c in kb.capabilities if c.source == sid}
        if analysis.task_id in serves and analysis.task_reason == "alias":
            return
        cap = _best_capability(kb, sid)
        if cap is not None:
            analysis.task_id, analysis.task_reason = cap.task, "prompt"
            return


def _out_of_scope(analysis: QuestionAnalysis, assessment) -> bool:
    if analysis.named_sources:
        return False  # they asked about one of our sources by name
    if analysis.unknown_subject:
        return True  # "How does <something outside the sources> ..."
    if analysis.firm_alias_hits:
        return False  # they described a task the sources serve
    if analysis.unknown_names:
        return True  # about named things no card mentions, and no task words
    return not assessment.covered


def _abstain(echo: str, analysis: QuestionAnalysis, assessment, kb) -> Answer:
    ranked = [s for s in assessment.sources_ranked if s in kb.sources] or list(kb.sources)
    claims = []
    for sid in ranked:
        cap = _best_capability(kb, sid)
        if cap is None:
            continue
        task = kb.tasks.get(cap.task)
        label = task.label if task else cap.task
        claims.append(
            Claim(
                text=f"What the sources do cover: {kb.sources[sid].name} — {label.lower()}"
                f" ({cap.input} → {cap.output}).",
                sources=[sid],
            )
        )
    # The wording assumed something the sources do speak to (e.g. sampling steps): say what they say.
    for m in analysis.misconceptions:
        fact = next(iter(_tagged(kb, f"misconception:{m}", prefer=ranked[0] if ranked else None)), None)
        if fact is not None:
            claims.append(Claim(text=fact.text, sources=[fact.source], facts=[fact.id]))
    caveats = [
        "The question is outside what the provided sources cover, and I do not answer from outside knowledge."
    ]
    missing = _missing_subject(analysis)
    if missing:
        caveats.insert(0, f"None of the sources mentions {missing}.")
    answer = Answer(
        question=echo,
        abstained=True,
        claims=claims,
        caveats=caveats,
        suggestions=_suggestions(kb, ranked),
        loaded_sources=kb.names(),
        not_covered=[f"None of the sources mentions {missing}."] if missing else [],
    )
    answer.sources = _source_refs(kb, [s for c in claims for s in c.sources])
    return answer


def _missing_subject(analysis: QuestionAnalysis) -> str | None:
    """What the question is about that no card mentions, in the person's words, when it can be said
    without a number (an answer shows no number the cards do not hold, even an echoed one)."""
    subject = analysis.unknown_subject or " ".join(analysis.unknown_names[:3])
    subject = clean_line(subject).strip(" .?!")
    if not subject or any(c.isdigit() for c in subject) or len(subject.split()) > 4:
        return None
    return subject


def _suggestions(kb, ranked: list[str]) -> list[str]:
    """Questions the sources can answer: each names a source, so it is never out of scope."""
    out = []
    for sid in ranked[:3]:
        cap = _best_capability(kb, sid)
        name = kb.sources[sid].name
        if cap is not None and cap.task in kb.tasks:
            out.append(f"How does {name} work for {kb.tasks[cap.task].label.lower()}, from input to output?")
        else:
            out.append(f"What does {name} do, and where are its paper and code?")
    return out


# -- composition -----------------------------------------------------------------------------------


def _compose(echo: str, analysis: QuestionAnalysis, assessment, kb) -> Answer:
    task = kb.tasks.get(analysis.task_id) if analysis.task_id else None
    caps = _capabilities_for(kb, analysis)
    recommended = (
        caps[0].source if caps else (analysis.named_sources or assessment.sources_ranked or [None])[0]
    )

    claims: list[Claim] = []
    used_facts: set[str] = set()

    def add(fact, section: str = "support") -> None:
        text = fact.text
        name = kb.sources[fact.source].name
        # a fact about a side source must say whose it is, or it reads as one about the main model
        if fact.source != recommended and name.lower() not in text.lower():
            labelled = re.match(
                r"[A-Z][a-z]+(?: [a-z]+)?: ", text
            )  # "Cost: ..." must not read "FeatSharp: Cost:"
            text = f"{name} — {text}" if labelled else f"{name}: {text}"
        claims.append(Claim(text=text, sources=[fact.source], facts=[fact.id], section=section))
        used_facts.add(fact.id)

    if task is not None and caps:
        cap = caps[0]
        claims.append(
            Claim(
                text=f"Your task: {task.label.lower()}. {task.description}",
                sources=[cap.source],
                section="task",
            )
        )
        role = language().frame(f"role-{cap.role}")
        line = f"{kb.sources[cap.source].name} {role}: it takes {cap.input} and returns {cap.output}."
        if cap.note:
            line += f" {cap.note}"
        claims.append(Claim(text=line, sources=[cap.source], section="task"))
    if analysis.task_reason == "alias":  # they described their task in their own words: say how it fits
        for fact in _task_facts(kb, analysis.task_id, recommended):
            add(fact, "task")
    # a comparison: what each other named source is for, from its own card
    if "comparison" in analysis.intents:
        for sid in analysis.named_sources:
            if sid == recommended:  # its own side of the comparison, not only the task lines
                lead = _lead_fact(kb, sid, analysis.task_id)
                if lead is not None and lead.id not in used_facts:
                    add(lead)
                continue
            other = _best_capability(kb, sid)
            if other is None:
                continue
            other_task = kb.tasks.get(other.task)
            label = other_task.label.lower() if other_task else other.task
            claims.append(
                Claim(
                    text=f"{kb.sources[sid].name}, by contrast, is for {label}: it takes "
                    f"{other.input} and returns {other.output}.",
                    sources=[sid],
                    section="comparison",
                )
            )
            lead = _lead_fact(kb, sid, other.task)
            if lead is not None and lead.id not in used_facts:
                add(lead, "comparison")
    # other sources that serve the task, less directly: what they do not do explains the choice
    # (packaged MSSNet keeps the size when an imported model enlarges x4)
    for other in caps[1:] if task is not None else []:
        if task is None or other.role == "related" or other.source == recommended:
            continue
        contrast = next(
            (f for f in kb.facts_for(other.source) if f.kind == "does-not" and f"task:{task.id}" in f.tags),
            None,
        )
        if contrast is not None and contrast.id not in used_facts:
            add(contrast, "task")

    # Misconceptions come early: correct the premise before explaining on top of it.
    corrections = [
        f for m in analysis.misconceptions for f in _tagged(kb, f"misconception:{m}", prefer=recommended)
    ]
    for fact in corrections:
        if fact.source == recommended and fact.id not in used_facts:
            add(fact, "correction")

    workflow_facts = list(kb.workflow(recommended)) if recommended else []
    workflow_ids = {f.id for f in workflow_facts}
    relevant_sources = _relevant_sources(analysis, assessment, recommended)

    # Facts whose topic tags the person used ("high-frequency", "fur", "stages"), then the
    # retriever's best evidence: both only from the sources in play.
    for fact in _topic_facts(kb, analysis.question, relevant_sources)[:MAX_TOPIC_CLAIMS]:
        if fact.id not in used_facts and fact.id not in workflow_ids:
            add(fact)
    n_evidence = 0
    for ev in assessment.evidence:
        if n_evidence >= MAX_EVIDENCE_CLAIMS:
            break
        fact = _fact(kb, ev.fact_id)
        if fact is None or fact.id in used_facts or fact.kind == "not-known":
            continue
        if fact.source not in relevant_sources or fact.id in workflow_ids:
            continue
        if fact.workflow and fact.source != recommended:
            continue  # another source's workflow step reads wrongly outside its workflow
        add(fact)
        n_evidence += 1
    # how the other sources stand on the same misconception, after the main explanation
    for fact in corrections:
        if fact.id not in used_facts:
            add(fact)

    listed = _listed_sources(analysis, kb, caps, recommended)
    why: dict[str, str] = {}
    for sid in listed:
        fact = next(iter(_tagged(kb, "relevance", source=sid)), None)
        if fact is None:
            continue
        why[sid] = fact.text
        if fact.id not in used_facts:
            claims.append(Claim(text=fact.text, sources=[sid], facts=[fact.id], section="relevance"))
            used_facts.add(fact.id)

    workflow = [
        WorkflowStep(stage=f.workflow, text=f.text, sources=[f.source], passes=f.passes or _passes(f, kb))
        for f in workflow_facts
        if f.workflow in WORKFLOW_STAGES
    ]
    caveats = _caveats(kb, analysis, assessment, recommended, used_facts)

    cited = [s for c in claims for s in c.sources] + [s for w in workflow for s in w.sources] + listed
    return Answer(
        question=echo,
        abstained=False,
        task=TaskRef(id=task.id, label=task.label) if task else None,
        workflow=workflow,
        claims=claims,
        caveats=caveats,
        sources=_source_refs(kb, cited),
        why=why,
        recommended=recommended,
    )


def _passes(fact, kb) -> str | None:
    """An edge label for a card that has none (an imported one): what its capability takes in, or
    returns, for the input and model stages."""
    cap = _best_capability(kb, fact.source)
    if cap is None:
        return None
    return {"input": cap.input, "model": cap.output}.get(fact.workflow)


def _capabilities_for(kb, analysis: QuestionAnalysis):
    """Capabilities serving the task: a source the person named first, then by role."""
    if not analysis.task_id:
        return [c for c in kb.capabilities if c.source in analysis.named_sources and c.role == "primary"]
    caps = [c for c in kb.capabilities if c.task == analysis.task_id]
    recommended = kb.recommended() if hasattr(kb, "recommended") else []
    # the prompt's recommended model leads among sources that serve the task equally
    return sorted(
        caps,
        key=lambda c: (
            c.source not in analysis.named_sources,
            ROLE_ORDER[c.role],
            c.source not in recommended,
        ),
    )


def _best_capability(kb, source_id):
    caps = [c for c in kb.capabilities if c.source == source_id]
    return min(caps, key=lambda c: ROLE_ORDER[c.role], default=None)


def _lead_fact(kb, source_id, task_id):
    """What a source says first about a task: a fact tagged with it, else its first summary fact."""
    facts = [
        f
        for f in kb.facts_for(source_id)
        if f.kind == "fact" and not f.workflow and "bibliography" not in f.tags
    ]
    return next(
        (f for f in facts if f"task:{task_id}" in f.tags),
        next((f for f in facts if "summary" in f.tags), None),
    )


def _task_facts(kb, task_id, source_id):
    """Facts tagged with the task, from the recommended source (why it fits, what it does not do)."""
    if not task_id or not source_id:
        return []
    return [
        f
        for f in kb.facts_for(source_id)
        if f"task:{task_id}" in f.tags and f.kind != "not-known" and not f.workflow
    ][:2]


def _topic_facts(kb, question: str, source_ids: set[str]):
    """Facts of the given sources whose topic tags appear in the question, most tags first."""
    q = normalise(question)
    scored = []
    for fact in kb.facts:
        if fact.source not in source_ids or fact.kind == "not-known":
            continue
        topics = [t for t in fact.tags if not t.startswith(_STRUCTURAL_TAGS)]
        hits = sum(1 for t in topics if phrase_in(t.replace("-", " "), q))
        if hits:
            scored.append((-hits, fact.id, fact))
    return [f for _, _, f in sorted(scored, key=lambda x: (x[0], x[1]))]


def _tagged(kb, tag, prefer=None, source=None):
    facts = [f for f in kb.facts if tag in f.tags and (source is None or f.source == source)]
    return sorted(facts, key=lambda f: f.source != prefer)


def _fact(kb, fact_id):
    try:
        return kb.fact(fact_id)
    except Exception as exc:  # noqa: BLE001 - evidence for a fact the kb no longer has: skip it
        log.debug("fact %s is not in the cards (%s): skipped", fact_id, exc)
        return None


def _relevant_sources(analysis: QuestionAnalysis, assessment, recommended) -> set[str]:
    sources = set(analysis.named_sources)
    if recommended:
        sources.add(recommended)
    if not analysis.named_sources and "comparison" in analysis.intents:
        sources.update(assessment.sources_ranked[:2])
    return sources


def _listed_sources(analysis: QuestionAnalysis, kb, caps, recommended) -> list[str]:
    """Which sources get a 'why it matters' line: all of them for a broad question, else the ones in play."""
    wide = not analysis.named_sources and (
        "papers" in analysis.intents
        or analysis.misconceptions
        or {"workflow", "how-it-works"} <= set(analysis.intents)
    )
    ids = list(kb.sources) if wide else [c.source for c in caps[:2]]
    if recommended and recommended not in ids:
        ids.insert(0, recommended)
    ids += [s for s in analysis.named_sources if s not in ids]
    return [s for s in dict.fromkeys(ids) if s in kb.sources]


def _caveats(kb, analysis, assessment, recommended, used_facts) -> list[str]:
    """What the sources do not say or do: not-known facts in play, then unused does-not facts."""
    in_play = [s for s in dict.fromkeys([recommended, *analysis.named_sources]) if s]
    evidence_ids = [ev.fact_id for ev in assessment.evidence]
    candidates = [_fact(kb, fid) for fid in evidence_ids]
    candidates += [f for sid in in_play for f in kb.facts_for(sid)]
    picked: list[str] = []
    for fact in candidates:
        if fact is None or fact.source not in in_play or fact.id in used_facts:
            continue
        if fact.kind == "not-known" or (
            fact.kind == "does-not"
            and (fact.id in evidence_ids or not analysis.task_id or f"task:{analysis.task_id}" in fact.tags)
        ):
            picked.append(fact.text)
    return list(dict.fromkeys(picked))[:MAX_CAVEATS]


def _source_refs(kb, source_ids) -> list[SourceRef]:
    """One entry per URL shown: each source's paper and code links (its best link if neither)."""
    refs: list[SourceRef] = []
    for sid in dict.fromkeys(source_ids):
        src = kb.sources.get(sid)
        if src is None:
            continue
        urls = [u for u in (src.links.paper, src.links.code) if u] or [u for u in src.urls()[:1]]
        refs += [SourceRef(id=sid, title=src.title, url=u) for u in urls]
    return refs


def _list_shown_urls(answer: Answer, kb) -> None:
    """A card text may carry a link (e.g. "code at https://..."): list it under its source."""
    from agent.grounding import URL_RE

    owner = {u.rstrip("/"): sid for sid, src in kb.sources.items() for u in src.urls()}
    listed = {s.url.rstrip("/") for s in answer.sources}
    texts = [c.text for c in answer.direct_answer + answer.claims] + [w.text for w in answer.workflow]
    texts += answer.caveats
    for url in (u.rstrip(".,;:!?") for t in texts for u in URL_RE.findall(t)):
        sid = owner.get(url.rstrip("/"))
        if sid is not None and url.rstrip("/") not in listed:
            answer.sources.append(SourceRef(id=sid, title=kb.sources[sid].title, url=url))
            listed.add(url.rstrip("/"))


# artefact -> words that make a claim about it; each artefact sits beside its best few claims
_ARTEFACT_WORDS = {
    "stages": ("stage", "coarse", "scale"),
    "spectrum": ("frequen", "spectrum", "fft", "fourier"),
    "crops": ("fur", "texture", "detail", "sharp", "restor"),
}
MAX_CLAIMS_PER_ARTEFACT = 2


def _illustrations(answer: Answer) -> dict[int, list[str]]:
    """Which demo artefact shows each claim on the person's own picture (the demo model's claims only)."""
    out: dict[int, list[str]] = {}
    # only claims the claim list shows: the task section and the direct answers are rendered apart
    hidden = {c.text for c in answer.direct_answer}
    for name, words in _ARTEFACT_WORDS.items():
        scored = []
        for i, claim in enumerate(answer.claims):
            if answer.recommended not in claim.sources:  # the demo ran the recommended model
                continue
            if claim.text in hidden or (claim.section in ("task", "comparison") and not answer.abstained):
                continue
            text = claim.text.lower()
            hits = sum(text.count(w) for w in words)
            if hits:
                scored.append((-hits, i))
        for _, i in sorted(scored)[:MAX_CLAIMS_PER_ARTEFACT]:
            out.setdefault(i, []).append(name)
    return out


def _drop_ungrounded(answer: Answer, kb) -> None:
    """Last gate: remove any item the validator refuses (it cannot come from the cards)."""
    bad = check_grounded(answer, kb)
    if not bad:
        return
    drop = {(v.where.field, v.where.index) for v in bad}
    for name in ("direct_answer", "claims", "workflow", "caveats", "not_covered", "suggestions", "sources"):
        items = getattr(answer, name)
        setattr(answer, name, [x for i, x in enumerate(items) if (name, i) not in drop])
    if answer.task is not None and ("task", None) in drop:
        answer.task = None
