"""Import a prompt in the seed's format into source cards.

The format (see shared/seed-prompt.txt): the user's question in double quotes after
"asked the following question:", then a "Recommended AI Models" section and a "Related Papers"
section whose entries are `Model:` lines followed by `Paper:`, `GitHub:` and `Summary:` lines.
A line that breaks the format is named in the error. The import keeps the question
(prompt.json), each entry's role (recommended model / related paper), turns summaries into facts
that name their subject, drops what reads as instructions or links elsewhere (a warning with the
line and the reason) and links every source to tasks, with a confidence (`knowledge.task_links`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from common.files import atomic_write_text, check_writable, make_folder
from common.textsafe import clean_line
from knowledge.errors import KnowledgeError
from knowledge.schema import Capability, Fact, Links, Prompt, Source, Task
from knowledge.seed_text import foreign_link, instruction_reason, name_subject, split_sentences
from knowledge.store import PACKAGE_CARDS, SPECIAL_FILES, canonical_links, load_knowledge_uncached, urls_in
from knowledge.task_links import (
    KEEP_BESIDE_TITLE_TASK,
    STRONG_LINK,
    TaskLink,
    known_task_links,
    names_the_task,
    new_task_link,
    title_task_phrase,
)
from knowledge.text import phrase_in

# "### Recommended AI Models:", "**Related Papers**", "Related papers:" all open a section.
_SECTION = re.compile(
    r"^(?:#{1,6}\s*)?(?:\*\*|__)?\s*(recommended (?:ai )?models?|related (?:papers?|work))"
    r"\s*:?\s*(?:\*\*|__)?\s*:?\s*$",
    re.I,
)
_FIELD = re.compile(
    r"^(model|title|name|paper|arxiv|pdf|github|code|repository|repo|summary|abstract|description)"
    r"(?:\s*\d+)?\s*:\s*(.*)$",
    re.I,
)
# Other words prompts use for the four fields.
_FIELD_OF = {
    "title": "model",
    "name": "model",
    "arxiv": "paper",
    "pdf": "paper",
    "code": "github",
    "repository": "github",
    "repo": "github",
    "abstract": "summary",
    "description": "summary",
}
_URL = re.compile(r"^https?://\S+$")
# Sentences that say what the method does, best first: the workflow's model step quotes one.
_METHOD_WORDS = (
    re.compile(r"\b(introduces?|proposes?|presents?|named)\b"),
    re.compile(r"\b(develops?|extends?|builds?|designs?|consists?|uses|employs|relies)\b"),
)
MIN_FACT_CHARS = 10


@dataclass(frozen=True)
class ImportWarning:
    line: int
    reason: str
    text: str = ""

    def __str__(self) -> str:
        shown = f": {self.text.strip()[:70]!r}" if self.text.strip() else ""
        return f"line {self.line}: {self.reason}{shown}"


@dataclass
class SeedPrompt:
    question: str
    sources: list[Source] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)  # tasks the import made
    capabilities: list[Capability] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


@dataclass
class _Entry:
    kind: Literal["model", "paper"]
    line: int
    model: str
    paper: str | None = None
    github: str | None = None
    summary: str | None = None
    summary_line: int = 0
    field_lines: dict[str, int] = field(default_factory=dict)


def _plain(line: str) -> str:
    """Tolerate Markdown dressing around a field: '- **Model:** X' reads as 'Model: X'."""
    line = re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", line.strip())
    return re.sub(r"^\*\*([A-Za-z]+)\s*:\s*\*\*", r"\1:", re.sub(r"^\*\*([A-Za-z]+)\*\*\s*:", r"\1:", line))


def _fail(line_no: int, message: str, line: str = "") -> KnowledgeError:
    shown = f": {line.strip()[:60]!r}" if line.strip() else ""
    return KnowledgeError(f"seed prompt line {line_no}: {message}{shown}")


def _question(lines: list[str]) -> str:
    for i, line in enumerate(lines):
        if "asked the following question" in line.lower():
            for j in range(i + 1, len(lines)):
                text = lines[j].strip()
                if not text:
                    continue
                if text[0] in '"\u201c':  # straight or curly quotes, on one line or wrapped over several
                    for k in range(j, min(j + 8, len(lines))):
                        end = lines[k].strip()
                        if end and end[-1] in '"\u201d' and (k > j or len(end) >= 2):
                            quoted = " ".join(ln.strip() for ln in lines[j : k + 1])[1:-1].strip()
                            if len(quoted) > 3:
                                return quoted
                            break
                raise _fail(j + 1, "expected the user's question in double quotes", lines[j])
            raise _fail(i + 1, "the question announced here is missing", line)
    raise KnowledgeError("seed prompt: no line says 'A user has asked the following question:'")


def _entries(lines: list[str]) -> list[_Entry]:
    entries: list[_Entry] = []
    section: Literal["model", "paper"] | None = None
    current: _Entry | None = None
    last_key: str | None = None
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if _SECTION.match(line):
            section = "model" if "recommended" in line.lower() else "paper"
            current, last_key = None, None
            continue
        if section is None or not line:
            last_key = None
            continue  # preamble, or a blank line between entries
        if line.rstrip(":").lower() == "answer":
            break  # the prompt ends where the model's answer would begin
        if line.startswith("#"):
            raise _fail(no, "unknown section (expected 'Recommended AI Models' or 'Related Papers')", raw)
        match = _FIELD.match(_plain(line))
        if not match and last_key == "summary" and current is not None:
            current.summary = (
                (current.summary or "") + " " + clean_line(line)
            )  # a summary wrapped onto the next line
            continue
        if not match:
            raise _fail(no, "expected 'Model:', 'Paper:', 'GitHub:' or 'Summary:'", raw)
        key, value = match.group(1).lower(), clean_line(match.group(2))  # no terminal escapes in cards
        key = _FIELD_OF.get(key, key)
        if (
            key == "paper"
            and value.lower().startswith(("https://github.com/", "http://github.com/"))
            and current is not None
            and current.github is None
        ):
            key = "github"  # a code link written on the paper line
        if not value:
            raise _fail(no, f"'{match.group(1)}:' has no value", raw)
        if key == "model":
            current = _Entry(kind=section, line=no, model=value)
            entries.append(current)
            last_key = key
            continue
        if current is None:
            raise _fail(no, f"'{match.group(1)}:' comes before any 'Model:' line", raw)
        if getattr(current, key) is not None:
            raise _fail(no, f"second '{match.group(1)}:' for the same model", raw)
        arxiv_id = re.fullmatch(r"arxiv:\s*(\d{4}\.\d{4,5}(?:v\d+)?)", value, re.I)
        if key == "paper" and arxiv_id:
            value = f"https://arxiv.org/abs/{arxiv_id.group(1)}"  # "arXiv:2107.10833"
        if key in ("paper", "github") and not _URL.match(value):
            raise _fail(no, f"'{match.group(1)}:' must be an http(s) URL", raw)
        setattr(current, key, value)
        current.field_lines[key] = no
        last_key = key
        if key == "summary":
            current.summary_line = no
    if not entries:
        raise KnowledgeError(
            "seed prompt: no 'Model:' entries under 'Recommended AI Models' or 'Related Papers'"
        )
    return entries


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def _merge_duplicates(entries: list[_Entry], warnings: list[ImportWarning]) -> list[_Entry]:
    """An entry listed twice under the same name merges into the first (links must agree)."""
    kept: list[_Entry] = []
    for entry in entries:
        first = next((e for e in kept if _same_name(e.model, entry.model)), None)
        if first is None:
            kept.append(entry)
            continue
        for key in ("paper", "github"):
            mine, theirs = getattr(entry, key), getattr(first, key)
            if mine and theirs and mine.rstrip("/").lower() != theirs.rstrip("/").lower():
                raise _fail(
                    entry.field_lines[key],
                    f"'{entry.model}' is already listed at line {first.line} "
                    f"with a different {key.capitalize()} link",
                    mine,
                )
            if mine and not theirs:
                setattr(first, key, mine)
        if entry.summary:
            first.summary = f"{first.summary} {entry.summary}" if first.summary else entry.summary
            first.summary_line = first.summary_line or entry.summary_line
        if entry.kind == "model":
            first.kind = "model"  # listed as recommended anywhere: it is recommended
        warnings.append(
            ImportWarning(
                entry.line,
                f"'{entry.model}' is listed twice (first at line {first.line}): merged into one source",
            )
        )
    return kept


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _repo_name(github: str | None) -> str | None:
    if not github:
        return None
    name = github.rstrip("/").split("/")[-1].removesuffix(".git")
    return name if name and "github.com" not in name else None


def source_id_for(model: str, github: str | None) -> str:
    """The title's lead word ("FeatSharp: Your Vision..." -> featsharp), else the repository's name
    (kky7/MSSNet -> mssnet), else the first words of the title."""
    head = model.split(":")[0].strip()
    if ":" in model and len(head.split()) <= 2:
        return _slug(head)  # the name the paper gives itself, even when its code lives in a toolkit
    repo = _repo_name(github)
    if repo:
        return _slug(repo)
    return _slug(" ".join(model.split()[:4]))[:40].strip("-")


def short_name_for(model: str, github: str | None, summary: str) -> str | None:
    """The name a person would use: 'Real-ESRGAN' for 'Real-ESRGAN: Training ...', 'MSSNet' for
    'Deblur-MSSNet-GoPro' with the repository kky7/MSSNet, 'EASIER' when the summary writes the
    repository's name so; None when only the title names the source."""
    head = model.split(":")[0].strip()
    repo = _repo_name(github)
    if repo:
        for text in (model, summary):
            m = re.search(rf"(?<![A-Za-z0-9]){re.escape(repo)}(?![A-Za-z0-9])", text, re.I)
            if m:
                return m.group(0)
    if ":" in model and len(head.split()) <= 3:
        return head
    if len(model.split()) <= 2:
        return model
    return None


