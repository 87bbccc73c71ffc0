"""Load and validate the source cards into a KnowledgeBase.

Cards are JSON files in one directory: one `<source-id>.json` per source plus `tasks.json`
and `capabilities.json` (both optional in an imported directory: the packaged ones are used).
Any problem raises KnowledgeError naming the file and the offending id.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import ValidationError

from knowledge.errors import KnowledgeError
from knowledge.lang.yamlfile import YAMLError, read_yaml
from knowledge.schema import (
    TASK_IDS,
    WORKFLOW_STAGES,
    CapabilitiesFile,
    Capability,
    Fact,
    Prompt,
    Source,
    SourceCard,
    Table,
    Task,
    TasksFile,
)

PACKAGE_CARDS = Path(__file__).resolve().parent / "cards"
CANONICAL_LINKS = Path(__file__).resolve().parent / "canonical_links.json"
# This explainer as a subject (its commands, weights, measurements): loaded beside any cards dir,
# kept apart from the cited sources (`kb.tool`, `kb.tool_facts`).
TOOL_CARD = Path(__file__).resolve().parent / "tool" / "explainer.json"
ATTRIBUTES_FILE = Path(__file__).resolve().parent / "lang" / "en" / "attributes.yml"
SPECIAL_FILES = ("tasks.json", "capabilities.json", "prompt.json")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')\]]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def default_cards_dir() -> Path:
    """$EXPLAINER_CARDS (e.g. a directory made by `explainer kb import`), else the packaged cards."""
    env = os.environ.get("EXPLAINER_CARDS")
    return Path(env).expanduser() if env else PACKAGE_CARDS


def urls_in(text: str) -> list[str]:
    return [u.rstrip(".,;:") for u in _URL_IN_TEXT.findall(text)]


class KnowledgeBase:
    """Validated cards with the look-ups the agent needs."""

    def __init__(
        self,
        sources: dict[str, Source],
        facts: list[Fact],
        tasks: dict[str, Task],
        capabilities: list[Capability],
        cards_dir: Path,
        digest: str,
        prompt: Prompt | None = None,
        tables: dict[str, Table] | None = None,
        tool: Source | None = None,
        tool_facts: list[Fact] | None = None,
    ):
        self.sources = sources
        self.tables = tables or {}  # table id -> Table (configurations, accuracies per layers removed)
        self.tool = tool  # this explainer (knowledge/tool/explainer.json): not a cited source
        self.tool_facts = tool_facts or []
        self.prompt = prompt  # the question the cards were made for (prompt.json), if known
        self.facts = facts
        self.tasks = tasks
        self.capabilities = capabilities
        self.cards_dir = cards_dir
        self.digest = digest  # hash of every card file: keys the embedding cache
        self._by_id = {f.id: f for f in [*facts, *self.tool_facts]}

    def fact(self, fact_id: str) -> Fact:
        try:
            return self._by_id[fact_id]
        except KeyError:
            raise KnowledgeError(f"no fact with id {fact_id!r}") from None

    def described(self, source_id: str) -> Source:
        """The Source a fact belongs to: a cited source, or this tool (kb.tool)."""
        if self.tool is not None and source_id == self.tool.id:
            return self.tool
        return self.sources[source_id]

    def source(self, source_id: str) -> Source:
        try:
            return self.sources[source_id]
        except KeyError:
            known = ", ".join(sorted(self.sources))
            raise KnowledgeError(f"no source with id {source_id!r} (known: {known})") from None

    def facts_for(self, source_id: str) -> list[Fact]:
        return [f for f in self.facts if f.source == source_id]

    def facts_tagged(self, tag: str) -> list[Fact]:
        return [f for f in self.facts if tag in f.tags]

    def workflow(self, source_id: str) -> list[Fact]:
        """The source's input -> model -> output steps, ordered by stage then order."""
        steps = [f for f in self.facts_for(source_id) if f.workflow]
        return sorted(steps, key=lambda f: (WORKFLOW_STAGES.index(f.workflow), f.order))

    def capabilities_for(self, source_id: str | None = None, task_id: str | None = None) -> list[Capability]:
        return [
            c
            for c in self.capabilities
            if (source_id is None or c.source == source_id) and (task_id is None or c.task == task_id)
        ]

    @property
    def question(self) -> str | None:
        return self.prompt.question if self.prompt else None

    def recommended(self) -> list[str]:
        """Sources the prompt recommends (role), in the prompt's order; models if no role is set."""
        marked = [sid for sid, s in self.sources.items() if s.role == "recommended"]
        return marked or [sid for sid, s in self.sources.items() if s.role is None and s.kind == "model"]

    def runnable(self, source_id: str) -> bool:
        """Whether the live demo can run this source (a capability marked runnable)."""
        return any(c.runnable for c in self.capabilities_for(source_id=source_id))

    def names(self) -> list[str]:
        """The loaded sources' names, in order: what an abstention says it may use."""
        return [s.name for s in self.sources.values()]

    # -- what answers may show and the words the cards use: derived once from the cards ----------
    @cached_property
    def url_set(self) -> frozenset[str]:
        """Every card URL without a trailing slash (how answers' URLs are compared)."""
        return frozenset(u.rstrip("/") for u in self.allowed_urls())

    @cached_property
    def title_set(self) -> frozenset[str]:
        return frozenset(t.strip().lower() for t in self.allowed_titles())

    @cached_property
    def number_set(self) -> frozenset[str]:
        return frozenset(self.allowed_numbers())

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word (lower case) in any card text, name, author, task or capability."""
        texts: list[str] = []
        for src in self.sources.values():
            texts += [src.id, src.title, src.name, *src.also_known_as, " ".join(src.authors), src.venue or ""]
        texts += [f.text for f in self.facts] + [a for f in self.facts for a in f.answers]
        for task in self.tasks.values():
            texts += [task.id, task.label, task.description, *task.aliases]
        for cap in self.capabilities:
            texts += [cap.input, cap.output, cap.note or ""]
        return frozenset(w.lower() for t in texts for w in re.findall(r"[A-Za-z][\w-]*", t))

    @cached_property
    def source_names(self) -> dict[str, list[str]]:
        """Source id -> the names a question may use for it (id, short name, other short names)."""
        names: dict[str, list[str]] = {}
        for sid, src in self.sources.items():
            candidates = {sid, src.name} | {n for n in src.also_known_as if len(n.split()) <= 3}
            names[sid] = sorted(c for c in candidates if c and len(c.split()) <= 3)
        return names

    @cached_property
    def _name_matchers(self) -> dict[str, tuple[list[str], list[re.Pattern[str]]]]:
        from knowledge.text import stemmed_text

        out = {}
        for sid, names in self.source_names.items():
            stemmed, exact = [], []
            capitals = {n.lower() for n in names if n.isupper() and len(n) > 1}
            for name in names:
                if name.lower() in capitals and not name.isupper():
                    continue  # "easier" is the id of EASIER, and an English word
                if name.isupper() and len(name) > 1:
                    # an all-capitals name that is also a word ("EASIER" vs "an easier way") counts
                    # only when written in capitals
                    exact.append(re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])"))
                elif len(name) >= 3:
                    stemmed.append(stemmed_text(name).strip())
            # the paper's arXiv id names it too ("Tell me about arXiv 2202.09652")
            for url in self.sources[sid].urls():
                found = re.search(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", url)
                if found:
                    exact.append(re.compile(rf"(?<![\d.]){re.escape(found.group(1))}(?![\d])"))
            out[sid] = (stemmed, exact)
        return out

    def without_names(self, text: str, placeholder: str, possessive: str) -> str:
        """The text with every source's name (and a word made from one: "MSSNet_large") and every
        table row's key and coded alias ("MobileNetv2", "resnet18") replaced by `placeholder`, a
        possessive one ("DataCrafter's") by `possessive`."""
        for pattern in self._name_spans:
            text = pattern.sub(lambda m: possessive if m.group(1) else placeholder, text)
        return text

    @cached_property
    def _name_spans(self) -> list[re.Pattern[str]]:
        named = {n for ns in self.source_names.values() for n in ns}
        for table in self.tables.values():
            for row in table.rows:
                key = str(row[table.key])
                named |= {key, *(a for a in table.aliases.get(key, []) if any(c.isdigit() for c in a))}
        names = sorted((n for n in named if len(n) >= 3), key=len, reverse=True)
        capitals = {n.lower() for n in names if n.isupper()}
        patterns = []
        for name in names:
            if name.lower() in capitals and not name.isupper():
                continue  # "easier" is the id of EASIER, and an English word
            flags = 0 if name.isupper() else re.I
            patterns.append(re.compile(rf"(?<![\w-]){re.escape(name)}(?:[\w-]*)(['’]s)?(?![\w-])", flags))
        return patterns

    def sources_named_in(self, text: str) -> list[str]:
        """The sources a text names (by id, name, other names or arXiv id), in card order."""
        from knowledge.text import stemmed_text

        hay = stemmed_text(text)
        return [
            sid
            for sid, (stemmed, exact) in self._name_matchers.items()
            if any(f" {n} " in hay for n in stemmed) or any(p.search(text) for p in exact)
        ]

    def in_text_order(self, text: str, ids: list[str]) -> list[str]:
        """`ids` in the order the text first names them (those it does not name keep their place,
        after the named ones)."""
        from knowledge.text import stemmed_text

        words = stemmed_text(text).split()

        def first(sid: str) -> int:  # the word where the text first names it
            stemmed, exact = self._name_matchers.get(sid, ([], []))
            found = [
                i
                for name in stemmed
                for i in range(len(words))
                if words[i : i + len(name.split())] == name.split()
            ]
            found += [
                len(stemmed_text(text[: m.start()]).split()) for p in exact for m in [p.search(text)] if m
            ]
            return min(found, default=len(words))

        return sorted(ids, key=first)

    def allowed_urls(self) -> set[str]:
        return {u for s in self.sources.values() for u in s.urls()}

    def allowed_titles(self) -> set[str]:
        titles = set()
        for s in self.sources.values():
            titles |= {s.title, s.name, *s.also_known_as}
        return titles | {t.title for t in self.tables.values()}  # a computed result names its table

    def allowed_numbers(self) -> set[str]:
        """Every number token in any card text, table cell, title or link: the only numbers an answer
        may state."""
        texts = [f.text for f in [*self.facts, *self.tool_facts]]
        texts += [str(v) for table in self.tables.values() for v in table.cell_numbers()]
        for s in self.sources.values():
            texts += [s.title, s.venue or "", str(s.year or ""), *s.urls(), *s.authors]
        texts += [t.label + " " + t.description for t in self.tasks.values()]
        texts += [c.input + " " + c.output + " " + c.note for c in self.capabilities]
        numbers: set[str] = set()
        for text in texts:
            for token in _NUMBER.findall(text):
                numbers.add(token)
                numbers.add(token.replace(",", ""))  # "6,756,161" is also allowed as "6756161"
        for table in self.tables.values():
            for value in table.cell_numbers():
                # a float cell as the source prints it ("92.10"), the same value
                if isinstance(value, float):
                    numbers |= {f"{value:.2f}", f"{value:.1f}"}
        return numbers


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise KnowledgeError(f"{path.name}: malformed JSON at line {exc.lineno}: {exc.msg}") from None
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot read card file ({exc.strerror})") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "card"
    return f"{where}: {err['msg']}"


def canonical_links() -> dict[str, set[str]]:
    """Source id -> the links a hand-written card of that source may carry."""
    return _canonical_links()


def _canonical_links() -> dict[str, set[str]]:
    table = json.loads(CANONICAL_LINKS.read_text(encoding="utf-8"))
    return {sid: set(urls) for sid, urls in table.items()}


@lru_cache(maxsize=1)
def attribute_ids() -> frozenset[str]:
    """The attribute ids of knowledge/lang/en/attributes.yml: what a fact's `attribute` may name."""

    from knowledge.lang.schema import AttributesFile

    try:
        parsed = AttributesFile.model_validate(read_yaml(ATTRIBUTES_FILE.read_text(encoding="utf-8")))
    except (OSError, YAMLError, ValidationError) as exc:
        raise KnowledgeError(f"{ATTRIBUTES_FILE.name}: cannot read the attributes ({exc})") from None
    return frozenset(a.id for a in parsed.attributes)


