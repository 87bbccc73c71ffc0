"""Question analysis: which task the person is doing, what they ask for, which ideas to correct.

Everything is decided from the knowledge base's vocabulary (task aliases, source names, card
words) and from the retrieved evidence, never from a fixed list of answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from knowledge.text import STOPWORDS, is_acronym_plural, is_number, leads_as_subject, tokens

INTENTS = ("task", "workflow", "papers", "how-it-works", "comparison", "run-it")

# What the person asks for, recognised from how questions are phrased.
_INTENT_PATTERNS: dict[str, re.Pattern[str]] = {
    "task": re.compile(
        r"\b(what (task|problem)|which task|what am i (doing|trying)|what is this called|"
        r"what kind of (task|problem))\b",
        re.I,
    ),
    "workflow": re.compile(
        r"\b(workflow|pipeline|steps?|stages?|input|output|process(es|ing)?|"
        r"streamlin\w*|end[- ]to[- ]end)\b",
        re.I,
    ),
    "papers": re.compile(
        r"\b(papers?|cite|citations?|links?|references?|sources?|tools?|github|arxiv|"
        r"read more|models?)\b",
        re.I,
    ),
    "how-it-works": re.compile(
        r"\b(how (does|do|is|can|could|would)|why|explain|works?|mechanism|"
        r"architecture)\b",
        re.I,
    ),
    "comparison": re.compile(
        r"\b(compare|comparison|versus|vs\.?|difference|differ|better than|"
        r"instead of|rather than)\b",
        re.I,
    ),
    "run-it": re.compile(
        r"\b(run|try|demo|show me|on my (image|photo|picture)|my (image|photo|picture)|"
        r"test it|apply it)\b",
        re.I,
    ),
}

# Misconceptions: what the person's wording assumes -> the tag of the facts that correct it.
_MISCONCEPTIONS: dict[str, re.Pattern[str]] = {
    "sampling": re.compile(
        r"\b(sampling|sampler|denois\w*|diffusion)\s+(rounds?|steps?|iterations?|passes?)\b"
        r"|\b(rounds?|steps?|iterations?)\s+of\s+(sampling|denois\w*|diffusion)\b"
        r"|\bfew(er)?\s+(sampling|denoising)\b",
        re.I,
    ),
}

# Words that start questions or are common English, never "unknown names" even when capitalised.
_COMMON = {
    "i",
    "how",
    "what",
    "why",
    "when",
    "where",
    "which",
    "who",
    "can",
    "could",
    "does",
    "do",
    "is",
    "are",
    "my",
    "the",
    "a",
    "an",
    "ignore",
    "please",
    "tell",
    "explain",
    "show",
    "give",
    "should",
    "would",
    "will",
    "if",
    "in",
    "on",
    "for",
    "and",
    "or",
    "it",
    "this",
    "that",
    "hi",
    "hello",
}
_SUBJECT_LEAD = re.compile(
    r"\b(how (?:does|do|did|is|are|can|could|would)|what (?:is|are|does|makes)|who (?:is|made|wrote)|"
    r"explain|tell me about|describe|why (?:does|is|do))\s+((?:[\w.+-]+\s+){0,2}[\w.+-]+)",
    re.I,
)
# "What is X?", "Explain X.": the whole question asks what one term means.
_DEFINITION = re.compile(
    r"^\s*(?:what(?:'s| is| are)|define|explain|describe|tell me about)\s+(?:an?\s+|the\s+)?"
    r"((?:[\w.+-]+\s+){0,4}[\w.+-]+?)\s*[?.!]?\s*$",
    re.I,
)
_URL = re.compile(r"https?://\S+", re.I)
_WORD = re.compile(r"[A-Za-z][\w.+-]*[A-Za-z0-9]|[A-Za-z]")


# What a part of a question asks for. Order matters: the first pattern that matches decides.
KINDS = (
    "published",
    "licence",
    "compare",
    "choice",
    "number",
    "why",
    "how-do-i",
    "how-does-it-work",
    "yes-no",
    "what-is",
)
_KIND_PATTERNS: dict[str, re.Pattern[str]] = {
    "published": re.compile(
        r"\bwho (wrote|made|created|built|developed|authored|is behind|are (the )?authors)|"
        r"\b(the |its |their )?authors? (of|are|is)\b|\bwritten by\b|\bwho (should|do|must) (i|we) cite|"
        r"\bhow (do|should) (i|we) cite|\bcitation\b|"
        r"\b(where|when|which year|what year) (was|were|is|did)\b.*\b(publish|appear|present|release)|"
        r"\bpublished\b|\bwhich (conference|venue|journal|university|lab|company|team|group|institution|institute|"
        r"organi[sz]ation)|\bat which (conference|venue)|\baffiliation|"
        r"\bwhere (is|are|can i find) (its|their|the)? ?(code|repo|repository|github)|\b(code|repository) (link|url)",
        re.I,
    ),
    "licence": re.compile(
        r"\blicen[cs]e[ds]?\b|\blicensing\b|\bopen[- ]source\b|\b(weights|checkpoints?|code) (available|released|public)|"  # noqa: E501
        r"\b(download|released?)\b.*\b(weights|checkpoints?|models?)\b|\bis (the |its )?code public",
        re.I,
    ),
    "compare": re.compile(
        r"\bcompare|\bcomparison|\bversus\b|\bvs\.?\s|\bdifferen(ce|t|ces)\b|\bdiffer\b|"
        r"\bin common\b|\bboth\b",
        re.I,
    ),
    "choice": re.compile(
        r"\bwhich (\w+ )?(one|model|source|tool|method|network|paper|system)s?\b|\bwhich of (the|these|your)|"
        r"\bshould i use|\bwhat (should|can) i use|\bwhat (\w+ )?(model|tool)s?\b|\bwhich is (better|more|the right)|\bright choice|\b\w+ or \w+\s*[:?,]|"  # noqa: E501
        r"\bcan any of",
        re.I,
    ),
    "number": re.compile(
        r"\bhow (many|much|long|fast|big|large|quickly)\b|\bwhat (number|size|learning rate|batch size|crop size|accuracy|resolution)|"  # noqa: E501
        r"\bwhich (learning rate|optimi[sz]er|resolution)|\bat what resolution",
        re.I,
    ),
    "why": re.compile(r"^\s*why\b|\bwhy (does|do|is|are|must|did|would)\b", re.I),
    "how-do-i": re.compile(
        r"\bhow (do|can|could|should|would) (i|we|one)\b|\bhow to\b|\bwhat can i do\b", re.I
    ),
    "how-does-it-work": re.compile(
        r"\bhow (does|do|is|would|did|are)\b|\bexplain\b|\bstep by step\b|\bworks?\b|"
        r"\bprocess(es)?\b|\bpipeline\b|\bworkflow\b",
        re.I,
    ),
    "yes-no": re.compile(r"^\s*(is|are|does|do|did|can|could|will|would|should|has|have|was|were)\b", re.I),
}
# Asking for a kind of fact the cards may not hold: the attribute, and how a card fact shows it.
ATTRIBUTES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "licence": (re.compile(r"\blicen[cs]e[ds]?\b|\blicensing\b", re.I), re.compile(r"licen[cs]e", re.I)),  # noqa: E501
    "runtime": (
        re.compile(
            r"\bhow (long|fast|quick(ly)?)\b|\brun[- ]?time|\binference[- ]time|\blatency|\bseconds?\b|"
            r"\bfaster\b|\bspeed\b",
            re.I,
        ),
        re.compile(r"runtime|inference-time|speed|throughput", re.I),
    ),
    "scores": (
        re.compile(
            r"\bpsnr\b|\bssim\b|\bmiou\b|\bscores?\b|\baccuracy\b|\bbenchmarks?\b|\bbeats?\b|"
            r"\boutperform|\b(accuracy|map) gains?\b|\bresults\b",
            re.I,
        ),
        re.compile(r"PSNR|SSIM|accurac|scores?|results|mAP|fidelity", re.I),
    ),
    "FLOPs": (
        re.compile(r"\bflops\b|\bmacs\b|\bcompute cost|\bcomputation cost", re.I),
        re.compile(r"FLOPs|GMACs", re.I),
    ),
    "memory use": (
        re.compile(r"\b(gpu |video )?memory\b|\bvram\b|\bram\b|\bgigabytes?\b|\bgb\b", re.I),
        re.compile(r"memory|\bGB\b", re.I),
    ),
    "file size": (
        re.compile(
            r"\bmegabytes?\b|\bmb\b|\bfile size\b|\bhow (big|large) is (the|its) .*(file|checkpoint)", re.I
        ),
        re.compile(r"\bMB\b|file size", re.I),
    ),
    "version": (re.compile(r"\b(which|what) version\b", re.I), re.compile(r"\bversion\b", re.I)),
    "hardware requirements": (
        re.compile(
            r"\b(phone|mobile|smartphone|laptop|raspberry|edge devices?|on-device|"
            r"embedded)\b",
            re.I,
        ),
        re.compile(r"\b(phone|mobile|laptop|embedded)\b", re.I),
    ),
    "dataset size": (
        re.compile(r"\bhow many (images|photos|pictures)\b", re.I),
        re.compile(r"datasets?\b|\bimages\b", re.I),
    ),
}
# Kinds of question that can ask for an attribute ("How do I ... without losing accuracy?" does not).
_ATTRIBUTE_KINDS = ("number", "yes-no", "what-is", "licence", "compare", "why")
# "it", "its", "this model": the part is about a subject named earlier (or earlier in the chat).
PRONOUN = re.compile(
    r"\b(it|its|it's|they|them|their|this (model|method|paper|network|one|tool)|"
    r"that (model|method|paper|network|one|tool)|the (model|paper|method|network|authors))\b",
    re.I,
)
# Words that ask rather than name a topic: what is left after them says what the part is about.
_ASKING_WORDS = frozenset(
    """
