"""Question analysis: which task the person is doing, what they ask for, which ideas to correct.

Everything is decided from the knowledge base's vocabulary (task aliases, source names, card
words) and from the retrieved evidence, never from a fixed list of answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.text import is_number, tokens

INTENTS = ("task", "workflow", "papers", "how-it-works", "comparison", "run-it")

# What the person asks for, recognised from how questions are phrased.
_INTENT_PATTERNS: dict[str, re.Pattern[str]] = {
    "task": re.compile(r"\b(what (task|problem)|which task|what am i (doing|trying)|what is this called|"
                       r"what kind of (task|problem))\b", re.I),
    "workflow": re.compile(r"\b(workflow|pipeline|steps?|stages?|input|output|process(es|ing)?|"
                           r"streamlin\w*|end[- ]to[- ]end)\b", re.I),
    "papers": re.compile(r"\b(papers?|cite|citations?|links?|references?|sources?|tools?|github|arxiv|"
                         r"read more|models?)\b", re.I),
    "how-it-works": re.compile(r"\b(how (does|do|is|can|could|would)|why|explain|works?|mechanism|"
                               r"architecture)\b", re.I),
    "comparison": re.compile(r"\b(compare|comparison|versus|vs\.?|difference|differ|better than|"
                             r"instead of|rather than)\b", re.I),
    "run-it": re.compile(r"\b(run|try|demo|show me|on my (image|photo|picture)|my (image|photo|picture)|"
                         r"test it|apply it)\b", re.I),
}

# Misconceptions: what the person's wording assumes -> the tag of the facts that correct it.
_MISCONCEPTIONS: dict[str, re.Pattern[str]] = {
    "sampling": re.compile(
        r"\b(sampling|sampler|denois\w*|diffusion)\s+(rounds?|steps?|iterations?|passes?)\b"
        r"|\b(rounds?|steps?|iterations?)\s+of\s+(sampling|denois\w*|diffusion)\b"
        r"|\bfew(er)?\s+(sampling|denoising)\b",
        re.I),
}

# Words that start questions or are common English, never "unknown names" even when capitalised.
_COMMON = {
    "i", "how", "what", "why", "when", "where", "which", "who", "can", "could", "does", "do", "is",
    "are", "my", "the", "a", "an", "ignore", "please", "tell", "explain", "show", "give", "should",
    "would", "will", "if", "in", "on", "for", "and", "or", "it", "this", "that", "hi", "hello",
}
_SUBJECT_LEAD = re.compile(
    r"\b(how (?:does|do|did|is|are|can|could|would)|what (?:is|are|does|makes)|who (?:is|made|wrote)|"
    r"explain|tell me about|describe|why (?:does|is|do))\s+((?:[\w.+-]+\s+){0,2}[\w.+-]+)", re.I)
# "What is X?", "Explain X.": the whole question asks what one term means.
_DEFINITION = re.compile(
    r"^\s*(?:what(?:'s| is| are)|define|explain|describe|tell me about)\s+(?:an?\s+|the\s+)?"
    r"((?:[\w.+-]+\s+){0,4}[\w.+-]+?)\s*[?.!]?\s*$", re.I)
_URL = re.compile(r"https?://\S+", re.I)
_WORD = re.compile(r"[A-Za-z][\w.+-]*[A-Za-z0-9]|[A-Za-z]")


@dataclass
class QuestionAnalysis:
    question: str
    task_id: str | None = None
    task_reason: str = ""                      # "alias", "source", "evidence"
    alias_hits: dict[str, list[str]] = field(default_factory=dict)
    firm_alias_hits: dict[str, list[str]] = field(default_factory=dict)   # without the ambiguous ones
    named_sources: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    misconceptions: list[str] = field(default_factory=list)
    unknown_names: list[str] = field(default_factory=list)
    unknown_subject: str | None = None         # an outside thing the question is about


def normalise(text: str) -> str:
    """Lower-case words and digits separated by single spaces, padded so ' word ' matches whole words."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def _alias_hits(question: str, kb) -> dict[str, list[str]]:
    """Task id -> the aliases (and label words) of that task found in the question."""
    q = normalise(question)
    for names in _source_names(kb).values():   # "Restormer" is a name, not the alias "restore"
        for name in names:
            q = q.replace(normalise(name), " ")
    hits: dict[str, list[str]] = {}
    for task_id, task in kb.tasks.items():
        phrases = list(task.aliases) + [task.label, task_id.replace("-", " ")]
        found = []
        for phrase in phrases:
            p = normalise(phrase)
            if p.strip() and (p in q or phrase_in(p, q)):
                found.append(phrase)
        if found:
            hits[task_id] = found
    return hits


