"""`DemoResult`: what one demo run measured on the person's picture, the files it wrote, and which
weights ran and why. Plain dataclasses (no torch): the JSON contract types its `demo` field with it.

Measurements and provenance are kept apart: `measurements()` holds only what was measured on the
picture; which weights ran (and why) is `provenance_line` / `weights_reason`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine imports torch: only for type checkers here
    from models.engine import RestoreStats
    from models.streamline import StreamlineResult
    from models.weights_info import WeightsInfo

# One vocabulary for the six outputs, as the cards say it: the first at half resolution, the rest at full.
STAGE_NAMES = [
    "res1_1: coarsest scale, stage 1 (output at half resolution)",
    "res2_1: middle scale, stage 1",
    "res2_2: middle scale, stage 2",
    "res3_1: full scale, stage 1",
    "res3_2: full scale, stage 2",
    "res3_3: full scale, stage 3 (the result)",
]
TOO_SMALL = "too small to measure"

# The files a demo writes, with the label a person reads beside each (terminal, Markdown, JSON).
FILE_LABELS = {
    "input": "the picture as the demo read it",
    "enlarged_bicubic": "bicubic enlargement (what MSSNet was given)",
    "restored": "MSSNet's result",
    "before_crop": "most detailed region, before (nearest-neighbour zoom)",
    "after_crop": "most detailed region, after MSSNet (nearest-neighbour zoom)",
    "reference_crop": "most detailed region, sharp reference (nearest-neighbour zoom)",
    "zoom_strip": "zoom strip ×3 (nearest-neighbour): before | MSSNet | reference",
    "difference": "difference map: MSSNet − before, amplified (grey = unchanged)",
    "stages": "the six stage outputs on the detailed region",
    "spectrum": "radial power spectrum (fine detail on the right)",
    "early_exit": "early exit: time vs quality per stage",
    "streamline": "EASIER ranking and linearisation sweep",
}


def finite(value: float | None) -> float | None:
    """None for a missing or non-finite number: nothing shows or stores NaN or inf."""
    return None if value is None or not math.isfinite(value) else float(value)


def number(value: float | None, digits: int) -> str:
    """`value` with `digits` decimals, never '-0.00' (a rounding of a tiny negative is 0)."""
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


@dataclass
class MetricRow:
    name: str
    before: float | None
    after: float | None
    note: str = ""
    digits: int = 4

    def __post_init__(self) -> None:  # metrics give NaN for pictures too small to measure
        self.before, self.after = finite(self.before), finite(self.after)
        self.too_small = self.before is None and self.after is None

    def _text(self, value: float | None) -> str:
        if value is None:
            return TOO_SMALL if self.too_small else "—"
        return number(value, self.digits)

    @property
    def before_text(self) -> str:
        return self._text(self.before)

    @property
    def after_text(self) -> str:
        return self._text(self.after)

    def to_dict(self) -> dict:
        return {"name": self.name, "before": self.before, "after": self.after, "note": self.note}


@dataclass
class DetailRecovery:
    """High-frequency energy (luminance spectrum above 0.25 × Nyquist) of input, output and reference,
    and the share of what the input lost against the reference that the restore brought back."""

    input_energy: float | None
    output_energy: float | None
    reference_energy: float | None
    recovered_share: float | None
    overshoot: float | None
    summary: str  # the plain-words line

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class StageExit:
    """Stopping after `stage` of the six stages: cumulative time (median of repeats, with its spread),
    and PSNR when there is a reference."""

    stage: int
    name: str
    seconds: float  # cumulative, stages 1..stage (median over the timed repeats)
    spread: float  # max − min of the cumulative time over the repeats
    time_share: float  # of all six stages
    psnr: float | None

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class StageTiming:
    """Per-stage seconds timed apart from the restore: after a warm-up, on a crop, repeated."""

    median: dict[str, float] = field(default_factory=dict)  # stage_1..stage_6 -> seconds
    spread: dict[str, float] = field(default_factory=dict)  # stage_k -> max − min over the repeats
    repeats: int = 0
    crop: tuple[int, int] | None = None  # (width, height) of the timed region

    def to_dict(self) -> dict:
        return {
            "median": dict(self.median),
            "spread": dict(self.spread),
            "repeats": self.repeats,
            "crop": list(self.crop) if self.crop else None,
        }


@dataclass
class DemoResult:
    image_name: str
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    metrics: list[MetricRow] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # the restore's own (upscale, forward, total)
    stage_timing: StageTiming | None = None
    stats: RestoreStats | None = None  # how the restore ran
    crop_box: tuple[int, int, int, int] | None = None  # left, top, right, bottom in the output
    reference: str | None = None  # "self-test", a file name, or None
    note: str = ""
    before_label: str = "Before"  # "Bicubic ×2" in the enlargement workflow
    after_label: str = "After"
    factor: int = 1  # enlargement factor (upscale, or the self-test's)
    detail: DetailRecovery | None = None
    early_exit: list[StageExit] = field(default_factory=list)
    early_exit_summary: str = ""
    streamline: StreamlineResult | None = None
    streamline_summary: list[str] = field(default_factory=list)
    weights: WeightsInfo | None = None  # which weights ran (provisional, measured gain)
    weights_reason: str = ""  # why these weights: one line, said in every demo output
    offer: str = ""  # a next step worth trying (the ×4 self-test after a ×2 one)
    difference_gain: float | None = None  # how much the difference map is amplified

    @property
    def psnr_change(self) -> float | None:
        rows = {m.name: m for m in self.metrics}
        psnr = rows.get("PSNR (dB)")
        if psnr is None or psnr.before is None or psnr.after is None:
            return None
        return psnr.after - psnr.before

    @property
    def scores_summary(self) -> str:
        """PSNR/SSIM before and after in one sentence, when there is a reference."""
        rows = {m.name: m for m in self.metrics}
        psnr, ssim = rows.get("PSNR (dB)"), rows.get("SSIM")
        change = self.psnr_change
        if psnr is None or change is None:
            return ""
        against = "the original (self-test)" if self.reference == "self-test" else self.reference
        ssim_text = (
            f", SSIM {ssim.before:.3f} → {ssim.after:.3f}"
            if ssim is not None and ssim.before is not None and ssim.after is not None
            else ""
        )
        return (
            f"Against {against}: {self.before_label} {psnr.before_text} dB → {self.after_label} "
            f"{psnr.after_text} dB ({'+' if change >= 0 else ''}{number(change, 2)} dB){ssim_text}."
        )

    @property
    def provenance_line(self) -> str:
        return self.weights.provenance_line() if self.weights is not None else ""

    @property
    def headline(self) -> str:
        """One line for later chat answers: the main measurement, without re-printing the demo."""
        if self.scores_summary:
            return self.scores_summary
        if self.detail is not None and self.detail.summary:
            return self.detail.summary
        return f"MSSNet ran on {self.image_name}"

    def measurements(self) -> list[dict]:
        """What was measured on the picture, each with the topic it illustrates ("detail", "stages",
        "streamline"). Provenance (which weights, why) is not a measurement: see provenance_line."""
        out = []
        if self.scores_summary:
            out.append({"topic": "detail", "text": self.scores_summary})
        if self.detail is not None and self.detail.summary:
            out.append({"topic": "detail", "text": self.detail.summary})
        if self.early_exit_summary:
            out.append({"topic": "stages", "text": self.early_exit_summary})
        out += [{"topic": "streamline", "text": line} for line in self.streamline_summary]
        return out

    def labelled_files(self) -> dict[str, tuple[str, Path]]:
        """file name -> (what a person sees in it, path)."""
        labels = dict(FILE_LABELS)
        if self.difference_gain is not None:
            labels["difference"] = (
                f"difference map: MSSNet − {self.before_label.lower()}, amplified ×{self.difference_gain:.0f} "
                "(grey = unchanged, brighter = MSSNet added, darker = it removed)"
            )
            labels["zoom_strip"] = (
                f"zoom strip ×3 (nearest-neighbour): {self.before_label} | MSSNet"
                + (" | sharp reference" if "reference_crop" in self.files else "")
                + f" | difference ×{self.difference_gain:.0f}"
            )
        return {name: (labels.get(name, name.replace("_", " ")), path) for name, path in self.files.items()}

    def to_dict(self, relative_to: Path | None = None, measurements: list[dict] | None = None) -> dict:
        """The JSON `demo` object: metrics, per-stage times, files (with labels), weights and why."""

        def link(path: Path) -> str:
            if relative_to is None:
                return str(path)
            return os.path.relpath(Path(path).resolve(), Path(relative_to).resolve()).replace(os.sep, "/")

        stats = self.stats
        return {
            "image": self.image_name,
            "reference": self.reference,
            "note": self.note or None,
            "factor": self.factor,
            "columns": [self.before_label, self.after_label],
            "metrics": [m.to_dict() for m in self.metrics],
            "detail": self.detail.to_dict() if self.detail else None,
            "stage_times": dict(self.stage_timing.median) if self.stage_timing else {},
            "stage_timing": self.stage_timing.to_dict() if self.stage_timing else None,
            "timings": dict(self.timings),
            "early_exit": [s.to_dict() for s in self.early_exit],
            "streamline": self.streamline.to_dict() if self.streamline is not None else None,
            "measurements": measurements if measurements is not None else self.measurements(),
            "files": {name: link(path) for name, path in self.files.items()},
            "file_labels": {name: label for name, (label, _) in self.labelled_files().items()},
            "weights": self.weights.as_dict() if self.weights is not None else None,
            "weights_line": self.provenance_line,
            "weights_reason": self.weights_reason or None,
            "offer": self.offer or None,
            "device": stats.device if stats else None,
            "precision": stats.precision if stats else None,
            "input_size": list(stats.input_size) if stats else None,
            "output_size": list(stats.output_size) if stats else None,
        }

    def json_object(self, answer: Any) -> dict:
        """The contract's `demo` object for `answer`: measurements placed beside the claims they illustrate."""
        from agent.demo.illustrate import measured_beside_claims

        return self.to_dict(measurements=measured_beside_claims(answer))