what which who whom whose where when why how is are was were do does did can could will would should shall
tell me about explain describe give show list it its this that these those the a an of for to in on and or
work works working model models method paper network tool source sources do doing please main idea overall
summary summarise summarize arxiv
""".split()
)
_SENTENCE = re.compile(r"(?<=[?!.])\s+(?=[A-Z\"'(])|(?<=[?!])\s+")
# ", and what ...", "; how ...", " and are its ...": a second question joined to the first
_JOIN = re.compile(
    r"(?:,\s*(?:and\s+)?|;\s*|\s+and\s+|:\s*)(?=(?:what|who|where|when|which|why|how|is|are|does|do|"
    r"did|can|could|will|would|has|have)\b)",
    re.I,
)


@dataclass
class QuestionPart:
    """One question inside the person's message, with what it asks and about what."""

    text: str  # the part as asked (statements before it are in `context`)
    kind: str  # one of KINDS
    sources: list[str] = field(default_factory=list)  # sources it is about (named, or inherited)
    inherited: bool = False  # the sources came from an earlier part or the conversation
    task_id: str | None = None  # the task its wording names, if any
    outside: list[str] = field(default_factory=list)  # names in it that no card mentions
    attribute: str | None = None  # a kind of fact it asks for ("licence", "runtime", ...)
    topic: list[str] = field(default_factory=list)  # its content words beyond names and asking
    context: str = ""  # statements that came before it ("My photo came out smeared.")

    @property
    def query(self) -> str:
        """What to search the cards with: the part, its context and the names of its sources."""
        return " ".join(t for t in (self.context, self.text) if t)

    @property
    def subjects(self) -> list[tuple[str, str]]:
        """(kind, id) pairs: ("source", "mssnet"), ("task", "super-resolution"), ("outside", "SwinIR")."""
        out = [("source", s) for s in self.sources] + [("outside", n) for n in self.outside]
        if self.task_id:
            out.append(("task", self.task_id))
        return out


