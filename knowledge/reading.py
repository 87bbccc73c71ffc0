"""The whole question beyond its parts: the task the person is doing, the premises its wording
assumes, the sections of the full answer it asks for, whether it is the founding (broad) kind, the
thing outside the sources it is about, and whether the sources cover it.

Read once, after the parts (knowledge.understand); every phrasing comes from the language data.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from knowledge.lang.language import Language
from knowledge.lang.match import skip_fillers, stems
from knowledge.parts import RankedFact, Understanding
from knowledge.settings import UnderstandingSettings
from knowledge.store import KnowledgeBase
from knowledge.subjects import task_phrases
from knowledge.text import STOPWORDS, stem, words

EVIDENCE_DEPTH = 8  # facts that weigh in when the evidence decides the task
LOOSE_BONUS = 1.5  # a task a word with other meanings names, against the evidence alone
_FIRM = ("named", "referent", "context", "inherited", "task", "attribute")
_WORD_SPAN = re.compile(r"[A-Za-z0-9][\w.+-]*[A-Za-z0-9+]|[A-Za-z0-9]")


def read_whole(
    u: Understanding, kb: KnowledgeBase, lang: Language, settings: UnderstandingSettings
) -> Understanding:
    premises = tuple(lang.premises(u.question))
    requests = tuple(lang.requests(u.question))
    # the founding kind: a premise to correct, or the full form asked for in so many words (an
    # overview only by meaning leaves a specific question narrow: one that names a source, or one
    # that asks a point only this tool's facts state, such as what happens to the person's files)
    tool_only = {f.attribute for f in kb.tool_facts} - {f.attribute for f in kb.facts}
    broad = bool(premises) or any(
        p.kind == "overview"
        and (
            p.kind_by == "cue"
            or not any(s.kind == "source" and s.how == "named" for s in p.subjects)
            and not (p.attribute_by == "cue" and p.attribute in tool_only)
        )
        for p in u.parts
    )
    task, how = _task(u, kb, premises)
    outside = _outside_subject(u, kb, lang)
    return replace(
        u,
        task=task,
        task_how=how,
        premises=premises,
        requests=requests,
        broad=broad,
        outside_subject=outside,
        in_scope=_in_scope(u, outside, settings),
    )


def _task(u: Understanding, kb: KnowledgeBase, premises: tuple[str, ...]) -> tuple[str | None, str]:
    """The job the wording names firmly, the evidence breaking ties; else a named source's own job;
    else, for a question with the founding question's premise, that question's job; else the
    evidence, which a loosely named job tips but never decides alone."""
    weights = _evidence_weights(u.evidence, kb)
    firm = list(
        dict.fromkeys(s.id for p in u.parts for s in p.subjects if s.kind == "task" and s.how == "named")
    )
    if firm:  # the job more of the wording names; the evidence breaks a tie
        toks = stems(u.question)
        said = {t: sum(len(p) for p in task_phrases(toks, kb.tasks[t])) for t in firm}
        return max(firm, key=lambda t: (said[t], weights.get(t, 0.0))), "named"
    for sid in u.named_sources:
        primary = [c.task for c in kb.capabilities_for(source_id=sid) if c.role == "primary"]
        if primary:
            return primary[0], "source"
    if premises and kb.question:
        from knowledge.understand import understand  # the founding question's own reading

        founding = [s.id for p in understand(kb.question, kb).parts for s in p.subjects if s.kind == "task"]
        if founding:
            return founding[0], "founding"
    loose = {s.id for p in u.parts for s in p.subjects if s.kind == "task"}
    scored = {t: w * (LOOSE_BONUS if t in loose else 1.0) for t, w in weights.items()}
    best = max(scored, key=lambda t: scored[t], default=None)
    if best is not None and scored[best] > 0:
        return best, "loosely" if best in loose else "evidence"
    return None, ""


def _evidence_weights(evidence: list[RankedFact], kb: KnowledgeBase) -> dict[str, float]:
    """How strongly the best facts point at each task: facts tagged with it, then facts of the
    sources made for it, each by its score, the first ones most."""
    primary = {c.source: c.task for c in kb.capabilities if c.role == "primary"}
    weights = {t: 0.0 for t in kb.tasks}
    for rank, r in enumerate(evidence[:EVIDENCE_DEPTH]):
        decay = 1.0 / (1 + rank)
        tagged = [t[len("task:") :] for t in r.fact.tags if t.startswith("task:") and t[5:] in weights]
        for task in tagged:
            weights[task] += 2 * decay * max(r.score, 0.0)
        if not tagged and r.fact.source in primary:
            weights[primary[r.fact.source]] += decay * max(r.score, 0.0)
    return weights


def _in_scope(u: Understanding, outside: str | None, settings: UnderstandingSettings) -> bool:
    """A source, this tool or the picture named or pointed at puts a question in scope; a thing
    outside the sources it is about, or outside names with no job the sources do, put it out; else
    the best fact's score decides."""
    subjects = [s for p in u.parts for s in p.subjects]
    if any(s.kind in ("source", "tool", "picture") and s.how in _FIRM for s in subjects):
        return True
    if outside:
        return False
    if any(s.kind == "task" and s.how == "named" for s in subjects):
        return True
    if any(s.kind == "outside" for s in subjects):
        return False
    return any(p.facts and p.facts[0].raw >= settings.covered_min_score for p in u.parts)


def _outside_subject(u: Understanding, kb: KnowledgeBase, lang: Language) -> str | None:
    """What the question is about when that is outside the sources: the outside name a part with
    no source of ours leads with, or a term it asks to define with a word no card uses."""
    for part in u.parts:
        ours = [s for s in part.subjects if s.kind in ("source", "tool", "picture") and s.how in _FIRM]
        if ours:
            continue
        if part.outside:
            return " ".join(part.outside)
        term = _defined_term(part.text, part.kind, lang)
        if term and any(stem(w) not in _stemmed_vocabulary(kb.vocabulary) for w in _content(term)):
            return term
    return None


def _defined_term(text: str, kind: str, lang: Language) -> str | None:
    """The words after a definition's cue ("what is X?"), as written."""
    if kind != "definition":
        return None
    hits = [h for h in lang.kind_hits(text) if h.id == kind]
    if not hits:
        return None
    toks = stems(text)
    start = skip_fillers(toks, lang.fillers) + hits[0].length
    spans = list(_WORD_SPAN.finditer(text))
    # the cue counted words as `words()` splits them; map the start back onto the written text
    offset = _offset_of_word(text, start)
    if offset is None or not spans:
        return None
    term = text[offset:].strip(" ?.!\"'")
    content = _content(term)
    return term if content else None


def _offset_of_word(text: str, index: int) -> int | None:
    lowered = text.lower()
    pos = 0
    for i, word in enumerate(words(text)):
        found = lowered.find(word, pos)
        if found < 0:
            return None
        if i == index:
            return found
        pos = found + len(word)
    return None


def _content(term: str) -> list[str]:
    return [w for w in words(term) if w not in STOPWORDS and not w.isdigit()]


@lru_cache(maxsize=8)
def _stemmed_vocabulary(vocabulary: frozenset[str]) -> frozenset[str]:
    return frozenset(stem(w) for word in vocabulary for w in words(word))
