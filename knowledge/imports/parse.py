"""Read a seed prompt into sources, facts, tasks and capabilities.

The import keeps the question (prompt.json) and each entry's role (recommended model / related
paper); drops what reads as instructions or links elsewhere (a warning with the line and the
reason); turns each summary's sentences into facts that name their subject and the attribute they
state; gives the prompt's sources the task they share (knowledge.imports.tasks); and builds each
source's workflow from its own sentences. Sources are listed by role, then by whether they serve
the shared task, then in the prompt's order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from common.textsafe import clean_line
from knowledge.errors import KnowledgeError
from knowledge.imports.facts import link_facts, relevance_fact, summary_facts, task_fact
from knowledge.imports.names import short_name_for, source_id_for
from knowledge.imports.phrasing import imports_language
from knowledge.imports.seed_format import (
    Entry,
    ImportWarning,
    fail,
    merge_duplicates,
    read_entries,
    read_question,
)
from knowledge.imports.tasks import SourceText, TaskChoice, choose_tasks
from knowledge.imports.workflow import stated_ends, workflow_facts
from knowledge.schema import Capability, Fact, Links, Source, Task
from knowledge.seed_text import foreign_link, instruction_reason, name_subject, split_sentences
from knowledge.store import PACKAGE_CARDS, canonical_links, load_knowledge_uncached, urls_in

MIN_FACT_CHARS = 10


@dataclass
class SeedPrompt:
    question: str
    sources: list[Source] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)  # tasks the import made
    capabilities: list[Capability] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)
    shared_task: str | None = None  # the task the prompt's sources share, if they share one


def _links(entry: Entry) -> Links:
    """The Paper line's link is the paper (an arXiv page too: it is what "Papers and tools" lists)."""
    arxiv = entry.paper if entry.paper and "arxiv.org/abs/" in entry.paper else None
    return Links(paper=entry.paper, arxiv=None if arxiv == entry.paper else arxiv, code=entry.github)


def _screened_sentences(entry: Entry, warnings: list[ImportWarning]) -> list[str]:
    """The summary's sentences that are findings: instructions and foreign links are dropped."""
    own = [u for u in (entry.paper, entry.github) if u]
    kept = []
    for sentence in split_sentences(entry.summary or ""):
        reason = instruction_reason(sentence)
        link = foreign_link(sentence, own)
        if reason:
            warnings.append(ImportWarning(entry.summary_line, f"dropped a sentence that {reason}", sentence))
        elif link:
            warnings.append(
                ImportWarning(
                    entry.summary_line,
                    f"dropped a sentence linking {link}, which is not this entry's Paper or GitHub link",
                    sentence,
                )
            )
        elif len(sentence) >= MIN_FACT_CHARS:
            kept.append(sentence)
    return kept


def _usable_entries(lines: list[str], warnings: list[ImportWarning]) -> list[Entry]:
    entries = []
    for entry in merge_duplicates(read_entries(lines), warnings):
        link = foreign_link(entry.model, [])
        if link:  # a name carries no links: the entry's own are on its Paper and GitHub lines
            entry.model = clean_line(re.sub(r"\(?\s*" + re.escape(link) + r"\s*\)?", " ", entry.model)).strip(
                " -:,"
            )
            warnings.append(
                ImportWarning(entry.line, f"removed the link {link} from the entry's name", entry.model)
            )
        reason = instruction_reason(entry.model)
        if reason:  # a name is shown in every answer that cites it: it must not carry orders
            warnings.append(ImportWarning(entry.line, f"dropped the entry: its name {reason}", entry.model))
        else:
            entries.append(entry)
    if not entries:
        raise KnowledgeError("seed prompt: no usable 'Model:' entries (see the warnings)")
    for entry in entries:
        if not entry.paper:
            warnings.append(
                ImportWarning(
                    entry.line, "no 'Paper:' line: the source is cited without a paper link", entry.model
                )
            )
        if not entry.github:
            warnings.append(
                ImportWarning(
                    entry.line, "no 'GitHub:' line: the source is cited without a code link", entry.model
                )
            )
    return entries


def _source(entry: Entry, sid: str, sentences: list[str]) -> Source:
    short = short_name_for(entry.model, entry.github, entry.summary or "")
    own = {u.rstrip("/").lower() for u in (entry.paper, entry.github) if u}
    # the summary's own spelling of an entry link ("VGCQ/EASIER") is kept so quoting it stays grounded
    extra = list(
        dict.fromkeys(
            u
            for s in sentences
            for u in urls_in(s)
            if u.rstrip("/").lower() in own and u not in (entry.paper, entry.github)
        )
    )
    head = entry.model.split(":")[0].strip()
    return Source(
        id=sid,
        title=entry.model,
        kind=entry.kind,
        links=_links(entry).model_copy(update={"extra": extra}),
        role="recommended" if entry.kind == "model" else "related",
        short_name=short if short and short != head else None,
        also_known_as=[entry.model]
        if short and short.lower() not in head.lower().split() and short != entry.model
        else [],
    )


