"""The seed prompt's format: the person's question and the entries of its two sections.

The format (see knowledge/seed-prompt.txt): the user's question in double quotes after
"asked the following question:", then a "Recommended AI Models" section and a "Related Papers"
section whose entries are `Model:` lines followed by `Paper:`, `GitHub:` and `Summary:` lines
(other usual names for them are read too). A line that breaks the format is named in the error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from common.textsafe import clean_line
from knowledge.errors import KnowledgeError

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


@dataclass(frozen=True)
class ImportWarning:
    line: int
    reason: str
    text: str = ""

    def __str__(self) -> str:
        shown = f": {self.text.strip()[:70]!r}" if self.text.strip() else ""
        return f"line {self.line}: {self.reason}{shown}"


@dataclass
class Entry:
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


def fail(line_no: int, message: str, line: str = "") -> KnowledgeError:
    shown = f": {line.strip()[:60]!r}" if line.strip() else ""
    return KnowledgeError(f"seed prompt line {line_no}: {message}{shown}")


def read_question(lines: list[str]) -> str:
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
                raise fail(j + 1, "expected the user's question in double quotes", lines[j])
            raise fail(i + 1, "the question announced here is missing", line)
    raise KnowledgeError("seed prompt: no line says 'A user has asked the following question:'")


def read_entries(lines: list[str]) -> list[Entry]:
    entries: list[Entry] = []
    section: Literal["model", "paper"] | None = None
    current: Entry | None = None
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
            raise fail(no, "unknown section (expected 'Recommended AI Models' or 'Related Papers')", raw)
        match = _FIELD.match(_plain(line))
        if not match and last_key == "summary" and current is not None:
            current.summary = (
                (current.summary or "") + " " + clean_line(line)
            )  # a summary wrapped onto the next line
            continue
        if not match:
            raise fail(no, "expected 'Model:', 'Paper:', 'GitHub:' or 'Summary:'", raw)
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
            raise fail(no, f"'{match.group(1)}:' has no value", raw)
        if key == "model":
            current = Entry(kind=section, line=no, model=value)
            entries.append(current)
            last_key = key
            continue
        if current is None:
            raise fail(no, f"'{match.group(1)}:' comes before any 'Model:' line", raw)
        if getattr(current, key) is not None:
            raise fail(no, f"second '{match.group(1)}:' for the same model", raw)
        arxiv_id = re.fullmatch(r"arxiv:\s*(\d{4}\.\d{4,5}(?:v\d+)?)", value, re.I)
        if key == "paper" and arxiv_id:
            value = f"https://arxiv.org/abs/{arxiv_id.group(1)}"  # "arXiv:2107.10833"
        if key in ("paper", "github") and not _URL.match(value):
            raise fail(no, f"'{match.group(1)}:' must be an http(s) URL", raw)
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


def merge_duplicates(entries: list[Entry], warnings: list[ImportWarning]) -> list[Entry]:
    """An entry listed twice under the same name merges into the first (links must agree)."""
    kept: list[Entry] = []
    for entry in entries:
        first = next((e for e in kept if _same_name(e.model, entry.model)), None)
        if first is None:
            kept.append(entry)
            continue
        for key in ("paper", "github"):
            mine, theirs = getattr(entry, key), getattr(first, key)
            if mine and theirs and mine.rstrip("/").lower() != theirs.rstrip("/").lower():
                raise fail(
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