def _links(entry: _Entry) -> Links:
    arxiv = entry.paper if entry.paper and "arxiv.org/abs/" in entry.paper else None
    paper = entry.paper if entry.paper and not arxiv else None
    return Links(paper=paper, arxiv=arxiv, code=entry.github)


def _screened_sentences(entry: _Entry, warnings: list[ImportWarning]) -> list[str]:
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


def _task_links(
    entry: _Entry, name: str, sentences: list[str], tasks: dict[str, Task], taken: set[str], origin: str
) -> list[TaskLink]:
    links = known_task_links(tasks, entry.model, " ".join(sentences))
    if not links:
        return [new_task_link(name, entry.model, sentences, taken, origin)]
    # A title that names its own task ("... for Biomedical Image Segmentation") is believed over
    # loose alias matches ("segmentation" is only an alias of feature upsampling), unless they are strong.
    named = title_task_phrase(entry.model)
    if (
        named
        and links[0].confidence < STRONG_LINK
        and not any(names_the_task(tasks[link.task_id], named) for link in links)
    ):
        return [
            new_task_link(name, entry.model, sentences, taken, origin),
            *(link for link in links if link.confidence >= KEEP_BESIDE_TITLE_TASK),
        ]
    return links


def _capabilities(sid: str, role: str, links: list[TaskLink], tasks: dict[str, Task]) -> list[Capability]:
    caps = []
    for i, link in enumerate(links):
        task = tasks[link.task_id]
        caps.append(
            Capability(
                source=sid,
                task=link.task_id,
                # the best-matching task is what the source is for; the others it touches
                role="primary" if i == 0 else "related",
                input=task.input or f"what {task.label.lower()} starts from",
                output=task.output or f"the {task.label.lower()} result",
                confidence=link.confidence,
                evidence=link.evidence,
            )
        )
    return caps