@dataclass
class QuestionAnalysis:
    question: str
    task_id: str | None = None
    task_reason: str = ""  # "alias", "source", "founding", "evidence"
    alias_hits: dict[str, list[str]] = field(default_factory=dict)
    firm_alias_hits: dict[str, list[str]] = field(default_factory=dict)  # without the ambiguous ones
    named_sources: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    misconceptions: list[str] = field(default_factory=list)
    unknown_names: list[str] = field(default_factory=list)
    unknown_subject: str | None = None  # an outside thing the question is about
    parts: list[QuestionPart] = field(default_factory=list)  # one per question asked, in order
    broad: bool = False  # the founding kind: task, workflow, papers in full

    @property
    def kinds(self) -> list[str]:
        return [p.kind for p in self.parts]


def normalise(text: str) -> str:
    """Lower-case words and digits separated by single spaces, padded so ' word ' matches whole words."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def _alias_hits(question: str, kb) -> dict[str, list[str]]:
    """Task id -> the aliases (and label words) of that task found in the question."""
    q = normalise(question)
    for names in kb.source_names.values():  # "Restormer" is a name, not the alias "restore"
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
    firm = {
        tid: [a for a in found if a not in kb.tasks[tid].ambiguous_aliases] for tid, found in hits.items()
    }
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


def _stemmed_vocabulary(kb) -> frozenset[str]:
    """The card vocabulary as the retriever tokenises it (stems; "classifier-free" is two words)."""
    return _stemmed_vocabulary_of(kb.vocabulary)


@lru_cache(maxsize=8)
def _stemmed_vocabulary_of(vocabulary: frozenset[str]) -> frozenset[str]:
    return frozenset(t for word in vocabulary for t in tokens(word, keep_stopwords=True))


def _unknown_names(question: str, kb) -> list[str]:
    """Capitalised or acronym words that no card mentions: things outside the sources."""
    vocab = kb.vocabulary
    text = _URL.sub(" ", question)
    unknown: list[str] = []
    for sentence in re.split(r"(?<=[.!?;])\s+", text):
        spans = list(_WORD.finditer(sentence))
        for i, span in enumerate(spans):
            word = span.group(0)
            looks_named = (
                (word.isupper() and len(word) > 1)
                or (word[0].isupper() and i > 0)
                or (i == 0 and leads_as_subject(word, sentence[span.end() :]))
                or any(c.isdigit() for c in word[1:])
                and word[0].isalpha()
            )
            if not looks_named or word.lower() in _COMMON or is_acronym_plural(word):
                continue
            parts = [p for p in re.split(r"[.+-]", word.lower()) if p]
            if all(p in vocab for p in parts):
                continue
            unknown.append(word)
    return unknown


def _unknown_subject(question: str, unknown: list[str], kb, task_words: bool = False) -> str | None:
    """The outside thing the question is *about*, if any: an unknown name it leads with ("How does
    SDXL Turbo ..."), or a term it asks to define that uses a word no card uses ("What is
    classifier-free guidance?": the cards never say "guidance", so they cannot say what it is)."""
    definition = None if task_words else _DEFINITION.match(_URL.sub(" ", question))
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


def analyse(question: str, kb, assessment=None, context: list[str] | None = None) -> QuestionAnalysis:
    """Analyse a (sanitised) question against the knowledge base and the retriever's assessment.

    `assessment`: knowledge's Assessment (evidence best first: fact_id, source_id, score, text).
    `context`: the sources the conversation is about, for "Who wrote it?".
    """
    evidence = list(getattr(assessment, "evidence", None) or [])
    qa = QuestionAnalysis(question=question)
    qa.alias_hits = _alias_hits(question, kb)
    qa.firm_alias_hits = _firm(qa.alias_hits, kb)
    qa.named_sources = _in_order_of_mention(question, kb.sources_named_in(question), kb)
    qa.intents = [name for name, pat in _INTENT_PATTERNS.items() if pat.search(question)]
    qa.misconceptions = [name for name, pat in _MISCONCEPTIONS.items() if pat.search(question)]
    # the retriever's judgement of names the cards never mention, when it gives one
    known = getattr(assessment, "unknown_names", None) if assessment is not None else None
    qa.unknown_names = list(known) if known is not None else _unknown_names(question, kb)
    qa.unknown_subject = _unknown_subject(question, qa.unknown_names, kb, bool(qa.firm_alias_hits))
    qa.task_id, qa.task_reason = _choose_task(qa, kb, evidence)
    qa.parts = split_parts(question, kb, qa, context)
    qa.broad = _is_broad(qa)
    return qa


def kind_of(text: str) -> str:
    for kind in KINDS[:-1]:
        if _KIND_PATTERNS[kind].search(text):
            return kind
    return "what-is"


def _attribute_of(text: str, kind: str) -> str | None:
    if kind not in _ATTRIBUTE_KINDS:
        return None
    return next((name for name, (asked, _) in ATTRIBUTES.items() if asked.search(text)), None)


def fact_shows_attribute(attribute: str, fact_text: str) -> bool:
    return bool(ATTRIBUTES[attribute][1].search(fact_text))


def split_parts(
    question: str, kb, qa: QuestionAnalysis, context: list[str] | None = None
) -> list[QuestionPart]:
    """Split the message into the questions it asks; statements become the next question's context.

    A part that names no source but says "it"/"its" is about the sources of the part before it, or
    (the first part) about `context`, the conversation's current subjects."""
    text = _URL.sub(" ", question).strip()
    pieces: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE.split(text) if s.strip()):
        pieces += [p.strip(" ,;:") for p in _JOIN.split(sentence) if p and p.strip(" ,;:")]
    parts: list[QuestionPart] = []
    pending_context: list[str] = []
    for piece in pieces:
        asks = (
            piece.endswith("?")
            or _KIND_PATTERNS["yes-no"].search(piece)
            or re.match(
                r"\s*(?:\w+\s+){0,2}?(what|who|where|when|which|why|how)\b|\s*(tell me|explain|describe|compare|list|"
                r"give|show|say)\b",
                piece,
                re.I,
            )
        )
        if not asks:
            pending_context.append(piece)
            continue
        part = _part(piece, " ".join(pending_context), kb, qa)
        pending_context = []
        if (
            len(part.topic) == 0
            and not part.sources
            and not part.outside
            and parts
            and part.kind in ("why", "what-is")
        ):
            parts[-1].text += f", and {piece}"  # ", and why?": more of the same part
            continue
        parts.append(part)
    if pending_context:  # no question mark anywhere: one part
        piece = " ".join(pending_context)
        parts.append(_part(piece, "", kb, qa))
    previous: list[str] = list(context or [])
    for n, part in enumerate(parts):
        pronoun = PRONOUN.search(part.text)
        if part.kind == "compare" and pronoun and previous and part.sources:
            # "compare it with EASIER": it and the named one
            part.sources, part.inherited = list(dict.fromkeys([*previous[:1], *part.sources])), True
        elif (
            not part.sources
            and not part.outside
            and previous
            and (
                pronoun
                or not part.topic
                # a chat follow-up in the cards' own words ("And how many scales?") stays on the subject
                or (n == 0 and context and not part.task_id and _in_vocabulary(part.topic, kb))
            )
        ):
            part.sources, part.inherited = list(previous), True
        if part.sources:
            previous = part.sources
        elif pronoun and not part.task_id and not part.outside and n > 0 and parts[n - 1].task_id:
            part.task_id, part.inherited = parts[n - 1].task_id, True  # "Which model ...? How does it work?"
    return parts or [_part(question, "", kb, qa)]


