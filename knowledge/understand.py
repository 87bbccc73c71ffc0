"""Understand a question once: `understand(question, kb) -> Understanding`.

The question is split into asked parts; each part gets its subjects (a source, this tool, the
attached picture, a name outside the sources, or "ambiguous"), the attribute asked, the answer
kind, the quantities written in it and the facts ranked for it. Everything about phrasing comes
from the language data (knowledge/lang/<code>/); the agent only reads the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from knowledge.fact_index import FactIndex, fact_index
from knowledge.lang.language import Language, language
from knowledge.lang.match import phrase_at, skip_fillers, stems
from knowledge.schema import Fact
from knowledge.settings import UNDERSTANDING, UnderstandingSettings
from knowledge.store import KnowledgeBase

SubjectKind = Literal["source", "task", "tool", "picture", "outside", "ambiguous"]
MAX_PARTS = 6  # distinct asked points kept from one question

# Sentence ends: the one piece of splitting that is punctuation, not language.
_SENTENCE_END = re.compile(r"(?<=[?!.])\s+(?=\S)|\n+")
_WORD = re.compile(r"[A-Za-z][\w.+'’-]*[\w+]|[A-Za-z]")


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    id: str  # a source id, the tool's id, "picture", an outside name, or "" when ambiguous
    # named | referent | context | inherited | attribute | task (the job it names) | loose-task (a
    # job only a word with other meanings names) | evidence | loosely (a task so named)
    how: str = "named"


@dataclass(frozen=True)
class Quantities:
    sizes: tuple[tuple[int, int], ...] = ()
    factors: tuple[int, ...] = ()
    percents: tuple[float, ...] = ()
    megapixels: tuple[float, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()  # (table id, row key) picked by name or by "the biggest"
    firm_rows: tuple[tuple[str, str], ...] = ()  # ... of those, named by a key or a several-word alias

    def __bool__(self) -> bool:
        return bool(self.sizes or self.factors or self.percents or self.megapixels or self.rows)


@dataclass(frozen=True)
class RankedFact:
    fact: Fact
    score: float


@dataclass
class Part:
    text: str
    kind: str  # an answer kind of kinds.yml
    attribute: str | None
    subjects: list[Subject]
    quantities: Quantities
    facts: list[RankedFact] = field(default_factory=list)  # ranked over every answerable fact
    attribute_by: str = "cue"  # cue | meaning | none
    # other readings of the asked attribute, in order (a cue can mean several): the answer takes the
    # first one the subject's facts state
    alternatives: tuple[str, ...] = ()

    @property
    def source_ids(self) -> list[str]:
        return [s.id for s in self.subjects if s.kind in ("source", "tool")]

    @property
    def outside(self) -> list[str]:
        return [s.id for s in self.subjects if s.kind == "outside"]

    @property
    def about_picture(self) -> bool:
        return any(s.kind == "picture" for s in self.subjects)

    @property
    def ambiguous(self) -> bool:
        return any(s.kind == "ambiguous" for s in self.subjects)

    def facts_of(self, owners: list[str]) -> list[RankedFact]:
        return [r for r in self.facts if r.fact.source in owners]


@dataclass
class Understanding:
    question: str
    parts: list[Part]
    picture: bool = False
    shortened: int = 0  # distinct sentences kept when a long question was cut (0: not cut)

    @property
    def about_picture(self) -> bool:
        return any(p.about_picture for p in self.parts)

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(s for p in self.parts for s in p.source_ids))


def understand(
    question: str,
    kb: KnowledgeBase,
    *,
    context: list[str] | None = None,
    picture: bool = False,
    lang: Language | None = None,
    settings: UnderstandingSettings = UNDERSTANDING,
) -> Understanding:
    """Parts of `question` with subjects, attribute, kind, quantities and ranked facts.

    `context`: the sources a conversation is about (what "it" means without a picture);
    `picture`: a picture is attached ("it", "this", "my photo" mean the picture)."""
    lang = lang or language()
    index = fact_index(kb, lang)
    texts, shortened = _split(question, lang)
    parts: list[Part] = []
    previous: list[Subject] = [Subject("source", s, "context") for s in (context or []) if s in kb.sources]
    for text in texts:
        part = _understand_part(text, kb, lang, index, settings, picture, previous, bool(parts))
        parts.append(part)
        if part.subjects:
            previous = [Subject(s.kind, s.id, "inherited") for s in part.subjects if s.kind != "ambiguous"]
    return Understanding(question=question, parts=parts, picture=picture, shortened=shortened)


# -- parts -----------------------------------------------------------------------------------------


def _split(question: str, lang: Language) -> tuple[list[str], int]:
    """Asked points: sentences (statements join the question after them), then the data's
    separators; a sentence said twice counts once."""
    sentences = list(dict.fromkeys(s.strip() for s in _SENTENCE_END.split(question.strip()) if s.strip()))
    asked: list[str] = []
    pending: list[str] = []
    for sentence in sentences:
        if not _is_asked(sentence, lang):
            pending.append(sentence)  # a statement: context for the question after it
            continue
        chunks = [sentence]
        for sep in lang.parts.separators:
            dropped, _, kept = sep.partition("|")
            chunks = [c for chunk in chunks for c in _split_keeping(chunk, dropped, kept)]
        chunks = [c.strip() for c in chunks if c.strip()]
        chunks[0] = " ".join([*pending, chunks[0]])
        pending = []
        asked += [c for c in chunks if c not in asked]
    if pending:
        if asked:
            asked[-1] = " ".join([asked[-1], *pending])
        else:
            asked.append(" ".join(pending))
    shortened = len(asked) if len(asked) > MAX_PARTS else 0
    return asked[:MAX_PARTS], shortened


def _split_keeping(text: str, dropped: str, kept: str) -> list[str]:
    pieces = text.split(dropped + kept)
    return [pieces[0], *(kept + p for p in pieces[1:])] if kept else pieces


def _is_asked(piece: str, lang: Language) -> bool:
    return piece.rstrip().endswith("?") or bool(lang.kind_hits(piece))


def _understand_part(
    text: str,
    kb: KnowledgeBase,
    lang: Language,
    index: FactIndex,
    settings: UnderstandingSettings,
    picture: bool,
    previous: list[Subject],
    follows: bool,
) -> Part:
    vector = index.embed(text)
    kind_hits = lang.kind_hits(text)
    attribute, attribute_by = _attribute(text, lang, index, vector, settings, kind_hits)
    kind = _kind(kind_hits, lang, index, vector, attribute, settings)
    alternatives = [h.id for h in lang.attribute_hits(text) if h.id != attribute]
    meant, cosine = index.nearest_label("attribute", vector)
    if meant and meant != attribute and meant not in alternatives and cosine >= settings.attribute_min_cosine:
        alternatives.append(meant)
    # the kind's own attribute ("how does X decide ..." is its mechanism) is a reading too
    alternatives += [a for a in lang.attributes if a == kind and a != attribute and a not in alternatives]
    quantities = _quantities(text, kb, lang)
    # a row named by a one-word alias ("small") counts only beside its table's source
    named_ids = set(kb.sources_named_in(text))
    quantities = replace(
        quantities,
        rows=tuple(
            r for r in quantities.rows if r[0].split(".")[0] in named_ids or r in quantities.firm_rows
        ),
    )
    scores = index.scores(text, vector)
    if attribute:
        states = np.array([f.attribute == attribute for f in index.facts])
        scores = scores + settings.attribute_bonus * states
    order = np.argsort(-scores)
    ranked = [RankedFact(index.facts[i], float(scores[i])) for i in order if scores[i] > 0]
    subjects = _subjects(text, kb, lang, index, picture, previous, follows, attribute, quantities, ranked)
    named = [s for s in subjects if s.kind == "source" and s.how == "named"]
    if kind == "yes-no" and len(named) >= 2:
        kind = "comparison"  # "should I use A or B": both sides, not a yes or no about one
    return Part(text, kind, attribute, subjects, quantities, ranked, attribute_by, tuple(alternatives))


def _attribute(text, lang: Language, index: FactIndex, vector, settings, kind_hits) -> tuple[str | None, str]:
    hits = lang.attribute_hits(text)
    if hits:
        # among the longest cues, an attribute whose usual kind is the part's kind ("how many
        # parameters ... the bigger one" asks a number, not whether the size changes)
        kind = kind_hits[0].id if kind_hits else None
        longest = [h for h in hits if h.length == hits[0].length]
        fitting = [h for h in longest if lang.attributes[h.id].kind == kind]
        return (fitting or longest)[0].id, "cue"
    if kind_hits and lang.kinds[kind_hits[0].id].default_attribute:
        return lang.kinds[kind_hits[0].id].default_attribute, "kind"
    label, cosine = index.nearest_label("attribute", vector)
    if label and cosine >= settings.attribute_min_cosine:
        return label, "meaning"
    return None, "none"


def _kind(hits, lang: Language, index: FactIndex, vector, attribute, settings) -> str:
    if hits:
        return hits[0].id
    label, cosine = index.nearest_label("kind", vector)
    if label and cosine >= settings.kind_min_cosine:
        return label
    if attribute and lang.attributes[attribute].kind:
        return str(lang.attributes[attribute].kind)
    return "definition"


# -- quantities ------------------------------------------------------------------------------------


def _quantities(text: str, kb: KnowledgeBase, lang: Language) -> Quantities:
    p = lang.patterns
    sizes = tuple((int(m["w"]), int(m["h"])) for m in p["size"].finditer(text))
    rest = p["size"].sub(" ", text)
    factors = [int(m["n"] or m["m"] or m["b"]) for m in p["factor"].finditer(rest)]
    toks = stems(text)
    for word, n in lang.quantities.factor_words.items():
        if phrase_at(toks, stems(word)):
            factors.append(n)
    percents = tuple(float(m["p"]) for m in p["percent"].finditer(text))
    mps = tuple(float(m["mp"]) for m in p["megapixels"].finditer(text))
    return Quantities(
        sizes=sizes,
        factors=tuple(dict.fromkeys(f for f in factors if f > 1)),
        percents=percents,
        megapixels=mps,
        rows=_table_rows(toks, kb, lang),
        firm_rows=_table_rows(toks, kb, lang, firm=True),
    )


def _table_rows(
    toks: list[str], kb: KnowledgeBase, lang: Language, firm: bool = False
) -> tuple[tuple[str, str], ...]:
    """Table rows named by key or alias (the longest name wins), else by a ranking word."""
    rows: list[tuple[str, str]] = []
    for table in kb.tables.values():
        named: list[tuple[int, str]] = []
        for row in table.rows:
            key = str(row[table.key])
            for name in [key, *table.aliases.get(key, [])]:
                words = stems(name.replace("_", " "))
                if len(words) > 1 or not firm and name in table.aliases.get(key, []):
                    if phrase_at(toks, words):
                        named.append((len(words), key))
        if named:
            rows += [(table.id, k) for _, k in named]
        elif table.rank_by and table.aliases and not firm:
            rank_by = table.rank_by
            ranking = sorted(table.rows, key=lambda r: float(r[rank_by]))
            if any(phrase_at(toks, stems(w)) for w in lang.quantities.largest):
                rows.append((table.id, str(ranking[-1][table.key])))
            elif any(phrase_at(toks, stems(w)) for w in lang.quantities.smallest):
                rows.append((table.id, str(ranking[0][table.key])))
    return tuple(dict.fromkeys(rows))


# -- subjects --------------------------------------------------------------------------------------


def _subjects(
    text: str,
    kb: KnowledgeBase,
    lang: Language,
    index: FactIndex,
    picture: bool,
    previous: list[Subject],
    follows: bool,
    attribute: str | None,
    quantities: Quantities,
    ranked: list[RankedFact],
) -> list[Subject]:
    toks = stems(text)
    named = [Subject("source", sid) for sid in kb.sources_named_in(text)]
    for table_id, _ in quantities.rows:  # "the bigger one" is a row of a source's table
        owner = table_id.split(".")[0]
        if owner in kb.sources and all(s.id != owner for s in named):
            named.append(Subject("source", owner, "named"))
    outside = [Subject("outside", name) for name in outside_names(text, kb, lang)]
    # the tasks the wording names; words with other common meanings ("bigger") only when none is firm
    tasks = [Subject("task", t.id) for t in kb.tasks.values() if _names_task(toks, t, firm=True)]
    tasks = tasks or [
        Subject("task", t.id, "loosely") for t in kb.tasks.values() if _names_task(toks, t, firm=False)
    ]
    subjects: list[Subject] = [*named, *outside, *tasks]
    # this tool runs the loaded sources' networks: with none it can run (imported cards), it is no subject
    tool = kb.tool if any(kb.runnable(s) for s in kb.sources) else None
    if tool is not None and any(phrase_at(toks, stems(w)) for w in lang.referents.tool):
        if not named or _opens_with(toks, lang.referents.tool, lang):
            subjects.append(Subject("tool", tool.id, "referent"))
    if picture and any(phrase_at(toks, stems(w)) for w in lang.referents.picture):
        if not named or not _pronoun_only(toks, lang):
            subjects.append(Subject("picture", "picture", "referent"))
    points = any(phrase_at(toks, stems(w)) for w in lang.referents.pronouns)
    if named and points and not picture:  # "compare it with MSSNet": "it" is the conversation's source
        subjects += [
            Subject(s.kind, s.id, "context")
            for s in previous
            if s.kind == "source" and s.id not in {n.id for n in named}
        ]
    if named or any(s.kind in ("tool",) for s in subjects):
        return subjects
    if outside and not any(s.kind == "picture" for s in subjects):
        return subjects
    # no source named: "it" is the conversation's source, a continuation inherits the last part's
    # subjects, else the attribute's owner, else the evidence
    if previous and (points or follows and _continues(toks, lang)):
        return subjects + [s for s in previous if s.kind != "picture" or picture]
    serving = _serving(kb, tasks)
    evidence = next((r.fact.source for r in ranked if r.fact.source in kb.sources), None)
    if serving and any(t.how == "loosely" for t in tasks) and evidence not in serving:
        serving = []  # a word with other meanings ("enhance") does not outweigh the evidence
    if serving:  # the job the person names: the sources made for it, the best-ranked first
        how = "loose-task" if any(t.how == "loosely" for t in tasks) else "task"
        return subjects + [Subject("source", sid, how) for sid in serving[:1]]
    owners = _attribute_owners(kb, index, attribute, ranked)
    top = next((r for r in ranked if r.fact.source in kb.sources), None)
    if len(owners) == 1 and top and top.fact.source != owners[0] and top.fact.attribute != attribute:
        owners = []  # another source's fact fits the question better even without the attribute's bonus
    if len(owners) == 1:
        return subjects + [Subject("source", owners[0], "attribute")]
    if points and not subjects:
        return [Subject("ambiguous", "")]
    best = next((r for r in ranked if r.fact.source in kb.sources), None)
    if best is not None:  # the evidence names a cited source, never this tool by itself
        return subjects + [Subject("source", best.fact.source, "evidence")]
    return subjects


def _attribute_owners(kb: KnowledgeBase, index: FactIndex, attribute: str | None, ranked) -> list[str]:
    """The sources whose facts state the attribute (not the tool's, not 'not known' lines); when
    several do, the one whose fact ranks best, if it clearly leads."""
    if not attribute:
        return []
    owners = list(
        dict.fromkeys(f.source for f in kb.facts if f.attribute == attribute and f.kind != "not-known")
    )
    if len(owners) <= 1:
        return owners
    stating = [r for r in ranked if r.fact.attribute == attribute and r.fact.source in owners]
    if len(stating) >= 2 and stating[0].fact.source != stating[1].fact.source:
        if stating[0].score - stating[1].score >= UNDERSTANDING.owner_margin:
            return [stating[0].fact.source]
    elif len(stating) >= 2:
        others = [r for r in stating if r.fact.source != stating[0].fact.source]
        if not others or stating[0].score - others[0].score >= UNDERSTANDING.owner_margin:
            return [stating[0].fact.source]
    return owners


def _serving(kb: KnowledgeBase, tasks: list[Subject]) -> list[str]:
    """Sources whose capability is the named task, primary ones first (one task named only)."""
    if len(tasks) != 1:
        return []
    order = {"primary": 0, "with-preprocessing": 1, "related": 2}
    caps = sorted(kb.capabilities_for(task_id=tasks[0].id), key=lambda c: order[c.role])
    made = [c.source for c in caps if c.role != "related"]
    return list(dict.fromkeys(made or [c.source for c in caps]))


def _names_task(toks: list[str], task, firm: bool) -> bool:
    aliases = [a for a in task.aliases if not firm or a not in task.ambiguous_aliases]
    return any(phrase_at(toks, stems(p)) for p in [task.label, task.id.replace("-", " "), *aliases])


def _opens_with(toks: list[str], phrases: list[str], lang: Language) -> bool:
    start = skip_fillers(toks, lang.fillers)
    window = toks[start : start + 3]
    return any(phrase_at(window, stems(p)) for p in phrases)


def _pronoun_only(toks: list[str], lang: Language) -> bool:
    """The picture words present are only pronouns ("it"), which a named source takes."""
    pronouns = {tuple(stems(p)) for p in lang.referents.pronouns}
    found = [tuple(stems(w)) for w in lang.referents.picture if phrase_at(toks, stems(w))]
    return all(f in pronouns or len(f) == 1 for f in found)


def _continues(toks: list[str], lang: Language) -> bool:
    start = skip_fillers(toks, [])
    return (
        any(toks[start : start + len(stems(c))] == stems(c) for c in lang.parts.continuations)
        or len(toks) <= 4
    )


def outside_names(text: str, kb: KnowledgeBase, lang: Language) -> list[str]:
    """Names of tools the question uses that no card mentions: the data's well-known products, and
    capitalised or versioned words that are in neither the cards' vocabulary nor the language data."""
    found: list[str] = []
    lowered = f" {text.lower()} "
    for product in sorted(lang.outside.products, key=len, reverse=True):
        p = product.lower()
        if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", lowered) and not any(
            p in f.lower() for f in found
        ):
            if not kb.sources_named_in(product):  # a loaded source is never outside
                found.append(product)
    runs = any(kb.runnable(s) for s in kb.sources)  # the tool's words count where it runs a source
    vocabulary = {_compact(w) for w in kb.vocabulary | (_tool_vocabulary(kb) if runs else frozenset())}
    not_models = {n.lower() for n in lang.outside.not_models}
    words = _WORD.findall(text)
    for word in words:
        w = word.strip(".'’")
        lw = w.lower()
        if _compact(lw) in vocabulary or lw in not_models or any(lw in f.lower().split() for f in found):
            continue
        if any(lw == n.lower() for names in kb.source_names.values() for n in names):
            continue
        versioned = any(c.isdigit() for c in w) and any(c.isalpha() for c in w) and len(w) > 2
        camel = any(c.isupper() for c in w[1:]) and w[0].isalpha()
        if (versioned and not _is_quantity(w)) or (camel and len(w) > 2):
            found.append(w)
    return found


def _compact(word: str) -> str:
    """'MSSNet-large' and 'MSSNet_large' are one name."""
    return word.lower().replace("-", "").replace("_", "")


def _is_quantity(word: str) -> bool:
    return bool(re.fullmatch(r"[x×]?\d+(?:[.,]\d+)?(?:x|×|px|mp|k|p|s|ms|gb|mb|fps|bit|%)?", word.lower()))


def _tool_vocabulary(kb: KnowledgeBase) -> frozenset[str]:
    texts = [f.text for f in kb.tool_facts] + [a for f in kb.tool_facts for a in f.answers]
    return frozenset(w.lower() for t in texts for w in re.findall(r"[A-Za-z][\w-]*", t))