def _firm(hits: dict[str, list[str]], kb) -> dict[str, list[str]]:
    """The alias hits that are not ambiguous (see `Task.ambiguous_aliases`)."""
    firm = {tid: [a for a in found if a not in kb.tasks[tid].ambiguous_aliases] for tid, found in hits.items()}
    return {tid: found for tid, found in firm.items() if found}


def phrase_in(phrase: str, q: str) -> bool:
    """'upscale' matches 'upscaled', 'more images' matches 'more training images': the words' stems
    in order, at most one other word between them."""
    words = phrase.split()
    if not words:
        return False
    pattern = r"(?:\s+\w+)?\s+".join(rf"{re.escape(_stem(w))}\w*" for w in words)
    return re.search(rf"\b{pattern}\b", q) is not None


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "e"):
        if len(word) > 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _source_names(kb) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for sid, src in kb.sources.items():
        short = (getattr(src, "short_name", None) or src.title.split(":")[0]).strip()
        candidates = {sid, short} if len(short.split()) <= 3 else {sid}
        names[sid] = sorted(c for c in candidates if c)
    return names


def _cached_on(kb, attribute: str, compute):
    """compute() once per knowledge base, kept on it (a kb that refuses attributes recomputes)."""
    cached = getattr(kb, attribute, None)
    if cached is None:
        cached = compute()
        try:
            object.__setattr__(kb, attribute, cached)
        except Exception:  # noqa: BLE001 - a frozen kb just recomputes next time
            pass
    return cached


def _vocabulary(kb) -> set[str]:
    def compute() -> set[str]:
        texts: list[str] = []
        for src in kb.sources.values():
            texts += [src.id, src.title, " ".join(src.authors), src.venue or ""]
        texts += [f.text for f in kb.facts]
        for task in kb.tasks.values():
            texts += [task.id, task.label, task.description, *task.aliases]
        for cap in kb.capabilities:
            texts += [cap.input, cap.output, cap.note or ""]
        return {w.lower() for t in texts for w in re.findall(r"[A-Za-z][\w-]*", t)}
    return _cached_on(kb, "_agent_vocabulary", compute)


def _stemmed_vocabulary(kb) -> set[str]:
    """The card vocabulary as the retriever tokenises it (stems; "classifier-free" is two words)."""
    return _cached_on(kb, "_agent_stemmed_vocabulary",
                      lambda: {t for word in _vocabulary(kb) for t in tokens(word, keep_stopwords=True)})


def _unknown_names(question: str, kb) -> list[str]:
    """Capitalised or acronym words that no card mentions: things outside the sources."""
    vocab = _vocabulary(kb)
    text = _URL.sub(" ", question)
    unknown: list[str] = []
    for sentence in re.split(r"(?<=[.!?;])\s+", text):
        words = _WORD.findall(sentence)
        for i, word in enumerate(words):
            looks_named = (word.isupper() and len(word) > 1) or (word[0].isupper() and i > 0) \
                or any(c.isdigit() for c in word[1:]) and word[0].isalpha()
            if not looks_named or word.lower() in _COMMON:
                continue
            parts = [p for p in re.split(r"[.+-]", word.lower()) if p]
            if all(p in vocab for p in parts):
                continue
            unknown.append(word)
    return unknown