def _attribute_of(sentence: str, first: bool) -> str | None:
    """The attribute a summary sentence states: the first says what the source is for; another one
    the attribute whose language-data cue it carries, if any."""
    if first:
        return "task"
    from knowledge.lang.language import language

    hits = language().attribute_hits(sentence)
    return hits[0].id if hits else None


def _facts(
    sid: str,
    source: Source,
    entry: _Entry,
    sentences: list[str],
    links: list[TaskLink],
    tasks: dict[str, Task],
) -> list[Fact]:
    name = source.name if len(source.name.split()) <= 3 else None
    called = name or source.title
    facts = []

    def add(suffix: str, text: str, origin: str, tags: list[str], **extra) -> None:
        facts.append(Fact(id=f"{sid}.{suffix}", source=sid, text=text, origin=origin, tags=tags, **extra))

    about = f"; it is about {tasks[links[0].task_id].label.lower()}" if links else ""
    if source.role == "recommended":
        add(
            "recommended",
            f"{called} is the model recommended by the prompt for the user's question{about}.",
            "SEED: recommended models",
            ["relevance"],
            attribute="relevance",
        )
    else:
        add(
            "related",
            f"Relevance to the question: the prompt lists {called} among the related papers{about}.",
            "SEED: related papers",
            ["relevance"],
            attribute="relevance",
        )
    where = [f"paper at {u}" for u in (entry.paper,) if u] + [f"code at {u}" for u in (entry.github,) if u]
    if where:
        add("links", f"{called}: {' and '.join(where)}.", "SEED: links", ["bibliography"], attribute="code")
    task_tags = {link.task_id: [p for p in link.evidence] for link in links}
    for i, text in enumerate(sentences, start=1):
        sentence = text
        tags = ["summary"] + [
            f"task:{tid}" for tid, words in task_tags.items() if any(phrase_in(w, sentence) for w in words)
        ]
        add(f"summary-{i}", text, "SEED: summary", tags, attribute=_attribute_of(sentence, first=i == 1))
    # input -> model -> output: the primary task's ends around the sentence that says what it does
    primary = tasks[links[0].task_id] if links else None
    method = next(
        (s for pattern in _METHOD_WORDS for s in sentences if pattern.search(s)),
        sentences[0] if sentences else None,
    )
    if primary is not None and primary.input:
        add(
            "wf-input",
            f"Input: {primary.input}.",
            "IMPORT: the linked task's input",
            ["workflow", "input"],
            workflow="input",
            order=1,
            passes=_edge(primary.input),
        )
    if method:
        add(
            "wf-model",
            f"Model ({called}): {method}" if name else f"Model: {method}",
            "SEED: summary",
            ["workflow"],
            workflow="model",
            order=1,
            passes=_edge(primary.output) if primary else None,
        )
    elif primary is not None:
        add(
            "wf-model",
            f"Model: {called} takes {primary.input or 'the input'} and returns "
            f"{primary.output or 'the result'}.",
            "IMPORT: the linked task",
            ["workflow"],
            workflow="model",
            order=1,
            passes=_edge(primary.output),
        )
    if primary is not None and primary.output:
        add(
            "wf-output",
            f"Output: {primary.output}.",
            "IMPORT: the linked task's output",
            ["workflow", "output"],
            workflow="output",
            order=1,
        )
    return facts


