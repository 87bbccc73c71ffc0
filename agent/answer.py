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
    """The task the person is really doing."""

    id: str = Field(description="task id from the cards' tasks.json, e.g. image-deblurring")
    label: str = Field(description="the task's name for people")


class WorkflowStep(BaseModel):
    """One node of the input → model → output graph."""

    stage: WorkflowStage = Field(description="input, preprocess, model, postprocess or output")
    text: str = Field(description="what happens at this step")
    sources: list[str] = Field(description="ids of the sources the step is taken from")
    # what the step hands to the next stage (the card's label for the graph's edge); not in the JSON
    passes: str | None = Field(default=None, exclude=True)


class Claim(BaseModel):
    """One sentence of the answer and where it comes from."""

    text: str = Field(description="the sentence, taken from the cards")
    sources: list[str] = Field(description="ids of the sources it cites")
    facts: list[str] = Field(default_factory=list, description="ids of the card facts the text comes from")
    # which part of the answer it belongs to ("task", "comparison", "support", ...); for rendering
    section: str = Field(default="support", exclude=True)


class SourceRef(BaseModel):
    """A source whose link appears in the answer."""

    id: str = Field(description="source id, e.g. mssnet")
    title: str = Field(description="the paper's title as the card gives it")
    url: str = Field(description="a link from the card (no other URL ever appears in an answer)")


class Answer(BaseModel):
    """The grounded answer to one question."""

    question: str = Field(description="the question as asked")
    abstained: bool = Field(description="true when the loaded sources do not cover the question")
    direct_answer: list[Claim] = Field(
        default_factory=list,
        description="the short, cited answer to what was asked (one entry per part), shown first",
    )
    task: TaskRef | None = Field(
        default=None, description="the task the person is doing, null when none applies"
    )
    workflow: list[WorkflowStep] = Field(
        default_factory=list,
        description="the recommended model's input → model → output steps (the long form)",
    )
    claims: list[Claim] = Field(default_factory=list, description="the supporting sentences, each cited")
    sources: list[SourceRef] = Field(
        default_factory=list, description="every URL that appears anywhere in the answer"
    )
    caveats: list[str] = Field(
        default_factory=list, description="what the sources do not say that matters here"
    )
    not_covered: list[str] = Field(
        default_factory=list,
        description="parts of the question the sources do not cover ('Real-ESRGAN is not among the sources')",
    )

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
    demo: Any = Field(
        default=None,
        description=(
            "with --image: the live demo's measurements on the person's picture (PSNR/SSIM, the lost detail recovered, "
            "per-stage times and early exit, the EASIER sweep when asked), its files, and the weights (name, SHA-256, "
            "provisional), device and precision; null without a picture"
        ),
    )

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
