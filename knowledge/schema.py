"""Pydantic schema of the source cards: sources, facts, tasks, capabilities.

Field-level checks live here; cross-card checks (unknown ids, duplicates, links) live in
`knowledge.store`, which knows every card at once.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SOURCE_ID = r"^[a-z0-9][a-z0-9-]*$"
FACT_ID = r"^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$"
TASK_IDS = (
    "image-deblurring",
    "super-resolution",
    "feature-upsampling",
    "dataset-expansion",
    "depth-reduction",
)
WORKFLOW_STAGES = ("input", "preprocess", "model", "postprocess", "output")
ATTRIBUTE_ID = r"^[a-z0-9][a-z0-9-]*$"
_URL = re.compile(r"^https?://[^\s<>\"']+$")


class _Strict(BaseModel):
    # Unknown keys are typos in hand-written cards: reject them instead of ignoring them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Links(_Strict):
    """The source's links (the only URLs an answer may show): paper PDF, arXiv page, code, project page."""

    paper: str | None = None
    arxiv: str | None = None
    code: str | None = None
    project: str | None = None
    extra: list[str] = Field(default_factory=list)

    @field_validator("paper", "arxiv", "code", "project")
    @classmethod
    def _one_url(cls, value: str | None) -> str | None:
        if value is not None and not _URL.match(value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value

    @field_validator("extra")
    @classmethod
    def _many_urls(cls, values: list[str]) -> list[str]:
        for value in values:
            cls._one_url(value)
        return values

    def urls(self) -> list[str]:
        named = [self.paper, self.arxiv, self.code, self.project]
        return [u for u in named if u] + list(self.extra)


class Source(_Strict):
    """The paper or model itself: id, title, names, authors, venue and links."""

    id: str = Field(pattern=SOURCE_ID)
    title: str = Field(min_length=3)
    short_name: str | None = None  # e.g. "MSSNet"; the title's first words otherwise
    also_known_as: list[str] = Field(default_factory=list)  # other names the source itself uses
    # "tool": this explainer itself (knowledge/tool/), kept apart from the cited sources.
    kind: Literal["model", "paper", "tool"]
    # The prompt's section: "Recommended AI Models" (recommended) or "Related Papers" (related).
    role: Literal["recommended", "related"] | None = None
    authors: list[str] = Field(default_factory=list)
    venue: str | None = None
    year: int | None = Field(default=None, ge=1950, le=2100)
    links: Links

    def urls(self) -> list[str]:
        return self.links.urls()

    @property
    def name(self) -> str:
        return self.short_name or self.title.split(":")[0]

    def best_url(self) -> str | None:
        """The link to show first: code, then paper, then anything else."""
        urls = [self.links.code, self.links.paper, self.links.arxiv, self.links.project]
        return next((u for u in urls if u), next(iter(self.links.extra or []), None))


class Fact(_Strict):
    """One thing the source says, in the project's words, with where in the source it comes from (`origin`);
    kind "does-not" states a limit, "not-known" what the source does not give."""

    id: str = Field(pattern=FACT_ID)
    source: str = Field(pattern=SOURCE_ID)
    text: str = Field(min_length=10)
    tags: list[str] = Field(default_factory=list)
    origin: str = Field(min_length=3)  # where in the source: "CODE: model/MSSNet.py", "PAPER-ABS", ...
    workflow: Literal["input", "preprocess", "model", "postprocess", "output"] | None = None
    order: int = Field(default=0, ge=0)
    kind: Literal["fact", "does-not", "not-known"] = "fact"
    # A workflow step: what it hands to the next stage (the label on the workflow graph's edge).
    passes: str | None = Field(default=None, min_length=3)
    # Short questions this fact answers, in people's words ("how long does it take", "the bigger
    # one"): indexed beside its text, so a question is matched to the fact by what it asks.
    answers: list[str] = Field(default_factory=list)
    # The attribute the fact states (an id of knowledge/lang/<code>/attributes.yml, checked at load).
    attribute: str | None = Field(default=None, pattern=ATTRIBUTE_ID)
    # For a yes/no question about `attribute` of the fact's source: what the fact settles.
    # Only such a fact may open an answer with "Yes" or "No".
    polarity: Literal["yes", "no"] | None = None

    @field_validator("polarity")
    @classmethod
    def _polarity_needs_attribute(cls, value: str | None, info) -> str | None:
        if value is not None and not info.data.get("attribute"):
            raise ValueError("'polarity' says what a fact settles about its 'attribute': set the attribute")
        return value

    @field_validator("passes")
    @classmethod
    def _passes_only_on_steps(cls, value: str | None, info) -> str | None:
        if value is not None and not info.data.get("workflow"):
            raise ValueError("'passes' labels a workflow step's output: the fact needs a 'workflow' stage")
        return value

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not re.match(r"^[a-z0-9][a-z0-9:.-]*$", tag):
                raise ValueError(f"bad tag {tag!r} (lower-case words, '-' and ':' only)")
        if len(set(tags)) != len(tags):
            raise ValueError("duplicate tag")
        return tags

    def task_ids(self) -> list[str]:
        return [t.split(":", 1)[1] for t in self.tags if t.startswith("task:")]


class Task(_Strict):
    """A task people do (image deblurring, super-resolution, ...), with the words they use for it."""

    id: str = Field(pattern=SOURCE_ID)
    label: str
    description: str
    aliases: list[str] = Field(default_factory=list)
    # Aliases with common meanings outside this task ("compress" a video, a "classifier"-free
    # sampler): they pick the task but do not, alone, show that the sources cover the question.
    ambiguous_aliases: list[str] = Field(default_factory=list)
    # What the task starts from and gives back, in general words (a source's capability is specific).
    input: str = ""
    output: str = ""
    # Set by `kb import` ("seed:FILE") for a task it made from a summary's own words.
    imported_from: str | None = None

    @field_validator("ambiguous_aliases")
    @classmethod
    def _ambiguous_are_aliases(cls, value: list[str], info) -> list[str]:
        missing = [a for a in value if a not in info.data.get("aliases", [])]
        if missing:
            raise ValueError(f"ambiguous aliases must also be aliases: {', '.join(missing)}")
        return value


# How directly a capability serves its task, most direct first (for ordering sources).
ROLE_ORDER = {"primary": 0, "with-preprocessing": 1, "related": 2}


class Capability(_Strict):
    """That a source serves a task: how (primary, after preprocessing, related), from what input to what output."""

    source: str = Field(pattern=SOURCE_ID)
    task: str = Field(pattern=SOURCE_ID)
    role: Literal["primary", "with-preprocessing", "related"]
    input: str
    output: str
    note: str = ""
    # How sure `kb import` is that the source serves the task (hand-written links: None, i.e. certain)
    # and the words of the source that made the link.
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)
    # The live demo can run this source's network for this task (models/ has it: MSSNet today).
    runnable: bool = False


