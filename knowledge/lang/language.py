"""The language data of knowledge/lang/<code>/ loaded, validated and compiled once.

`language()` is what the understanding layer reads: kinds and attributes with their compiled cues,
referents, quantity patterns, part separators, outside names and the sentence frames. Nothing here
knows a phrasing; it only compiles what the files say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from knowledge.errors import KnowledgeError
from knowledge.lang.match import Cue, skip_fillers, stems
from knowledge.lang.schema import (
    Attribute,
    AttributesFile,
    Kind,
    KindsFile,
    Languages,
    Misconception,
    MisconceptionsFile,
    Outside,
    Parts,
    PhrasingFile,
    Quantities,
    Referents,
)
from knowledge.lang.yamlfile import YAMLError, read_yaml

LANG_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CueHit:
    id: str
    length: int  # words covered
    priority: int = 0


@dataclass
class Language:
    kinds: dict[str, Kind]
    attributes: dict[str, Attribute]
    phrasing: PhrasingFile  # referents, quantities, parts, outside names, languages, frames
    misconceptions: dict[str, Misconception] = field(default_factory=dict)
    _kind_cues: list[tuple[Kind, Cue]] = field(default_factory=list)
    _attribute_cues: list[tuple[Attribute, Cue]] = field(default_factory=list)
    _opposite_cues: dict[str, list[Cue]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._kind_cues = [(k, Cue.compile(c)) for k in self.kinds.values() for c in k.cues]
        self._attribute_cues = [
            (a, Cue.compile(c)) for a in self.attributes.values() for c in [*a.cues, *a.opposite]
        ]
        self._opposite_cues = {a.id: [Cue.compile(c) for c in a.opposite] for a in self.attributes.values()}
        self._premise_cues = {m.id: [Cue.compile(c) for c in m.cues] for m in self.misconceptions.values()}
        self._request_cues = {r.id: [Cue.compile(c) for c in r.cues] for r in self.phrasing.requests}
        self.fillers = [stems(f) for f in self.parts.fillers]
        self.patterns = {
            name: re.compile(getattr(self.quantities, name), re.I)
            for name in ("size", "factor", "percent", "megapixels")
        }

    @property
    def referents(self) -> Referents:
        return self.phrasing.referents

    @property
    def quantities(self) -> Quantities:
        return self.phrasing.quantities

    @property
    def parts(self) -> Parts:
        return self.phrasing.parts

    @property
    def outside(self) -> Outside:
        return self.phrasing.outside

    @property
    def languages(self) -> Languages:
        return self.phrasing.languages

    @property
    def frames(self) -> dict[str, str]:
        return self.phrasing.frames

    def frame(self, frame_id: str, **values: object) -> str:
        """A sentence from its frame: the only place answers' fixed words come from."""
        try:
            return self.frames[frame_id].format(**values)
        except KeyError as exc:
            raise KnowledgeError(f"sentence frame {frame_id!r} is missing or lacks {exc}") from exc

    def kind_hits(self, text: str) -> list[CueHit]:
        """Kinds whose cues the text matches; an anchored cue may open any clause ("my photo is
        tiny, can you enlarge it?")."""
        toks = stems(text)
        hits = [
            CueHit(k.id, n, k.priority)
            for k, cue in self._kind_cues
            if (n := max(cue.match(toks, start) for start in self.clause_starts(text, toks)))
        ]
        return sorted(hits, key=lambda h: (-h.priority, -h.length))

    def clause_starts(self, text: str, toks: list[str] | None = None) -> list[int]:
        """Word indices where the text's clauses start (after filler words): its start, and the
        first word after each comma, colon, semicolon or dash."""
        toks = stems(text) if toks is None else toks
        starts = [skip_fillers(toks, self.fillers)]
        before = 0
        for clause in re.split(r"[,:;—–]", text)[:-1]:
            before += len(stems(clause))
            if before < len(toks):
                starts.append(before + skip_fillers(toks[before:], self.fillers))
        return list(dict.fromkeys(starts))

    def premises(self, text: str) -> list[str]:
        """Misconceptions the text's wording assumes ("so few sampling rounds"), by id."""
        toks = stems(text)
        return [m for m, cues in self._premise_cues.items() if any(c.match(toks) for c in cues)]

    def requests(self, text: str) -> list[str]:
        """Sections of the full answer the text asks for by name (papers, workflow, ...)."""
        toks = stems(text)
        start = skip_fillers(toks, self.fillers)
        return [r for r, cues in self._request_cues.items() if any(c.match(toks, start) for c in cues)]

    def asks_opposite(self, text: str, attribute: str) -> bool:
        """The text asks the attribute's label the other way round ("the same size")."""
        toks = stems(text)
        return any(cue.match(toks) for cue in self._opposite_cues.get(attribute, []))

    def attribute_hits(self, text: str, names: Sequence[list[str]] = ()) -> list[CueHit]:
        """Attributes whose cues the text matches, the longest match first (the more specific cue).
        `names`: stemmed phrases that name a thing ("the bigger one" is a row of a table), whose
        words are no cue ("bigger" there asks nothing about enlarging)."""
        toks = _blanked(stems(text), names)
        start = skip_fillers(toks, self.fillers)
        best: dict[str, int] = {}
        for attribute, cue in self._attribute_cues:
            n = cue.match(toks, start)
            if n:
                best[attribute.id] = max(best.get(attribute.id, 0), n)
        order = list(self.attributes)
        return sorted((CueHit(a, n) for a, n in best.items()), key=lambda h: (-h.length, order.index(h.id)))


def _blanked(toks: list[str], phrases: Sequence[list[str]]) -> list[str]:
    out = list(toks)
    for phrase in phrases:
        n = len(phrase)
        for i in range(len(out) - n + 1):
            if n and out[i : i + n] == phrase:
                out[i : i + n] = [""] * n
    return out


def _read(path: Path) -> object:
    try:
        return read_yaml(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise KnowledgeError(f"{path.name}: cannot read the language data ({exc})") from exc


@lru_cache(maxsize=4)
def language(code: str = "en") -> Language:
    folder = LANG_DIR / code
    try:
        kinds = KindsFile.model_validate(_read(folder / "kinds.yml")).kinds
        attributes = AttributesFile.model_validate(_read(folder / "attributes.yml")).attributes
        phrasing = PhrasingFile.model_validate(_read(folder / "phrasing.yml"))
        misconceptions = MisconceptionsFile.model_validate(
            _read(folder / "misconceptions.yml")
        ).misconceptions
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise KnowledgeError(f"language data {code}: {where}: {err['msg']}") from exc
    ids = {a.id for a in attributes}
    for kind in kinds:
        if kind.default_attribute and kind.default_attribute not in ids:
            raise KnowledgeError(
                f"language data {code}: kind {kind.id}: no attribute {kind.default_attribute!r}"
            )
    return Language(
        kinds={k.id: k for k in kinds},
        attributes={a.id: a for a in attributes},
        phrasing=phrasing,
        misconceptions={m.id: m for m in misconceptions},
    )
