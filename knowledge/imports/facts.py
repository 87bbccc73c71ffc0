"""A source's card facts from its summary: one fact per sentence with the attribute it states and the
questions it answers (made from its own words through imports.yml's frames), what it is for, why it
matters to the prompt's question, and its links, with a "not given" line for a missing link."""

from __future__ import annotations

import re
from typing import Any

from knowledge.imports.phrasing import ImportsLanguage, imports_language, is_background, method_sentence
from knowledge.schema import Fact, Links, Source, Task
from knowledge.text import phrase_in

MAX_PHRASE_QUESTIONS = 3
MAX_COUNT_QUESTIONS = 3


def _id_words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def example_questions(
    text: str, name: str, attribute: str | None, lang: ImportsLanguage | None = None
) -> list[str]:
    """Questions the fact answers, from its own words: frames with its noun phrases (its
    attribute's frames first) and a count question for each number with what it counts."""
    lang = lang or imports_language()
    frames = lang.data.questions
    skip = {w.lower() for w in name.split()}
    phrases = lang.noun_phrases(text, skip)[:MAX_PHRASE_QUESTIONS]
    # a phrase goes into its attribute's frames; a bare "what is the {phrase}" only for a fact that
    # states no attribute (alone, a short phrase sits near unrelated questions: "small footprint
    # version" near "make my photos bigger")
    by_attribute = frames.attribute.get(attribute or "", [])
    out = [f.format(phrase=p) for p in phrases for f in (by_attribute or frames.phrase)]
    out += [f.format(counted=c) for _, c in lang.counted(text)[:MAX_COUNT_QUESTIONS] for f in frames.count]
    return list(dict.fromkeys(out))


def statement_attribute(sentence: str, lang: ImportsLanguage | None = None) -> str | None:
    """The attribute the sentence states: by imports.yml's statement cues (the one opening it, else
    the one tied to a number in it, else the first listed it carries: mechanism, results, cost,
    data, limitations, code ...); else the attribute whose question cue it carries (the vocabulary
    questions are read with, which names topics more than statements: "noise", "video")."""
    lang = lang or imports_language()
    stated = lang.statement_attribute(sentence)
    if stated:
        return stated
    from knowledge.lang.language import language

    hits = language().attribute_hits(sentence)
    return hits[0].id if hits else None


def summary_facts(sid: str, name: str, sentences: list[str], tasks: list[Task]) -> list[Fact]:
    lang = imports_language()
    facts = []
    # what the source is for: the sentence that says what it is, else its first one, if it states nothing else
    method = method_sentence(sentences, lang)
    for i, text in enumerate(sentences, start=1):
        # the field's background ("Noise reduction is usually done with ...") is why the source was
        # made, not how it works
        background = lang.data.background_attribute if is_background(text, lang) else None
        attribute = background or statement_attribute(text, lang)
        if attribute is None and (text == method or (method is None and i == 1)):
            attribute = "task"  # (a sentence that states something more keeps that: one attribute a fact)
        tags = ["summary"] + [f"task:{t.id}" for t in tasks if any(phrase_in(a, text) for a in _names(t))]
        facts.append(
            Fact(
                id=f"{sid}.summary-{i}",
                source=sid,
                text=text,
                origin="SEED: summary",
                tags=tags,
                attribute=attribute,
                answers=example_questions(text, name, attribute, lang),
            )
        )
    return facts


def _names(task: Task) -> list[str]:
    return [task.id.replace("-", " "), *task.aliases]


def task_fact(sid: str, name: str, sentences: list[str], task: Task, facts: list[Fact]) -> Fact | None:
    """What the source is for, when no summary sentence says only that: its task (without the
    gloss, which is the task's, not the source's words) and what the source is, in its own words."""
    if any(f.attribute == "task" for f in facts):
        return None
    lang = imports_language()
    point = point_of(name, sentences)
    if point is None:
        return None
    label = re.sub(r"\s*\(.*\)$", "", task.label)
    return Fact(
        id=f"{sid}.task",
        source=sid,
        text=lang.frame("task-fact", name=name, task=label[:1].lower() + label[1:], point=point),
        origin="SEED: summary",
        tags=[f"task:{task.id}"],
        attribute="task",
    )


def point_of(name: str, sentences: list[str]) -> str | None:
    """What the source is, in its own summary's words: the apposition after its name ("X, a
    two-stage framework ...") in the sentence that introduces it, else that whole sentence."""
    sentence = method_sentence(sentences) or next(iter(sentences), None)
    if sentence is None:
        return None
    m = re.search(re.escape(name) + r",\s+((?:an?|the)\s.+)$", sentence)
    return m.group(1).rstrip(".") + "." if m else sentence


def relevance_fact(source: Source, sentences: list[str], task: Task | None) -> Fact:
    lang = imports_language()
    name = source.name
    label = task.label[:1].lower() + task.label[1:] if task else ""
    point = point_of(name, sentences) or (
        lang.frame("point-links-only") if source.title.strip() == name else f"{source.title.rstrip('.')}."
    )
    frame = "relevance-recommended" if source.role == "recommended" else "relevance-related"
    return Fact(
        id=f"{source.id}.{source.role or 'related'}",
        source=source.id,
        text=lang.frame(frame, name=name, task=label, topic=label, point=point),
        origin="SEED: recommended models" if source.role == "recommended" else "SEED: related papers",
        tags=["relevance"],
        attribute="relevance",
    )


def link_facts(source: Source, sentences: list[str] | None = None) -> list[Fact]:
    """One line with every link of the source (code attribute), and what the prompt does not give:
    a link, or (`sentences` empty) any summary at all."""
    sentences = [""] if sentences is None else sentences
    lang = imports_language()
    name = source.name
    links: Links = source.links
    paper = links.paper or links.arxiv
    shown = [lang.frame("link-paper", url=paper)] if paper else []
    shown += [lang.frame("link-code", url=links.code)] if links.code else []
    out = []
    extra: dict[str, Any] = {"attribute": "code"}
    if shown:
        out.append(
            Fact(
                id=f"{source.id}.links",
                source=source.id,
                text=lang.frame("links-line", name=name, links=" and ".join(shown)),
                origin="SEED: links",
                tags=["bibliography"],
                **extra,
            )
        )
    if not sentences:
        out.append(
            Fact(
                id=f"{source.id}.no-summary",
                source=source.id,
                text=lang.frame("summary-none", name=name),
                origin="SEED: links",
                tags=["bibliography"],
                kind="not-known",
                attribute="mechanism",
            )
        )
    for what, url in (("code", links.code), ("paper", paper)):
        if url is None:
            out.append(
                Fact(
                    id=f"{source.id}.no-{what}-link",
                    source=source.id,
                    text=lang.frame("link-none", what=lang.frame(f"what-{what}"), name=name),
                    origin="SEED: links",
                    tags=["bibliography"],
                    kind="not-known",
                    **extra,
                )
            )
    return out