def _check_attribute(path: Path, what: str, attribute: str | None) -> None:
    if attribute is not None and attribute not in attribute_ids():
        raise KnowledgeError(
            f"{path.name}: {what} names attribute {attribute!r}, which is not in {ATTRIBUTES_FILE.name}"
        )


def _load_source_card(
    path: Path, canonical: dict[str, set[str]], tool: bool = False
) -> tuple[Source, list[Fact], int, list[Table]]:
    raw = _read_json(path)
    try:
        card = SourceCard.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: malformed card: {_first_error(exc)}") from None
    source = card.source
    if path.stem != source.id:
        raise KnowledgeError(f"{path.name}: source id {source.id!r} does not match the file name")
    if (source.kind == "tool") != tool:
        raise KnowledgeError(
            f"{path.name}: only {TOOL_CARD.parent.name}/{TOOL_CARD.name} describes this tool (kind 'tool')"
        )
    if tool and source.urls():
        raise KnowledgeError(f"{path.name}: the tool card carries no links")
    if card.imported_from is None and not tool:
        # Hand-written cards exist only for the sources in the canonical-links table; any other
        # source must come from a seed prompt (`kb import`), whose own links it carries.
        if source.id not in canonical:
            raise KnowledgeError(
                f"{path.name}: unknown source id {source.id!r} (not in the canonical "
                f"links table, and not imported from a seed prompt)"
            )
        outside = [u for u in source.urls() if u not in canonical[source.id]]
        if outside:
            raise KnowledgeError(
                f"{path.name}: source {source.id!r} has a link outside its canonical links: {outside[0]}"
            )
    facts = []
    for i, item in enumerate(card.facts):
        fid = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
        if isinstance(item, dict):
            item = {"source": source.id, **item}
        try:
            fact = Fact.model_validate(item)
        except ValidationError as exc:
            raise KnowledgeError(f"{path.name}: fact {fid}: {_first_error(exc)}") from None
        if fact.source != source.id:
            raise KnowledgeError(
                f"{path.name}: fact {fact.id} names source {fact.source!r}, but the file is {source.id!r}"
            )
        if not fact.id.startswith(source.id + "."):
            raise KnowledgeError(f"{path.name}: fact id {fact.id!r} must start with '{source.id}.'")
        for url in urls_in(fact.text):
            if url not in source.urls():
                raise KnowledgeError(
                    f"{path.name}: fact {fact.id} links {url}, which is not one of the source's links"
                )
        _check_attribute(path, f"fact {fact.id}", fact.attribute)
        facts.append(fact)
    for table in card.tables:
        if not table.id.startswith(source.id + "."):
            raise KnowledgeError(f"{path.name}: table id {table.id!r} must start with '{source.id}.'")
        _check_attribute(path, f"table {table.id}", table.attribute)
    return source, facts, card.position, list(card.tables)