def _unknown_subject(question: str, unknown: list[str], kb) -> str | None:
    """The outside thing the question is *about*, if any: an unknown name it leads with ("How does
    SDXL Turbo ..."), or a term it asks to define that uses a word no card uses ("What is
    classifier-free guidance?": the cards never say "guidance", so they cannot say what it is)."""
    definition = _DEFINITION.match(_URL.sub(" ", question))
    if definition:
        term = definition.group(1)
        words = [w for w in tokens(term) if not is_number(w)]
        if words and any(w not in _stemmed_vocabulary(kb) for w in words):
            return term
    if not unknown:
        return None
    for match in _SUBJECT_LEAD.finditer(_URL.sub(" ", question)):
        subject_words = match.group(2).split()
        named = [w for w in subject_words if w.strip(".,?") in unknown]
        if named:
            return " ".join(named)
    return None


def analyse(question: str, kb, assessment=None) -> QuestionAnalysis:
    """Analyse a (sanitised) question against the knowledge base and the retriever's assessment.

    `assessment`: knowledge's Assessment (evidence best first: fact_id, source_id, score, text).
    """
    evidence = list(getattr(assessment, "evidence", None) or [])
    qa = QuestionAnalysis(question=question)
    qa.alias_hits = _alias_hits(question, kb)
    qa.firm_alias_hits = _firm(qa.alias_hits, kb)
    q = normalise(question)
    for sid, names in _source_names(kb).items():
        if any(normalise(n) in q for n in names):
            qa.named_sources.append(sid)
    qa.intents = [name for name, pat in _INTENT_PATTERNS.items() if pat.search(question)]
    qa.misconceptions = [name for name, pat in _MISCONCEPTIONS.items() if pat.search(question)]
    # the retriever's judgement of names the cards never mention, when it gives one
    known = getattr(assessment, "unknown_names", None) if assessment is not None else None
    qa.unknown_names = list(known) if known is not None else _unknown_names(question, kb)
    qa.unknown_subject = _unknown_subject(question, qa.unknown_names, kb)
    qa.task_id, qa.task_reason = _choose_task(qa, kb, evidence)
    return qa


def _choose_task(qa: QuestionAnalysis, kb, evidence) -> tuple[str | None, str]:
    """Aliases the person used win; then a source they named (its primary task); then evidence."""
    if qa.alias_hits:
        best = max(qa.alias_hits, key=lambda t: (sum(len(a) for a in qa.alias_hits[t]),
                                                 _evidence_weight(t, kb, evidence)))
        return best, "alias"
    for sid in qa.named_sources:
        primary = [c.task for c in kb.capabilities if c.source == sid and c.role == "primary"]
        if primary:
            return primary[0], "source"
    weights = {t: _evidence_weight(t, kb, evidence) for t in kb.tasks}
    best = max(weights, key=weights.get, default=None) if weights else None
    if best is not None and weights[best] > 0:
        return best, "evidence"
    return None, ""


def _evidence_weight(task_id: str, kb, evidence) -> float:
    """How strongly the retrieved facts point at a task: tagged facts, then their sources' primary task."""
    primary_sources = {c.source for c in kb.capabilities if c.task == task_id and c.role == "primary"}
    weight = 0.0
    for rank, ev in enumerate(evidence[:8]):
        fact = _fact_or_none(kb, ev.fact_id)
        decay = 1.0 / (1 + rank)
        if fact is not None and f"task:{task_id}" in fact.tags:
            weight += 2 * decay * max(ev.score, 0.0)
        elif ev.source_id in primary_sources:
            weight += decay * max(ev.score, 0.0)
    return weight


def _fact_or_none(kb, fact_id):
    try:
        return kb.fact(fact_id)
    except Exception:  # noqa: BLE001 - unknown id: no tag evidence
        return None
