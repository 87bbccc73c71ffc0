"""The explainer inside someone else's LangChain application.

- `explainer_runnable()`: a Runnable from a question to the grounded `Answer`, so people can compose
  it into their own chains (`runnable.invoke("…")`, `.batch`, `|` with their own steps).
- `mssnet_demo_tool()`: the live MSSNet demo as a LangChain tool with a pydantic argument schema, so
  an agent someone already runs can restore a picture and get the measurements back.

No language model is involved in either. Importing this module imports langchain-core (about
0.5 s) but not torch: the engine is imported only when the tool runs.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from agent.answer import Answer


def explainer_runnable(cards_dir: str | Path | None = None) -> Runnable[str, Answer]:
    """question -> Answer over the bundled cards (or the cards in `cards_dir`), loaded once."""
    from agent.compose import answer_question, load_default_kb

    kb = load_default_kb(cards_dir)
    return RunnableLambda(lambda question: answer_question(question, kb=kb), name="restoration_explainer")


class RestoreArgs(BaseModel):
    """What the MSSNet demo tool takes (the same options as `explainer ask --image`)."""

    image: str = Field(description="path of the picture to restore")
    upscale: int = Field(
        default=1, ge=1, le=4, description="enlarge ×N with bicubic first (MSSNet keeps the size)"
    )
    reference: str | None = Field(
        default=None, description="sharp original at the output size, to score against"
    )
    self_test: bool = Field(default=False, description="shrink the picture, enlarge it back, restore, score")
    weights: str | None = Field(default=None, description="bundled weights name or a checkpoint path")
    out_dir: str = Field(default="out", description="a new demo folder is made inside it")


def _run_demo(
    image: str,
    upscale: int = 1,
    reference: str | None = None,
    self_test: bool = False,
    weights: str | None = None,
    out_dir: str = "out",
) -> dict:
    from agent.demo.run import run_demo_in_new_dir

    report = run_demo_in_new_dir(
        Path(image), Path(out_dir), upscale=upscale, reference=reference, self_test=self_test, weights=weights
    )
    weights_info = report.stats.weights if report.stats is not None else None
    return {
        "folder": str(report.out_dir),
        "files": {name: str(path) for name, path in report.files.items()},
        "measurements": [
            {"name": m.name, "before": m.before, "after": m.after, "note": m.note} for m in report.metrics
        ],
        "seconds": dict(report.timings),
        "stage_seconds": dict(report.stage_timing.median) if report.stage_timing else {},
        "weights_reason": report.weights_reason,
        "weights": weights_info.as_dict() if weights_info else None,
        "provenance": weights_info.provenance_line() if weights_info else None,
    }


def mssnet_demo_tool() -> StructuredTool:
    return StructuredTool.from_function(
        func=_run_demo,
        name="mssnet_restore",
        args_schema=RestoreArgs,
        description=(
            "Restore a picture with the real MSSNet network (deblurring; optional bicubic enlargement "
            "first) and return the output files and measurements (PSNR/SSIM with a reference or "
            "self-test, sharpness, high-frequency energy, per-stage times) with the weights' provenance."
        ),
    )