def _capabilities(
    source: Source, sentences: list[str], choice: TaskChoice, tasks: dict[str, Task]
) -> list[Capability]:
    caps = []
    for i, link in enumerate(choice.links[source.id]):
        task = tasks[link.task_id]
        taken, given = stated_ends(sentences, task)
        caps.append(
            Capability(
                source=source.id,
                task=link.task_id,
                # the best-matching task is what the source is for; the others it touches
                role="primary" if i == 0 else "related",
                input=taken or task.input,
                output=given or task.output,
                confidence=link.confidence,
                evidence=link.evidence,
            )
        )
    return caps


def parse_seed(text: str, tasks: dict[str, Task] | None = None, origin: str = "seed:prompt") -> SeedPrompt:
    """Read a prompt in the seed format. `tasks`: the vocabulary to link to (default: packaged)."""
    if tasks is None:
        from knowledge.store import load_knowledge

        tasks = dict(load_knowledge(PACKAGE_CARDS).tasks)
    tasks = dict(tasks)
    lines = text.splitlines()
    prompt = SeedPrompt(question=clean_line(read_question(lines)))
    entries = _usable_entries(lines, prompt.warnings)
    used: set[str] = set()
    read: list[tuple[Entry, Source, list[str]]] = []
    for entry in entries:
        sid = source_id_for(entry.model, entry.github, entry.summary or "") or "source"
        base, n = sid, 2
        while sid in used:
            sid, n = f"{base}-{n}", n + 1
        used.add(sid)
        screened = _screened_sentences(entry, prompt.warnings)
        try:
            name = (
                short_name_for(entry.model, entry.github, entry.summary or "")
                or entry.model.split(":")[0].strip()
            )
            lang = imports_language()  # one statement a fact: a sentence joining two is two
            sentences = [c for s in screened for c in lang.clauses(name_subject(s, name))]
            read.append((entry, _source(entry, sid, sentences), sentences))
        except ValidationError as exc:
            raise fail(
                entry.summary_line or entry.line, f"cannot make a card: {exc.errors()[0]['msg']}", entry.model
            ) from None

    texts = [
        SourceText(s.id, s.name, s.title, s.role == "recommended", sentences) for _, s, sentences in read
    ]
    choice = choose_tasks(texts, prompt.question, tasks, origin)
    for task in choice.new_tasks:
        tasks[task.id] = task
        prompt.tasks.append(task)
    prompt.shared_task = choice.shared

    for entry, source, sentences in read:
        try:
            own_tasks = [tasks[link.task_id] for link in choice.links[source.id]]
            primary = own_tasks[0] if own_tasks else None
            facts = summary_facts(source.id, source.name, sentences, own_tasks)
            purpose = task_fact(source.id, source.name, sentences, primary, facts) if primary else None
            facts = [purpose, *facts] if purpose else facts
            facts.insert(0, relevance_fact(source, sentences, primary))
            facts[1:1] = link_facts(source, sentences)
            attributes = [f.attribute for f in facts if f.id.startswith(f"{source.id}.summary-")]
            facts += workflow_facts(source.id, source.name, sentences, attributes, primary)
            caps = _capabilities(source, sentences, choice, tasks)
        except ValidationError as exc:
            raise fail(
                entry.summary_line or entry.line, f"cannot make a card: {exc.errors()[0]['msg']}", entry.model
            ) from None
        prompt.sources.append(source)
        prompt.facts.extend(facts)
        prompt.capabilities.extend(caps)
    # a source with no summary serves its task after those whose summaries say how: a question
    # naming the task is answered from their words (the long form still leads with the recommended)
    bare = {s.id for _, s, sentences in read if not sentences}
    prompt.capabilities.sort(key=lambda c: c.source in bare)
    serving = {c.source for c in prompt.capabilities if c.task == choice.shared}
    prompt.sources.sort(key=lambda s: (s.role != "recommended", s.id not in serving))
    _mark_runnable(prompt)
    return prompt


def _mark_runnable(prompt: SeedPrompt) -> None:
    """A source the packaged cards know (same id, only its canonical links) keeps their word on
    which of its tasks the live demo can run: importing the founding prompt still allows the demo."""
    packaged = load_knowledge_uncached(PACKAGE_CARDS)
    runnable = {(c.source, c.task) for c in packaged.capabilities if c.runnable}
    canonical = {sid: {u.rstrip("/").lower() for u in urls} for sid, urls in canonical_links().items()}
    same = {
        s.id
        for s in prompt.sources
        if s.id in canonical and {u.rstrip("/").lower() for u in s.urls()} <= canonical[s.id]
    }
    prompt.capabilities = [
        c.model_copy(update={"runnable": True}) if c.source in same and (c.source, c.task) in runnable else c
        for c in prompt.capabilities
    ]