def _load_tasks(path: Path) -> dict[str, Task]:
    try:
        parsed = TasksFile.model_validate(_read_json(path))
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: malformed tasks: {_first_error(exc)}") from None
    tasks: dict[str, Task] = {}
    for task in parsed.tasks:
        # New tasks come only from an import, which says so; a hand-written task id is a typo.
        if task.id not in TASK_IDS and task.imported_from is None:
            raise KnowledgeError(
                f"{path.name}: unknown task id {task.id!r} (allowed: {', '.join(TASK_IDS)}, "
                f"or a task made by 'kb import')"
            )
        if task.id in tasks:
            raise KnowledgeError(f"{path.name}: duplicate task id {task.id!r}")
        tasks[task.id] = task
    return tasks


def _load_capabilities(path: Path) -> list[Capability]:
    try:
        return list(CapabilitiesFile.model_validate(_read_json(path)).capabilities)
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: malformed capabilities: {_first_error(exc)}") from None


def _load_prompt(path: Path) -> Prompt | None:
    if not path.exists():
        return None
    try:
        return Prompt.model_validate(_read_json(path))
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: malformed prompt: {_first_error(exc)}") from None


def _check_references(
    facts: list[Fact],
    sources: dict[str, Source],
    tasks: dict[str, Task],
    capabilities: list[Capability],
    cap_file: str,
) -> None:
    for fact in facts:
        for task_id in fact.task_ids():
            if task_id not in tasks:
                raise KnowledgeError(
                    f"{fact.source}.json: fact {fact.id} has unknown task tag 'task:{task_id}'"
                )
    for cap in capabilities:
        if cap.source not in sources:
            raise KnowledgeError(f"{cap_file}: capability names unknown source id {cap.source!r}")
        if cap.task not in tasks:
            raise KnowledgeError(f"{cap_file}: capability names unknown task id {cap.task!r}")


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def load_knowledge_uncached(cards_dir: str | Path | None = None) -> KnowledgeBase:
    directory = Path(cards_dir).expanduser() if cards_dir else default_cards_dir()
    if not directory.is_dir():
        raise KnowledgeError(f"cards directory not found: {directory}")
    canonical = _canonical_links()
    card_paths = sorted(p for p in directory.glob("*.json") if p.name not in SPECIAL_FILES)
    if not card_paths:
        raise KnowledgeError(f"no source cards (*.json) in {directory}")

    loaded = [(path, *_load_source_card(path, canonical)) for path in card_paths]
    loaded.sort(key=lambda item: (item[3], item[1].id))
    tool, tool_facts, _, tool_tables = _load_source_card(TOOL_CARD, canonical, tool=True)
    sources: dict[str, Source] = {}
    facts: list[Fact] = []
    tables: dict[str, Table] = {}
    seen_facts: dict[str, str] = {f.id: TOOL_CARD.name for f in tool_facts}
    for path, source, card_facts, _position, card_tables in loaded:
        if source.id in sources or source.id == tool.id:
            raise KnowledgeError(f"{path.name}: duplicate source id {source.id!r}")
        sources[source.id] = source
        for table in card_tables:
            if table.id in tables:
                raise KnowledgeError(f"{path.name}: duplicate table id {table.id!r}")
            tables[table.id] = table
        for fact in card_facts:
            if fact.id in seen_facts:
                raise KnowledgeError(
                    f"{path.name}: duplicate fact id {fact.id!r} (also in {seen_facts[fact.id]})"
                )
            seen_facts[fact.id] = path.name
            facts.append(fact)

    # An imported directory may hold only source cards: use the packaged vocabulary then.
    tasks_path = directory / "tasks.json"
    tasks = _load_tasks(tasks_path if tasks_path.exists() else PACKAGE_CARDS / "tasks.json")
    cap_path = directory / "capabilities.json"
    capabilities = _load_capabilities(cap_path) if cap_path.exists() else []
    _check_references(facts, sources, tasks, capabilities, cap_path.name)
    # A task no loaded source serves (the packaged vocabulary under imported cards) is no topic of
    # these cards: "deblur a photo" must not look covered by a set of speech papers.
    served = {c.task for c in capabilities} | {t for f in facts for t in f.task_ids()}
    tasks = {tid: task for tid, task in tasks.items() if tid in served}
    prompt_path = directory / "prompt.json"
    prompt = _load_prompt(prompt_path)

    used = card_paths + [p for p in (tasks_path, cap_path, prompt_path) if p.exists()] + [TOOL_CARD]
    tables |= {t.id: t for t in tool_tables}
    return KnowledgeBase(
        sources, facts, tasks, capabilities, directory, _digest(used), prompt, tables, tool, tool_facts
    )


@lru_cache(maxsize=8)
def _cached(directory: str) -> KnowledgeBase:
    return load_knowledge_uncached(directory)


def load_knowledge(cards_dir: str | Path | None = None) -> KnowledgeBase:
    """Validated knowledge base for `cards_dir` (default: $EXPLAINER_CARDS or the packaged cards), cached."""
    directory = Path(cards_dir).expanduser() if cards_dir else default_cards_dir()
    return _cached(str(directory.resolve()))