def _in_vocabulary(words: list[str], kb) -> bool:
    stems = _stemmed_vocabulary(kb)
    return bool(words) and all(t in stems for w in words for t in tokens(w, keep_stopwords=True))


def _part(text: str, context: str, kb, qa: QuestionAnalysis) -> QuestionPart:
    kind = kind_of(text)
    sources = _in_order_of_mention(text, kb.sources_named_in(text), kb)
    if not sources and context:  # "MSSNet or DataCrafter: which one ...?"
        sources = _in_order_of_mention(context, kb.sources_named_in(context), kb)
    outside = [n for n in qa.unknown_names if n in text or n in context]
    hits = _firm(_alias_hits(f"{context} {text}", kb), kb)
    task_id = max(hits, key=lambda t: sum(len(a) for a in hits[t])) if hits else None
    names = {w.lower() for sid in sources for n in kb.source_names[sid] for w in re.findall(r"[\w-]+", n)}
    topic = [
        w
        for w in re.findall(r"[a-z0-9][a-z0-9-]*", text.lower())
        if w not in _ASKING_WORDS
        and w not in STOPWORDS
        and w not in names
        and w not in {n.lower() for n in outside}
        and not is_number(w)
        and len(w) > 1
    ]
    return QuestionPart(
        text=text,
        kind=kind,
        sources=sources,
        task_id=task_id,
        outside=outside,
        attribute=_attribute_of(text, kind),
        topic=topic,
        context=context,
    )


