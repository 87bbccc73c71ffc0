"""Whether the sources cover a question, and the answer when they do not: what they do cover,
what they say about a mistaken premise, and questions they can answer."""

from __future__ import annotations

from dataclasses import replace

from agent.answer import Answer, Claim
from agent.answer_links import source_refs
from agent.long_form import best_capability, tagged
from common.textsafe import clean_line
from knowledge.lang.language import language
from knowledge.parts import Understanding
from knowledge.text import stemmed_text


def is_prompt_question(text: str, kb) -> bool:
    """The question of the prompt the cards were made for: the sources answer it by construction."""
    question = getattr(kb, "question", None)
    return isinstance(question, str) and bool(question) and stemmed_text(text) == stemmed_text(question)


def task_of_the_prompt(understanding: Understanding, kb) -> Understanding:
    """The prompt's own question, answered in full: the task its recommended model is for, unless
    the question's words name another task that model serves."""
    for sid in kb.recommended():
        serves = {c.task for c in kb.capabilities if c.source == sid}
        if understanding.task in serves and understanding.task_how in ("named", "loosely"):
            break
        cap = best_capability(kb, sid)
        if cap is not None:
            understanding = replace(understanding, task=cap.task, task_how="prompt")
            break
    return replace(understanding, broad=True, in_scope=True)


def abstain(echo: str, understanding: Understanding, kb) -> Answer:
    ranked = [s for s in understanding.sources_ranked if s in kb.sources] or list(kb.sources)
    claims = []
    for sid in ranked:
        cap = best_capability(kb, sid)
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
    for m in understanding.premises:
        tag = language().misconceptions[m].corrected_by
        fact = next(iter(tagged(kb, tag, prefer=ranked[0] if ranked else None)), None)
        if fact is not None:
            claims.append(Claim(text=fact.text, sources=[fact.source], facts=[fact.id]))
    caveats = [
        "The question is outside what the provided sources cover, and I do not answer from outside knowledge."
    ]
    missing = _missing_subject(understanding)
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
    answer.sources = source_refs(kb, [s for c in claims for s in c.sources])
    return answer


def _missing_subject(understanding: Understanding) -> str | None:
    """What the question is about that no card mentions, in the person's words, when it can be said
    without a number (an answer shows no number the cards do not hold, even an echoed one)."""
    subject = understanding.outside_subject or " ".join(understanding.outside[:3])
    subject = clean_line(subject).strip(" .?!")
    if not subject or any(c.isdigit() for c in subject) or len(subject.split()) > 4:
        return None
    return subject


def _suggestions(kb, ranked: list[str]) -> list[str]:
    """Questions the sources can answer: each names a source, so it is never out of scope."""
    out = []
    for sid in ranked[:3]:
        cap = best_capability(kb, sid)
        name = kb.sources[sid].name
        if cap is not None and cap.task in kb.tasks:
            out.append(f"How does {name} work for {kb.tasks[cap.task].label.lower()}, from input to output?")
        else:
            out.append(f"What does {name} do, and where are its paper and code?")
    return out