class Prompt(_Strict):
    """prompt.json: the question of the prompt the cards were imported from (or the founding one)."""

    question: str = Field(min_length=3)
    imported_from: str | None = None


class Table(_Strict):
    """Rows of values a source gives (configurations, accuracies per layers removed), for look-ups and
    calculations on the person's own numbers. Columns listed in `derived` were computed by the project."""

    id: str = Field(pattern=FACT_ID)
    title: str = Field(min_length=3)
    origin: str = Field(min_length=3)
    attribute: str | None = Field(default=None, pattern=ATTRIBUTE_ID)
    columns: list[str] = Field(min_length=2)
    key: str  # the column that names a row ("config")
    derived: list[str] = Field(default_factory=list)
    rank_by: str | None = None  # the column that orders rows for "the largest" / "the smallest"
    aliases: dict[str, list[str]] = Field(default_factory=dict)  # a row's key -> other names for it
    rows: list[dict[str, str | int | float]] = Field(min_length=1)

    @field_validator("rows")
    @classmethod
    def _rows_match_columns(cls, rows: list[dict], info) -> list[dict]:
        columns = set(info.data.get("columns", []))
        for row in rows:
            if set(row) != columns:
                raise ValueError(f"row {row} does not have exactly the columns {sorted(columns)}")
        return rows

    @field_validator("key", "rank_by")
    @classmethod
    def _a_column(cls, value: str | None, info) -> str | None:
        if value is not None and value not in info.data.get("columns", []):
            raise ValueError(f"{value!r} is not a column")
        return value

    @field_validator("derived")
    @classmethod
    def _derived_are_columns(cls, value: list[str], info) -> list[str]:
        missing = [c for c in value if c not in info.data.get("columns", [])]
        if missing:
            raise ValueError(f"derived names no column: {', '.join(missing)}")
        return value

    def cell_numbers(self) -> list[int | float]:
        """Every numeric cell (what answers may quote from the table)."""
        return [v for row in self.rows for v in row.values() if isinstance(v, int | float)]


class SourceCard(_Strict):
    """One file under knowledge/cards/: a source and the facts taken from it."""

    source: Source
    # Set by `kb import` ("seed:FILE"): links came from that prompt, not the canonical table.
    imported_from: str | None = None
    position: int = 0  # where the source is listed (the seed prompt's order); ties by id
    facts: list[dict] = Field(default_factory=list)  # validated one by one to name the failing id
    tables: list[Table] = Field(default_factory=list)


class TasksFile(_Strict):
    """tasks.json."""

    tasks: list[Task]


class CapabilitiesFile(_Strict):
    """capabilities.json."""

    capabilities: list[Capability]
