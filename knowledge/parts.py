"""What understanding produces: a question's parts, each with subjects, attribute, kind,
quantities and ranked facts (built by knowledge.understand, read by the agent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from knowledge.schema import Fact

SubjectKind = Literal["source", "task", "tool", "picture", "outside", "ambiguous"]


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
    measured: bool = False  # the size is the attached picture's, measured (not written in the question)

    def __bool__(self) -> bool:
        return bool(self.sizes or self.factors or self.percents or self.megapixels or self.rows)


@dataclass(frozen=True)
class RankedFact:
    fact: Fact
    score: float  # with the asked attribute's bonus
    raw: float = 0.0  # on the question's words and meaning alone


@dataclass
class Part:
    text: str
    kind: str  # an answer kind of kinds.yml
    attribute: str | None
    subjects: list[Subject]
    quantities: Quantities
    facts: list[RankedFact] = field(default_factory=list)  # ranked over every answerable fact
    attribute_by: str = "cue"  # cue | quantity | kind | meaning | earlier | referent | none
    # other readings of the asked attribute, in order (a cue can mean several): the answer takes the
    # first one the subject's facts state
    alternatives: tuple[str, ...] = ()
    # the question asks the attribute's label the other way round: a fact's yes is its no
    opposite: bool = False
    kind_by: str = "cue"  # cue | meaning | attribute | default

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
    language: str = "en"  # the question's language (answers are in English)
    shortened: int = 0  # distinct sentences kept when a long question was cut (0: not cut)
    # the whole question (knowledge.reading): the task the person is doing and how it was found
    # (named | loosely | source | founding | evidence | prompt), the premises its wording assumes,
    # the full answer's sections it asks for, whether it is the founding kind, the thing outside
    # the sources it is about, and whether the sources cover it
    task: str | None = None
    task_how: str = ""
    premises: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()
    broad: bool = False
    outside_subject: str | None = None
    in_scope: bool = True

    @property
    def about_picture(self) -> bool:
        return any(p.about_picture for p in self.parts)

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(s for p in self.parts for s in p.source_ids))

    @property
    def named_sources(self) -> list[str]:
        """Sources the question names, in the parts' order."""
        return list(
            dict.fromkeys(
                s.id for p in self.parts for s in p.subjects if s.kind == "source" and s.how == "named"
            )
        )

    @property
    def outside(self) -> list[str]:
        return list(dict.fromkeys(n for p in self.parts for n in p.outside))

    @property
    def evidence(self) -> list[RankedFact]:
        """Every ranked fact once, at its best score over the parts, best first."""
        best: dict[str, RankedFact] = {}
        for part in self.parts:
            for r in part.facts:
                if r.fact.id not in best or r.score > best[r.fact.id].score:
                    best[r.fact.id] = r
        return sorted(best.values(), key=lambda r: -r.score)

    @property
    def sources_ranked(self) -> list[str]:
        """The named sources, then the owners of the evidence in its order."""
        return list(dict.fromkeys([*self.named_sources, *(r.fact.source for r in self.evidence)]))

    def trace(self, top: int = 3) -> list[str]:
        """How the question was understood, for `explainer ask --trace`."""
        lines = [f"understood {len(self.parts)} part(s)" + (", a picture attached" if self.picture else "")]
        whole = [f"task {self.task} ({self.task_how})" if self.task else "no task"]
        whole += [f"premises {', '.join(self.premises)}"] if self.premises else []
        whole += [f"asks for {', '.join(self.requests)}"] if self.requests else []
        whole += ["the founding kind (full form)"] if self.broad else []
        whole += [f"about {self.outside_subject}, outside the sources"] if self.outside_subject else []
        whole += [] if self.in_scope else ["not covered by the sources"]
        lines.append("; ".join(whole))
        for i, p in enumerate(self.parts, 1):
            subjects = ", ".join(f"{s.kind}:{s.id or '?'} ({s.how})" for s in p.subjects) or "none"
            lines.append(f"part {i}: {p.text}")
            lines.append(
                f"  kind {p.kind} (by {p.kind_by}); attribute {p.attribute or '-'} (by {p.attribute_by})"
            )
            if p.alternatives:
                lines.append(f"  other readings: {', '.join(p.alternatives)}")
            lines.append(f"  subjects: {subjects}")
            q = p.quantities
            found = [f"sizes {q.sizes}" if q.sizes else "", f"factors {q.factors}" if q.factors else ""]
            found += [
                f"percents {q.percents}" if q.percents else "",
                f"rows {[k for _, k in q.rows]}" if q.rows else "",
            ]
            if any(found):
                lines.append(f"  quantities: {'; '.join(f for f in found if f)}")
            for r in p.facts[:top]:
                lines.append(
                    f"  {r.score:.2f} {r.fact.id}" + (f" [{r.fact.attribute}]" if r.fact.attribute else "")
                )
        return lines
