"""The full form of an answer: the task the person is doing, the recommended model's input ->
model -> output workflow, the supporting facts, caveats, and the papers and tools with why each
matters. Every sentence is a card fact or built from card fields."""

from __future__ import annotations

from agent.answer import WORKFLOW_STAGES, Answer, Claim, TaskRef, WorkflowStep
from agent.answer_links import source_refs
from agent.answers.context import whose
from knowledge.lang.language import language
from knowledge.parts import Understanding
from knowledge.schema import ROLE_ORDER
from knowledge.text import phrase_in

MAX_EVIDENCE_CLAIMS = 5
MAX_TOPIC_CLAIMS = 4
# Tags that organise the cards rather than name a topic a person would mention.
_STRUCTURAL_TAGS = ("task:", "misconception:", "relevance", "workflow", "bibliography")
MAX_CAVEATS = 4
EVIDENCE_DEPTH = 8  # the best-ranked facts the full form draws support and caveats from


def compose_long(echo: str, u: Understanding, kb) -> Answer:
    task = kb.tasks.get(u.task) if u.task else None
    caps = _capabilities_for(kb, u)
    ranked_sources = [s for s in u.sources_ranked if s in kb.sources]
    recommended: str | None = caps[0].source if caps else next(iter(u.named_sources or ranked_sources), None)

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
    if u.task_how in ("named", "loosely"):  # they described their task in their own words: say how it fits
        for fact in _task_facts(kb, u.task, recommended):
            add(fact, "task")
    # a comparison: what each other named source is for, from its own card
    if any(p.kind == "comparison" for p in u.parts):
        for sid in u.named_sources:
            if sid == recommended:  # its own side of the comparison, not only the task lines
                lead = _lead_fact(kb, sid, u.task)
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
    lang = language()
    corrections = [
        f for m in u.premises for f in tagged(kb, lang.misconceptions[m].corrected_by, prefer=recommended)
    ]
    for fact in corrections:
        if fact.source == recommended and fact.id not in used_facts:
            add(fact, "correction")

    workflow_facts = list(kb.workflow(recommended)) if recommended else []
    workflow_ids = {f.id for f in workflow_facts}
    relevant_sources = _relevant_sources(u, ranked_sources, recommended)
    if recommended and not u.named_sources and not _says_anything(kb, recommended):
        # a recommended model with links only: the sources serving its task say how it is done
        relevant_sources |= {c.source for c in caps if c.role == "primary"}

    # Facts whose topic tags the person used ("high-frequency", "fur", "stages"), then the
    # retriever's best evidence: both only from the sources in play.
    for fact in _topic_facts(kb, u.question, relevant_sources)[:MAX_TOPIC_CLAIMS]:
        if fact.id not in used_facts and fact.id not in workflow_ids:
            add(fact)
    n_evidence = 0
    for ranked in u.evidence[:EVIDENCE_DEPTH]:
        if n_evidence >= MAX_EVIDENCE_CLAIMS:
            break
        fact = ranked.fact
        if fact.id in used_facts or fact.kind == "not-known":
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

    listed = _listed_sources(u, kb, caps, recommended)
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
    caveats = _caveats(kb, u, recommended, used_facts)

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


def _capabilities_for(kb, u: Understanding):
    """Capabilities serving the task: a source the person named first, then by role."""
    if not u.task:
        return [c for c in kb.capabilities if c.source in u.named_sources and c.role == "primary"]
    caps = [c for c in kb.capabilities if c.task == u.task]
    recommended = kb.recommended() if hasattr(kb, "recommended") else []
    # the prompt's recommended model leads among sources that serve the task equally
    return sorted(
        caps,
        key=lambda c: (
            c.source not in u.named_sources,
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
    scored = []
    for fact in kb.facts:
        if fact.source not in source_ids or fact.kind == "not-known":
            continue
        topics = [t for t in fact.tags if not t.startswith(_STRUCTURAL_TAGS)]
        hits = sum(1 for t in topics if phrase_in(t.replace("-", " "), question))
        if hits:
            scored.append((-hits, fact.id, fact))
    return [f for _, _, f in sorted(scored, key=lambda x: (x[0], x[1]))]


def tagged(kb, tag, prefer=None, source=None):
    facts = [f for f in kb.facts if tag in f.tags and (source is None or f.source == source)]
    return sorted(facts, key=lambda f: f.source != prefer)


def _says_anything(kb, source_id: str) -> bool:
    """The source's card says something beyond its links, its workflow and what is not known."""
    return any(
        f.kind != "not-known" and not f.workflow and not {"bibliography", "relevance"} & set(f.tags)
        for f in kb.facts_for(source_id)
    )


def _relevant_sources(u: Understanding, ranked_sources: list[str], recommended) -> set[str]:
    sources = set(u.named_sources)
    if recommended:
        sources.add(recommended)
    if not u.named_sources and any(p.kind == "comparison" for p in u.parts):
        sources.update(ranked_sources[:2])
    return sources


def _listed_sources(u: Understanding, kb, caps, recommended) -> list[str]:
    """Which sources get a 'why it matters' line: all of them for a broad question (the founding
    kind, or one asking for papers or the whole workflow), else the ones in play."""
    wide = not u.named_sources and (
        u.broad or "papers" in u.requests or {"workflow", "how-it-works"} <= set(u.requests)
    )
    ids = list(kb.sources) if wide else [c.source for c in caps[:2]]
    if recommended and recommended not in ids:
        ids.insert(0, recommended)
    ids += [s for s in u.named_sources if s not in ids]
    return [s for s in dict.fromkeys(ids) if s in kb.sources]


def _caveats(kb, u: Understanding, recommended, used_facts) -> list[str]:
    """What the sources do not say or do: not-known facts in play, then unused does-not facts."""
    in_play = [s for s in dict.fromkeys([recommended, *u.named_sources]) if s]
    evidence_ids = [r.fact.id for r in u.evidence[:EVIDENCE_DEPTH]]
    candidates = [r.fact for r in u.evidence[:EVIDENCE_DEPTH]]
    candidates += [f for sid in in_play for f in kb.facts_for(sid)]
    picked: list[str] = []
    for fact in candidates:
        if fact.source not in in_play or fact.id in used_facts:
            continue
        if fact.kind == "not-known" or (
            fact.kind == "does-not"
            and (fact.id in evidence_ids or not u.task or f"task:{u.task}" in fact.tags)
        ):
            picked.append(fact.text)
    return list(dict.fromkeys(picked))[:MAX_CAVEATS]
