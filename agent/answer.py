"""The Answer: the JSON contract of design.md, as pydantic models.

`Answer.model_dump(mode="json")` (or `to_json()`) is exactly the object `explainer ask --format json`
prints. Rendering-only extras (claim illustrations, suggestions) are excluded from that dump so the
contract stays fixed; the demo is dumped as its `to_dict()`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainValidator, WithJsonSchema, field_serializer

from agent.demo.result import DemoResult  # a plain dataclass module: no torch, no demo run


def _demo_or_none(demo: object) -> DemoResult | None:
    """The demo field holds a DemoResult (built by the demo run, never parsed from JSON) or None."""
    if demo is not None and not isinstance(demo, DemoResult):
        raise ValueError(f"demo must be a DemoResult, not {type(demo).__name__}")
    return demo


if TYPE_CHECKING:
    DemoField = DemoResult | None
else:  # checked to be a DemoResult; its dataclass fields (torch types among them) are no pydantic schema
    DemoField = Annotated[
        Any, PlainValidator(_demo_or_none), WithJsonSchema({"anyOf": [{"type": "object"}, {"type": "null"}]})
    ]

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
    # numbers a skill computed from the person's numbers and a card's (the text says so); the
    # grounding validator allows these in this claim only
    computed: list[str] = Field(default_factory=list, exclude=True)


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
    # how the understanding layer read the question (`explainer ask --trace`), and the reading
    # itself (a knowledge.understand.Understanding: a chat's next question may continue it)
    trace: list[str] = Field(default_factory=list, exclude=True)
    understood: Any = Field(default=None, exclude=True)
    # the names of every loaded source: an abstention says these are the only ones it may use
    loaded_sources: list[str] = Field(default_factory=list, exclude=True)
    # the source the answer recommends (the demo runs it only if the cards mark it runnable)
    recommended: str | None = Field(default=None, exclude=True)
    # whether the question concerns the attached picture ("it", "this", "my photo"): set by the
    # understanding layer; None = not decided there (agent.demo.trigger then falls back)
    about_picture: bool | None = Field(default=None, exclude=True)
    # The live demo: in JSON the contract's "demo" object (measurements on the person's picture,
    # kept apart from the source claims), null without a picture.
    demo: DemoField = Field(
        default=None,
        description=(
            "with --image: the live demo's measurements on the person's picture (PSNR/SSIM, the lost detail recovered, "
            "per-stage times and early exit, the EASIER sweep when asked), its files with what each shows (the ×3 "
            "zoom strip, the amplified difference map), the weights (name, SHA-256, provisional) and why they "
            "were chosen, device and precision; null without a picture"
        ),
    )

    @field_serializer("demo")
    def _demo_object(self, demo: DemoResult | None) -> dict[str, Any] | None:
        return None if demo is None else demo.json_object(self)

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