def _in_order_of_mention(text: str, source_ids: list[str], kb) -> list[str]:
    """Sources in the order the text mentions them ("Is DataCrafter ... like MSSNet?": DataCrafter first)."""
    low = text.lower()

    def first(sid: str) -> int:
        spots = [low.find(n.lower()) for n in kb.source_names[sid] if n and low.find(n.lower()) >= 0]
        return min(spots, default=len(low))

    return sorted(source_ids, key=first)


# "How does X work?" with nothing more specific: an overview, answered in the full three-part form.
_OVERVIEW_TOPIC = frozenset(
    "keep detail detailed fine high-frequency streamline steps input output end ai few fewer".split()
)


_FEW_STEPS = re.compile(
    r"\b(?:so |too |very )?few(?:er)?\s+(?:\w+\s+)?(?:steps?|passes|iterations?|rounds?)\b", re.I
)


def _is_broad(qa: QuestionAnalysis) -> bool:
    """The founding kind of question: a misconception to correct, or "how does it work" about a
    whole task or model, or the whole input-to-output workflow."""
    if qa.misconceptions:
        return True
    for part in qa.parts:
        if (
            part.kind == "how-does-it-work"
            and not part.attribute
            and not part.outside
            and (
                not part.topic
                or set(part.topic) <= _OVERVIEW_TOPIC
                or re.search(
                    r"step by step|input to output|from input|end to end|workflow|pipeline", part.text, re.I
                )
                # "I blew up a tiny picture ... How does the AI do this in so few steps?"
                or (part.task_id and _FEW_STEPS.search(part.text))
            )
        ):
            return True
    return False