def _edge(text: str) -> str | None:
    """A workflow edge's label (what flows to the next node): the task's own words, kept short."""
    words = text.split()
    return " ".join(words[:8]) if len(text) >= 3 else None


def parse_seed(text: str, tasks: dict[str, Task] | None = None, origin: str = "seed:prompt") -> SeedPrompt:
    """Read a prompt in the seed format. `tasks`: the vocabulary to link to (default: packaged)."""
    if tasks is None:
        from knowledge.store import load_knowledge

        tasks = dict(load_knowledge(PACKAGE_CARDS).tasks)
    tasks = dict(tasks)
    lines = text.splitlines()
    prompt = SeedPrompt(question=clean_line(_question(lines)))
    entries = []
    for entry in _merge_duplicates(_entries(lines), prompt.warnings):
        link = foreign_link(entry.model, [])
        if link:  # a name carries no links: the entry's own are on its Paper and GitHub lines
            entry.model = clean_line(re.sub(r"\(?\s*" + re.escape(link) + r"\s*\)?", " ", entry.model)).strip(
                " -:,"
            )
            prompt.warnings.append(
                ImportWarning(entry.line, f"removed the link {link} from the entry's name", entry.model)
            )
        reason = instruction_reason(entry.model)
        if reason:  # a name is shown in every answer that cites it: it must not carry orders
            prompt.warnings.append(
                ImportWarning(entry.line, f"dropped the entry: its name {reason}", entry.model)
            )
        else:
            entries.append(entry)
    if not entries:
        raise KnowledgeError("seed prompt: no usable 'Model:' entries (see the warnings)")
    used: set[str] = set()
    for entry in entries:
        if not entry.paper:
            prompt.warnings.append(
                ImportWarning(
                    entry.line, "no 'Paper:' line: the source is cited without a paper link", entry.model
                )
            )
        if not entry.github:
            prompt.warnings.append(
                ImportWarning(
                    entry.line, "no 'GitHub:' line: the source is cited without a code link", entry.model
                )
            )
        sid = source_id_for(entry.model, entry.github) or "source"
        base, n = sid, 2
        while sid in used:
            sid, n = f"{base}-{n}", n + 1
        used.add(sid)
        screened = _screened_sentences(entry, prompt.warnings)
        try:
            short = short_name_for(entry.model, entry.github, entry.summary or "")
            name = short or entry.model.split(":")[0].strip()
            sentences = [name_subject(s, name) for s in screened]
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
            links = _links(entry).model_copy(update={"extra": extra})
            source = Source(
                id=sid,
                title=entry.model,
                kind=entry.kind,
                links=links,
                role="recommended" if entry.kind == "model" else "related",
                short_name=short if short and short != entry.model.split(":")[0].strip() else None,
                also_known_as=[entry.model]
                if short
                and short.lower() not in entry.model.lower().split(":")[0].lower().split()
                and short != entry.model
                else [],
            )
            task_links = _task_links(entry, source.name, sentences, tasks, set(tasks), origin)
            for task_link in task_links:
                if task_link.new_task is not None:
                    tasks[task_link.task_id] = task_link.new_task
                    prompt.tasks.append(task_link.new_task)
            facts = _facts(sid, source, entry, sentences, task_links, tasks)
            caps = _capabilities(sid, source.role or "related", task_links, tasks)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise _fail(
                entry.summary_line or entry.line, f"cannot make a card: {err['msg']}", entry.model
            ) from None
        prompt.sources.append(source)
        prompt.facts.extend(facts)
        prompt.capabilities.extend(caps)
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


