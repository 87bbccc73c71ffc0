"""The full form of an answer: the task the person is doing, the recommended model's input ->
model -> output workflow, the supporting facts, caveats, and the papers and tools with why each
matters. Every sentence is a card fact or built from card fields."""

from __future__ import annotations

import logging

from agent.analysis import QuestionAnalysis, normalise, phrase_in
from agent.answer import WORKFLOW_STAGES, Answer, Claim, TaskRef, WorkflowStep
from agent.answer_links import source_refs
from agent.answers.context import whose
from knowledge.lang.language import language
from knowledge.schema import ROLE_ORDER

log = logging.getLogger(__name__)

MAX_EVIDENCE_CLAIMS = 5
MAX_TOPIC_CLAIMS = 4
# Tags that organise the cards rather than name a topic a person would mention.
_STRUCTURAL_TAGS = ("task:", "misconception:", "relevance", "workflow", "bibliography")
MAX_CAVEATS = 4


def compose_long(echo: str, analysis: QuestionAnalysis, assessment, kb) -> Answer:
    task = kb.tasks.get(analysis.task_id) if analysis.task_id else None
    caps = _capabilities_for(kb, analysis)
    recommended = (
        caps[0].source if caps else (analysis.named_sources or assessment.sources_ranked or [None])[0]
    )

    claims: list[Claim] = []
    used_facts: set[str] = set()

    def add(fact, section: str = "support") -> None:
        # a fact about a side source must say whose it is, or it reads as one about the main model
        text = whose(fact, kb, language()) if fact.source != recommended else fact.text
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
            other = best_capability(kb, sid)
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
        f for m in analysis.misconceptions for f in tagged(kb, f"misconception:{m}", prefer=recommended)
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
        fact = next(iter(tagged(kb, "relevance", source=sid)), None)
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
        sources=source_refs(kb, cited),
        why=why,
        recommended=recommended,
    )


def _passes(fact, kb) -> str | None:
    """An edge label for a card that has none (an imported one): what its capability takes in, or
    returns, for the input and model stages."""
    cap = best_capability(kb, fact.source)
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


def best_capability(kb, source_id):
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


def tagged(kb, tag, prefer=None, source=None):
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
