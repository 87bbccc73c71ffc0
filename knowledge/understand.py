"""Understand a question once: `understand(question, kb) -> Understanding`.

The question is split into asked parts; each part gets its subjects (a source, this tool, the
attached picture, a name outside the sources, or "ambiguous"), the attribute asked, the answer
kind, the quantities written in it and the facts ranked for it. Everything about phrasing comes
from the language data (knowledge/lang/<code>/); the agent only reads the result.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from knowledge.fact_index import FactIndex, fact_index
from knowledge.lang.detect import language_of
from knowledge.lang.glossary import in_english
from knowledge.lang.language import Language, language
from knowledge.lang.match import stems
from knowledge.parts import Part, Quantities, RankedFact, Subject, Understanding
from knowledge.quantities import quantities as read_quantities
from knowledge.quantities import row_names
from knowledge.reading import read_whole
from knowledge.settings import UNDERSTANDING, UnderstandingSettings
from knowledge.store import KnowledgeBase
from knowledge.subjects import outside_names
from knowledge.subjects import subjects as find_subjects
from knowledge.text import tokens

__all__ = ["Part", "Quantities", "RankedFact", "Subject", "Understanding", "outside_names", "understand"]

MAX_PARTS = 6  # distinct asked points kept from one question

# Sentence ends: the one piece of splitting that is punctuation, not language.
_SENTENCE_END = re.compile(r"(?<=[?!.])\s+(?=\S)|\n+")


def understand(
    question: str,
    kb: KnowledgeBase,
    *,
    context: list[str] | None = None,
    picture: bool = False,
    earlier: Understanding | None = None,
    picture_size: tuple[int, int] | None = None,
    lang: Language | None = None,
    settings: UnderstandingSettings = UNDERSTANDING,
) -> Understanding:
    """Parts of `question` with subjects, attribute, kind, quantities and ranked facts.

    `context`: the sources a conversation is about (what "it" means without a picture);
    `picture`: a picture is attached ("it", "this", "my photo" mean the picture);
    `earlier`: the conversation's previous question, which a short follow-up ("and the small
    one?", "same for EASIER") continues: its attribute and sizes carry over when not restated;
    `picture_size`: the attached picture's measured (width, height), the size of a part about it
    that states none."""
    lang = lang or language()
    index = fact_index(kb, lang)
    code = language_of(question, lang.languages)
    question = in_english(question, code)  # another language's question, read in English
    texts, shortened = _split(question, lang)
    parts: list[Part] = []
    tool = kb.tool.id if kb.tool is not None else None
    previous: list[Subject] = [Subject("source", s, "context") for s in (context or []) if s in kb.sources]
    previous += [Subject("tool", s, "context") for s in (context or []) if s == tool]
    for text in texts:
        carried = (
            earlier.parts[-1] if earlier and earlier.parts and not parts and _short(text, settings) else None
        )
        part = _understand_part(
            text, kb, lang, index, settings, picture, previous, bool(parts) or carried is not None, carried
        )
        if picture_size and part.about_picture and not part.quantities.sizes:
            part.quantities = replace(part.quantities, sizes=(picture_size,), measured=True)
        parts.append(part)
        if part.subjects:
            previous = [Subject(s.kind, s.id, "inherited") for s in part.subjects if s.kind != "ambiguous"]
    understood = Understanding(
        question=question,
        parts=parts,
        picture=picture,
        language=code,
        shortened=shortened,
    )
    return read_whole(understood, kb, lang, settings)


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
        chunks = _fold_statements([c.strip() for c in chunks if c.strip()], lang)
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


def _fold_statements(chunks: list[str], lang: Language) -> list[str]:
    """A piece that asks nothing ("I use Lightroom on my RAWs; could MSSNet replace that step?")
    is the context of the piece after it, not a part of its own."""
    folded: list[str] = []
    pending: list[str] = []
    for i, chunk in enumerate(chunks):
        if i < len(chunks) - 1 and not _is_asked(chunk, lang):
            pending.append(chunk)
            continue
        folded.append(" ".join([*pending, chunk]))
        pending = []
    return folded


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
    carried: Part | None = None,
) -> Part:
    vector = index.embed(text)
    kind_hits = lang.kind_hits(text)
    found = read_quantities(text, kb, lang)
    asked = index.attribute_vector(text, vector)  # names out of the way: what is asked, not of whom
    attribute, attribute_by = _attribute(text, kb, lang, index, asked, settings, kind_hits, found)
    if carried is not None and carried.attribute and attribute_by in ("none", "meaning"):
        attribute, attribute_by = carried.attribute, "earlier"
    kind, kind_by = _kind(kind_hits, lang, index, vector, attribute, settings)
    if carried is not None and kind == "choice" and not found.rows and len(carried.quantities.rows) >= 2:
        # "which one would you pick?": one of the rows the question before set side by side
        found = replace(found, rows=carried.quantities.rows, firm_rows=carried.quantities.rows)
    hits = lang.attribute_hits(text, row_names(stems(text), kb, lang))
    longest = max((h.length for h in hits if h.id == attribute), default=0)
    # a shorter cue inside the question ("how long" in "how long did training take") is a weaker reading
    alternatives = [h.id for h in hits if h.id != attribute and h.length >= longest]
    for meant, cosine in index.nearest_labels("attribute", asked):  # what the nearest questions ask
        if meant != attribute and meant not in alternatives and cosine >= settings.attribute_min_cosine:
            alternatives.append(meant)
    # the kind's own attribute ("how does X decide ..." is its mechanism) is a reading too
    alternatives += [a for a in lang.attributes if a == kind and a != attribute and a not in alternatives]
    if (
        carried is not None
        and not found.sizes
        and carried.quantities.sizes
        and not carried.quantities.measured
    ):  # "and at x2?"
        found = replace(found, sizes=carried.quantities.sizes)
    # a row named by a one-word alias ("small") counts only beside its table's source
    named_ids = set(kb.sources_named_in(text))
    found = replace(
        found, rows=tuple(r for r in found.rows if r[0].split(".")[0] in named_ids or r in found.firm_rows)
    )
    raw = index.scores(text, vector)
    ranked = _rank(index, raw, attribute, settings)
    subjects = find_subjects(
        text, kb, lang, index, picture, previous, follows, attribute, found, ranked, kind
    )
    named = [s for s in subjects if s.kind == "source" and s.how == "named"]
    sides = [s for s in subjects if s.kind == "source" and s.how in ("named", "context")]
    if attribute_by == "kind" and len(sides) < 2:  # "A versus B" of one source's parts: no default
        attribute, attribute_by = None, "none"
        ranked = _rank(index, raw, None, settings)
    stating = {f.source for f in index.facts if f.attribute == attribute}
    if kind == "yes-no" and len(named) >= 2 and (not attribute or all(s.id in stating for s in named)):
        # "should I use A or B": both sides, not a yes or no about one; not when the sides do not
        # state the asked point ("if I pruned A with B, would it be faster?")
        kind = "comparison"
    picture_asked = attribute is None or attribute_by == "meaning"  # a cue or a number outweighs it
    if picture_asked and any(s.kind == "picture" for s in subjects) and lang.referents.picture_attribute:
        attribute, attribute_by = lang.referents.picture_attribute, "referent"
        ranked = _rank(index, raw, attribute, settings)
    opposite = bool(attribute) and lang.asks_opposite(text, str(attribute))
    return Part(
        text, kind, attribute, subjects, found, ranked, attribute_by, tuple(alternatives), opposite, kind_by
    )


def _rank(index: FactIndex, raw: np.ndarray, attribute: str | None, settings) -> list[RankedFact]:
    scores = raw.copy()
    if attribute:
        scores += settings.attribute_bonus * np.array([f.attribute == attribute for f in index.facts])
    order = np.argsort(-scores)
    return [RankedFact(index.facts[i], float(scores[i]), float(raw[i])) for i in order if scores[i] > 0]


def _short(text: str, settings: UnderstandingSettings) -> bool:
    """A follow-up that leans on the question before it: a few content words only."""
    return len(tokens(text)) <= settings.follow_up_words


def _attribute(
    text, kb: KnowledgeBase, lang: Language, index: FactIndex, vector, settings, kind_hits, found: Quantities
) -> tuple[str | None, str]:
    hits = lang.attribute_hits(text, row_names(stems(text), kb, lang))
    if hits:
        # among the longest cues, an attribute whose usual kind is the part's kind ("how many
        # parameters ... the bigger one" asks a number, not whether the size changes)
        kind = kind_hits[0].id if kind_hits else None
        longest = [h for h in hits if h.length == hits[0].length]
        fitting = [h for h in longest if lang.attributes[h.id].kind == kind]
        return (fitting or longest)[0].id, "cue"
    said = [q for q in ("sizes", "factors", "percents", "megapixels") if getattr(found, q)]
    implied = [a.id for a in lang.attributes.values() if set(a.implied_by) & set(said)]
    if implied:
        return implied[0], "quantity"
    if kind_hits and lang.kinds[kind_hits[0].id].default_attribute:
        return lang.kinds[kind_hits[0].id].default_attribute, "kind"
    label, cosine = index.nearest_label("attribute", vector)
    if label and cosine >= settings.attribute_min_cosine:
        return label, "meaning"
    return None, "none"


def _kind(hits, lang: Language, index: FactIndex, vector, attribute, settings) -> tuple[str, str]:
    """The answer kind and how it was found: a cue, the nearest example by meaning, the asked
    attribute's usual kind, or the default."""
    if hits:
        return hits[0].id, "cue"
    label, cosine = index.nearest_label("kind", vector)
    if label and cosine >= settings.kind_min_cosine:
        return label, "meaning"
    if attribute and lang.attributes[attribute].kind:
        return str(lang.attributes[attribute].kind), "attribute"
    return "definition", "default"


# -- quantities ------------------------------------------------------------------------------------
