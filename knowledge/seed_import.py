"""Import a prompt in the seed's format into source cards.

The format (see shared/seed-prompt.txt): the user's question in double quotes after
"asked the following question:", then a "Recommended AI Models" section and a "Related Papers"
section whose entries are `Model:` lines followed by `Paper:`, `GitHub:` and `Summary:` lines.
Summaries become facts, one per sentence. Any line that breaks the format is named in the error.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from knowledge.errors import KnowledgeError
from knowledge.schema import Fact, Links, Source
from knowledge.store import urls_in

_SECTION = re.compile(r"^#{1,6}\s*(recommended (?:ai )?models?|related papers?)\s*:?\s*$", re.I)
_FIELD = re.compile(r"^(model|paper|github|summary)\s*:\s*(.*)$", re.I)
_URL = re.compile(r"^https?://\S+$")
_ABBREVIATIONS = {"e.g.": "e\u2024g\u2024", "i.e.": "i\u2024e\u2024", "et al.": "et al\u2024", "vs.": "vs\u2024"}


@dataclass
class SeedPrompt:
    question: str
    sources: list[Source] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)


@dataclass
class _Entry:
    kind: str
    line: int
    model: str
    paper: str | None = None
    github: str | None = None
    summary: str | None = None
    summary_line: int = 0


def _plain(line: str) -> str:
    """Tolerate Markdown dressing around a field: '- **Model:** X' reads as 'Model: X'."""
    line = re.sub(r"^[-*+]\s+", "", line.strip())
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
                if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and len(text.strip('"').strip()) > 3:
                    return text[1:-1].strip()
                raise _fail(j + 1, "expected the user's question in double quotes", lines[j])
            raise _fail(i + 1, "the question announced here is missing", line)
    raise KnowledgeError("seed prompt: no line says 'A user has asked the following question:'")


def _entries(lines: list[str]) -> list[_Entry]:
    entries: list[_Entry] = []
    section: str | None = None
    current: _Entry | None = None
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if _SECTION.match(line):
            section = "model" if "recommended" in line.lower() else "paper"
            current = None
            continue
        if section is None or not line:
            continue  # preamble, or a blank line between entries
        if line.rstrip(":").lower() == "answer":
            break  # the prompt ends where the model's answer would begin
        if line.startswith("#"):
            raise _fail(no, "unknown section (expected 'Recommended AI Models' or 'Related Papers')", raw)
        match = _FIELD.match(_plain(line))
        if not match:
            raise _fail(no, "expected 'Model:', 'Paper:', 'GitHub:' or 'Summary:'", raw)
        key, value = match.group(1).lower(), match.group(2).strip()
        if not value:
            raise _fail(no, f"'{match.group(1)}:' has no value", raw)
        if key == "model":
            current = _Entry(kind=section, line=no, model=value)
            entries.append(current)
            continue
        if current is None:
            raise _fail(no, f"'{match.group(1)}:' comes before any 'Model:' line", raw)
        if getattr(current, key) is not None:
            raise _fail(no, f"second '{match.group(1)}:' for the same model", raw)
        if key in ("paper", "github") and not _URL.match(value):
            raise _fail(no, f"'{match.group(1)}:' must be an http(s) URL", raw)
        setattr(current, key, value)
        if key == "summary":
            current.summary_line = no
    if not entries:
        raise KnowledgeError("seed prompt: no 'Model:' entries under 'Recommended AI Models' or 'Related Papers'")
    for entry in entries:
        if not entry.paper and not entry.github:
            raise _fail(entry.line, "model has neither a 'Paper:' nor a 'GitHub:' link", entry.model)
    return entries


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def source_id_for(model: str, github: str | None) -> str:
    """Repository name when there is one (kky7/MSSNet -> mssnet), else the title's lead word
    ("FeatSharp: Your Vision..." -> featsharp), else the first words of the title."""
    if github:
        name = github.rstrip("/").split("/")[-1]
        if name and "github.com" not in name:
            return _slug(name.removesuffix(".git"))
    head = model.split(":")[0].strip()
    if ":" in model and len(head.split()) <= 2:
        return _slug(head)
    return _slug(" ".join(model.split()[:4]))[:40].strip("-")


def _sentences(summary: str) -> list[str]:
    protected = summary
    for abbr, safe in _ABBREVIATIONS.items():
        protected = protected.replace(abbr, safe)
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", protected)
    restore = {safe: abbr for abbr, safe in _ABBREVIATIONS.items()}
    out = []
    for part in parts:
        for safe, abbr in restore.items():
            part = part.replace(safe, abbr)
        if part.strip():
            out.append(part.strip())
    return out


def _links(entry: _Entry) -> Links:
    arxiv = entry.paper if entry.paper and "arxiv.org/abs/" in entry.paper else None
    paper = entry.paper if entry.paper and not arxiv else None
    named = {u for u in (entry.paper, entry.github) if u}
    extra = []
    for url in urls_in(entry.summary or ""):
        if url not in named and url not in extra:
            extra.append(url)
    return Links(paper=paper, arxiv=arxiv, code=entry.github, extra=extra)


def parse_seed(text: str) -> SeedPrompt:
    lines = text.splitlines()
    question = _question(lines)
    prompt = SeedPrompt(question=question)
    used: set[str] = set()
    for entry in _entries(lines):
        sid = source_id_for(entry.model, entry.github) or "source"
        base, n = sid, 2
        while sid in used:
            sid, n = f"{base}-{n}", n + 1
        used.add(sid)
        try:
            source = Source(id=sid, title=entry.model, kind=entry.kind, links=_links(entry))
            facts = []
            if entry.kind == "model":
                facts.append(Fact(id=f"{sid}.recommended", source=sid, kind="fact",
                                  origin="SEED: recommended models", tags=["relevance"],
                                  text=f"{entry.model} is the model recommended by the prompt for the "
                                       f"user's question."))
            for i, sentence in enumerate(_sentences(entry.summary or ""), start=1):
                if len(sentence) < 10:
                    continue
                facts.append(Fact(id=f"{sid}.summary-{i}", source=sid, text=sentence,
                                  origin="SEED: summary", tags=["summary"], kind="fact"))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise _fail(entry.summary_line or entry.line, f"cannot make a card: {err['msg']}", entry.model) from None
        prompt.sources.append(source)
        prompt.facts.extend(facts)
    return prompt


def card_json(source: Source, facts: list[Fact], origin: str, position: int = 0) -> dict:
    return {
        "position": position,
        "source": source.model_dump(exclude_none=True),
        "imported_from": origin,
        "facts": [f.model_dump(exclude={"source"}, exclude_none=True) for f in facts],
    }


def import_seed(path: str | Path, cards_dir: str | Path, force: bool = False) -> list[Path]:
    """Write one card file per source of the seed prompt at `path` into `cards_dir`.

    Refuses to overwrite existing card files unless `force`. Returns the written paths.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read seed prompt {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KnowledgeError(f"seed prompt {path} is not UTF-8 text") from None
    prompt = parse_seed(text)
    directory = Path(cards_dir)
    targets = {s.id: directory / f"{s.id}.json" for s in prompt.sources}
    existing = [p for p in targets.values() if p.exists()]
    if existing and not force:
        raise KnowledgeError(f"{existing[0]} already exists (use --force to overwrite)")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for position, source in enumerate(prompt.sources, start=1):
        facts = [f for f in prompt.facts if f.source == source.id]
        target = targets[source.id]
        card = card_json(source, facts, f"seed:{path.name}", position)
        target.write_text(json.dumps(card, indent=2,
                                     ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written
