"""The Answer: the JSON contract of design.md, as pydantic models.

`Answer.model_dump(mode="json")` (or `to_json()`) is exactly the object `explainer ask --format json`
prints. Rendering-only extras (claim illustrations, suggestions) are excluded from that dump so the
contract stays fixed; the demo is dumped as its `to_dict()`.
"""
from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer

WorkflowStage = Literal["input", "preprocess", "model", "postprocess", "output"]
WORKFLOW_STAGES: tuple[str, ...] = ("input", "preprocess", "model", "postprocess", "output")


class TaskRef(BaseModel):
    id: str
    label: str


class WorkflowStep(BaseModel):
    stage: WorkflowStage
    text: str
    sources: list[str]
    # what the step hands to the next stage (the card's label for the graph's edge); not in the JSON
    passes: str | None = Field(default=None, exclude=True)


class Claim(BaseModel):
    text: str
    sources: list[str]
    facts: list[str] = Field(default_factory=list)   # ids of the card facts the text comes from
    # which part of the answer it belongs to ("task", "comparison", "support", ...); for rendering
    section: str = Field(default="support", exclude=True)


class SourceRef(BaseModel):
    id: str
    title: str
    url: str


class Answer(BaseModel):
    question: str
    abstained: bool
    # the short, cited answer to what was asked (one entry per part of the question), shown first
    direct_answer: list[Claim] = Field(default_factory=list)
    task: TaskRef | None = None
    workflow: list[WorkflowStep] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    # parts of the question the sources do not cover ("Real-ESRGAN is not among the sources")
    not_covered: list[str] = Field(default_factory=list)

    # Rendering extras, not part of the JSON contract.
    # claim index -> names of demo artefacts ("crops", "stages", "spectrum") that illustrate it
    illustrations: dict[int, list[str]] = Field(default_factory=dict, exclude=True)
    # the full three-part form (task, workflow, papers and tools) rather than the narrow one
    long_form: bool = Field(default=False, exclude=True)
    # a chat follow-up as it was understood ("Who wrote FeatSharp?" for "Who wrote it?")
    resolved_question: str | None = Field(default=None, exclude=True)
    # questions the sources can answer (offered when abstaining)
    suggestions: list[str] = Field(default_factory=list, exclude=True)
    # source id -> the claim text saying why that source matters (shown with its links)
    why: dict[str, str] = Field(default_factory=dict, exclude=True)
    # a pointer to the live demo when the person wants to see the model run and gave no picture
    demo_hint: bool = Field(default=False, exclude=True)
    # the names of every loaded source: an abstention says these are the only ones it may use
    loaded_sources: list[str] = Field(default_factory=list, exclude=True)
    # the source the answer recommends (the demo runs it only if the cards mark it runnable)
    recommended: str | None = Field(default=None, exclude=True)
    # The live demo (agent.demo.DemoReport): in JSON the contract's "demo" object (measurements on
    # the person's picture, kept apart from the source claims), null without a picture.
    demo: Any = Field(default=None)

    @field_serializer("demo")
    def _demo_object(self, demo):
        if demo is None:
            return None
        from agent.demo import measured_beside_claims
        return {**demo.to_dict(), "measurements": measured_beside_claims(self)}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=indent, ensure_ascii=False)

    @property
    def task_claims(self) -> list[Claim]:
        """The claims that describe the task (shown under "the task you are performing")."""
        return [c for c in self.claims if c.section in ("task", "comparison")]

    def cited_source_ids(self) -> set[str]:
        ids = {s for c in [*self.direct_answer, *self.claims] for s in c.sources}
        ids.update(s for w in self.workflow for s in w.sources)
        return ids