def card_json(source: Source, facts: list[Fact], origin: str, position: int = 0) -> dict:
    return {
        "position": position,
        "source": source.model_dump(exclude_none=True, exclude_defaults=True)
        | {"kind": source.kind, "links": source.links.model_dump(exclude_none=True)},
        "imported_from": origin,
        "facts": [
            f.model_dump(exclude={"source"}, exclude_none=True, exclude_defaults=True) | {"kind": f.kind}
            for f in facts
        ],
    }


@dataclass
class ImportPlan:
    """What `kb import` writes (or, with --dry-run, would write) and every warning."""

    prompt: SeedPrompt
    cards_dir: Path
    files: dict[Path, str]  # path -> the JSON text to write
    replaced: list[Path]  # existing card files the import replaces (--force)


def _read_seed(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read seed prompt {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KnowledgeError(f"seed prompt {path} is not UTF-8 text") from None


def _json_text(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _existing(directory: Path, name: str) -> dict | None:
    path = directory / name
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot read it to add the imported cards ({exc})") from None


def plan_import(
    path: str | Path, cards_dir: str | Path, force: bool = False, with_packaged: bool = False
) -> ImportPlan:
    """Everything the import of `path` into `cards_dir` writes, computed without writing.

    A directory that already holds cards keeps them: the new sources are added and tasks.json /
    capabilities.json are merged. An existing card with an imported source's id is refused unless
    `force`. `with_packaged`: start the directory from the packaged cards (a mixed set).
    """
    path, directory = Path(path), Path(cards_dir)
    text = _read_seed(path)
    origin = f"seed:{path.name}"
    files: dict[Path, str] = {}
    if with_packaged:
        for card in sorted(PACKAGE_CARDS.glob("*.json")):
            if card.name == "prompt.json" or (directory / card.name).exists():
                continue
            card_text = card.read_text(encoding="utf-8")
            if card.name not in SPECIAL_FILES:
                # "recommended" means recommended by the prompt of these cards, now the imported one
                data = json.loads(card_text)
                data["source"]["role"] = "related"
                card_text = _json_text(data)
            files[directory / card.name] = card_text

    def current(name: str) -> dict | None:
        target = directory / name
        if target in files:
            return json.loads(files[target])
        return _existing(directory, name)

    known_tasks = current("tasks.json") or json.loads(
        (PACKAGE_CARDS / "tasks.json").read_text(encoding="utf-8")
    )
    try:
        vocabulary = {t["id"]: Task.model_validate(t) for t in known_tasks.get("tasks", [])}
    except (ValidationError, TypeError, KeyError) as exc:
        raise KnowledgeError(
            f"{directory / 'tasks.json'}: malformed tasks, cannot link to them ({exc})"
        ) from None
    prompt = parse_seed(text, vocabulary, origin)

    ids = {s.id for s in prompt.sources}
    replaced = [directory / f"{sid}.json" for sid in ids if (directory / f"{sid}.json").exists()]
    clash = [p for p in replaced if p not in files]
    if clash and not force:
        raise KnowledgeError(f"{sorted(clash)[0]} already exists (use --force to overwrite)")
    existing_cards = (
        [p for p in directory.glob("*.json") if p.name not in SPECIAL_FILES] if directory.is_dir() else []
    )
    start = 1 + max(
        [0]
        + [_position(p) for p in existing_cards if p.stem not in ids]
        + [json.loads(t).get("position", 0) for p, t in files.items() if p.name not in SPECIAL_FILES]
    )
    for position, source in enumerate(prompt.sources, start=start):
        facts = [f for f in prompt.facts if f.source == source.id]
        files[directory / f"{source.id}.json"] = _json_text(card_json(source, facts, origin, position))

    if prompt.tasks:
        tasks = known_tasks.get("tasks", []) + [
            t.model_dump(exclude_defaults=True) | {"id": t.id} for t in prompt.tasks
        ]
        files[directory / "tasks.json"] = _json_text({"tasks": tasks})
    old_caps = (current("capabilities.json") or {}).get("capabilities", [])
    caps = [c for c in old_caps if c.get("source") not in ids]
    caps += [
        c.model_dump(exclude_defaults=True)
        | {"source": c.source, "task": c.task, "role": c.role, "input": c.input, "output": c.output}
        for c in prompt.capabilities
    ]
    files[directory / "capabilities.json"] = _json_text({"capabilities": caps})
    files[directory / "prompt.json"] = _json_text(
        Prompt(question=prompt.question, imported_from=origin).model_dump(exclude_none=True)
    )
    return ImportPlan(prompt=prompt, cards_dir=directory, files=files, replaced=sorted(replaced))


def _position(path: Path) -> int:
    try:
        return int(json.loads(path.read_text(encoding="utf-8")).get("position", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def write_plan(plan: ImportPlan) -> list[Path]:
    """Write the plan's files, each atomically, after checking the folder can be written."""
    check_writable(plan.cards_dir, folder=True)
    make_folder(plan.cards_dir)
    return [atomic_write_text(target, text) for target, text in plan.files.items()]


def import_seed(
    path: str | Path, cards_dir: str | Path, force: bool = False, with_packaged: bool = False
) -> list[Path]:
    """Write one card file per source of the seed prompt at `path` into `cards_dir` (plus
    tasks.json, capabilities.json and prompt.json). Returns the written source-card paths."""
    plan = plan_import(path, cards_dir, force=force, with_packaged=with_packaged)
    write_plan(plan)
    return [plan.cards_dir / f"{s.id}.json" for s in plan.prompt.sources]