def _choose_task(qa: QuestionAnalysis, kb, evidence) -> tuple[str | None, str]:
    """Firm aliases the person used win; then a source they named (its primary task); then the
    evidence, which an ambiguous alias ("classifier", "compress") may tip but never decides alone."""
    if qa.firm_alias_hits:
        best = max(
            qa.firm_alias_hits,
            key=lambda t: (sum(len(a) for a in qa.firm_alias_hits[t]), _evidence_weight(t, kb, evidence)),
        )
        return best, "alias"
    for sid in qa.named_sources:
        primary = [c.task for c in kb.capabilities if c.source == sid and c.role == "primary"]
        if primary:
            return primary[0], "source"
    founding = _firm(_alias_hits(kb.question, kb), kb) if qa.misconceptions and kb.question else {}
    if founding:  # the founding kind naming no task: the cards' own question's task
        return max(founding, key=lambda t: sum(len(a) for a in founding[t])), "founding"
    weights = {t: _evidence_weight(t, kb, evidence) * (1.5 if t in qa.alias_hits else 1.0) for t in kb.tasks}
    heaviest = max(weights, key=lambda t: weights[t], default=None) if weights else None
    if heaviest is not None and weights[heaviest] > 0:
        return heaviest, "alias" if heaviest in qa.alias_hits else "evidence"
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
