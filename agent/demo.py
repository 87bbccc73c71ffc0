"""The live demo: run MSSNet on the person's picture and keep what it shows.

Artefacts (PNG files): the input, the restored image, before/after crops of the most detailed
region, the six stage outputs (full images and a strip of the crop region), and a spectrum plot
of high-frequency energy. Numbers: no-reference sharpness and high-frequency energy before and
after, PSNR/SSIM against a sharp reference (given, or the original in a synthetic self-test),
and the time of each stage. `models` is imported only when a demo runs.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import AgentError
from common.textsafe import clean_line

CROP_SIZE = 96  # pixels of the most-detailed region shown before/after
CROP_ZOOM = 3  # nearest-neighbour enlargement of crop files so pixels stay visible
STREAMLINE_CROP = 128  # the EASIER sweep runs ~10 forwards: on this crop it adds about a second

# One vocabulary for the six outputs, as the cards say it: the first at half resolution, the rest at full.
STAGE_NAMES = [
    "res1_1: coarsest scale, stage 1 (output at half resolution)",
    "res2_1: middle scale, stage 1",
    "res2_2: middle scale, stage 2",
    "res3_1: full scale, stage 1",
    "res3_2: full scale, stage 2",
    "res3_3: full scale, stage 3 (the result)",
]
STAGE_LABELS = [
    "1: res1_1\n(half resolution)",
    "2: res2_1",
    "3: res2_2",
    "4: res3_1",
    "5: res3_2",
    "6: res3_3 (result)",
]
STREAMLINE_WORDS = re.compile(
    r"streamlin|simplif|fewer (?:steps|layers|stages)|remov\w* (?:steps|layers)|"
    r"lineari[sz]|entropy|prun|depth|sampling rounds|early exit",
    re.I,
)


def asks_about_streamlining(question: str | None) -> bool:
    """Whether a question is about making the network's steps fewer or simpler (then the demo runs EASIER)."""
    return bool(question and (STREAMLINE_WORDS.search(question) or "EASIER" in question))


if TYPE_CHECKING:  # the engine imports torch: only for type checkers here
    from models.engine import RestoreStats
    from models.weights_info import WeightsInfo


@dataclass
class MetricRow:
    name: str
    before: float | None
    after: float | None
    note: str = ""
    digits: int = 4

    def __post_init__(self):  # metrics give NaN for pictures too small to measure: no NaN shown or stored
        self.before, self.after = (
            None if v is not None and math.isnan(v) else v for v in (self.before, self.after)
        )
        self.too_small = self.before is None and self.after is None

    def _text(self, value) -> str:
        if value is None:
            return "too small to measure" if self.too_small else "—"
        return f"{value:.{self.digits}f}"

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
    """Stopping after `stage` of the six stages: cumulative time, and PSNR when there is a reference."""

    stage: int
    name: str
    seconds: float  # cumulative, stages 1..stage
    time_share: float  # of all six stages
    psnr: float | None

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class DemoReport:
    image_name: str
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    metrics: list[MetricRow] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    stats: RestoreStats | None = None  # how the restore ran (weights included)
    crop_box: tuple[int, int, int, int] | None = None  # left, top, right, bottom in the output
    reference: str | None = None  # "self-test", a file name, or None
    note: str = ""
    before_label: str = "Before"  # "Bicubic ×2" in the enlargement workflow
    after_label: str = "After"
    factor: int = 1  # enlargement factor (upscale, or the self-test's)
    detail: DetailRecovery | None = None
    early_exit: list[StageExit] = field(default_factory=list)
    early_exit_summary: str = ""
    streamline: object | None = None  # models.streamline.StreamlineResult
    streamline_summary: list[str] = field(default_factory=list)
    weights: WeightsInfo | None = None  # which weights ran (provisional, measured gain)

    @property
    def scores_summary(self) -> str:
        """PSNR/SSIM before and after in one sentence, when there is a reference."""
        rows = {m.name: m for m in self.metrics}
        psnr, ssim = rows.get("PSNR (dB)"), rows.get("SSIM")
        if psnr is None or psnr.before is None or psnr.after is None:
            return ""
        against = "the original (self-test)" if self.reference == "self-test" else self.reference
        ssim_text = (
            f", SSIM {ssim.before:.3f} → {ssim.after:.3f}"
            if ssim is not None and ssim.before is not None and ssim.after is not None
            else ""
        )
        return (
            f"Against {against}: {self.before_label} {psnr.before:.2f} dB → {self.after_label} "
            f"{psnr.after:.2f} dB ({psnr.after - psnr.before:+.2f} dB){ssim_text}."
        )

    @property
    def provenance_line(self) -> str:
        return self.weights.provenance_line() if self.weights is not None else ""

    def measurements(self) -> list[dict]:
        """The plain-words measurements, each with the topic it illustrates (for the answer's
        "Measured on your picture" block): "detail", "stages", "streamline", "weights"."""
        out = []
        if self.scores_summary:
            out.append({"topic": "detail", "text": self.scores_summary})
        if self.detail is not None and self.detail.summary:
            out.append({"topic": "detail", "text": self.detail.summary})
        if self.early_exit_summary:
            out.append({"topic": "stages", "text": self.early_exit_summary})
        out += [{"topic": "streamline", "text": line} for line in self.streamline_summary]
        if self.provenance_line:
            out.append({"topic": "weights", "text": self.provenance_line})
        return out

    def to_dict(self, relative_to: Path | None = None) -> dict:
        """The JSON `demo` object: metrics, per-stage times, files, weights, device, precision."""
        import os

        def link(path) -> str:
            path = Path(path)
            if relative_to is None:
                return str(path)
            return os.path.relpath(path.resolve(), Path(relative_to).resolve()).replace(os.sep, "/")

        stats = self.stats
        return {
            "image": self.image_name,
            "reference": self.reference,
            "note": self.note or None,
            "factor": self.factor,
            "columns": [self.before_label, self.after_label],
            "metrics": [m.to_dict() for m in self.metrics],
            "detail": self.detail.to_dict() if self.detail else None,
            "stage_times": {k: v for k, v in self.timings.items() if k.startswith("stage_")},
            "timings": dict(self.timings),
            "early_exit": [s.to_dict() for s in self.early_exit],
            "streamline": self.streamline.to_dict() if self.streamline is not None else None,
            "measurements": self.measurements(),
            "files": {name: link(path) for name, path in self.files.items()},
            "weights": self.weights.as_dict() if self.weights is not None else None,
            "weights_line": self.provenance_line,
            "device": stats.device if stats else None,
            "precision": stats.precision if stats else None,
            "input_size": list(stats.input_size) if stats else None,
            "output_size": list(stats.output_size) if stats else None,
        }


def load_engine():
    """Import the restoration engine (torch included); returns the models package."""
    import models

    try:
        models.restore  # noqa: B018 - the lazy export imports models.engine and torch
    except (ImportError, AttributeError) as exc:
        raise AgentError(f"the restoration engine is not available ({exc})") from None
    return models


def unique_dir(base: Path, stem: str) -> Path:
    """A new directory base/stem, base/stem-2, ...: a demo never overwrites earlier output."""
    for n in range(1, 10_000):
        path = base / (stem if n == 1 else f"{stem}-{n}")
        if not path.exists():
            path.mkdir(parents=True)
            return path
    raise AgentError(f"too many demo folders under {base}")


def safe_stem(path: Path) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_-]+", "_", Path(path).stem)[:40] or "image"


@contextmanager
def sigint_held_back():
    """Hold Ctrl-C (SIGINT) until the block ends, then deliver it as usual, right after the block.

    A Ctrl-C pressed just as a folder is created would otherwise land between the mkdir and the
    `try` that removes the folder on failure, and leave it behind half-made. A Python-level handler
    is used, not a signal mask: the kernel may hand SIGINT to any thread (torch's, the embeddings
    loader), and Python then raises KeyboardInterrupt in the main thread whatever its mask.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)  # through the restored handler: KeyboardInterrupt


@contextmanager
def fresh_dir(base: Path, stem: str):
    """A new folder (see unique_dir) for the block to fill; removed again if the block fails or is stopped."""
    import shutil

    out = None
    try:
        with sigint_held_back():
            out = unique_dir(Path(base), stem)
        yield out
    except BaseException:
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
        raise


def check_demo_inputs(image, reference=None, upscale: int = 1) -> None:
    """Before any work: the picture (and the reference) can be read as images, and the reference has
    the size of the result (the picture's size times --upscale)."""
    import os

    from models.imageio import probe_image

    for path in (image, reference):
        if isinstance(path, (str, Path)) and not os.path.lexists(path):
            raise AgentError(f"no such image file: {clean_line(str(path))}")
    size = probe_image(image) if isinstance(image, (str, Path)) else None
    if reference is None:
        return
    ref_size = probe_image(reference)
    if size is None:
        import numpy as np

        h, w = np.shape(image)[:2]
        size = (w, h)
    result = (size[0] * upscale, size[1] * upscale)
    # up to upscale-1 pixels more is the shrink's rounding (451 px shrunk x2 is 225): cropped, see _fit_reference
    if not all(0 <= r - o < upscale for r, o in zip(ref_size, result)):
        times = f" x{upscale}" if upscale != 1 else ""
        raise AgentError(
            f"the reference {clean_line(Path(reference).name)} is {ref_size[0]}x{ref_size[1]} but the "
            f"result will be {result[0]}x{result[1]} (the picture{times}): the reference must be the "
            "sharp original at the output size"
        )


def run_demo_in_new_dir(image: Path, base: Path, **options) -> DemoReport:
    """run_demo into a fresh base/demo-<name>[-n] folder, removed again if the demo fails or is stopped."""
    from common.files import check_writable

    check_demo_inputs(image, options.get("reference"), options.get("upscale", 1))
    check_writable(base, folder=True)
    with fresh_dir(base, f"demo-{safe_stem(image)}") as out:
        return run_demo(image, out, **options)


def degrade_for_self_test(rgb, factor: int = 2, task: str | None = None):
    """The self-test's soft picture: for enlargement (the default) shrink ×factor and enlarge back,
    both with bicubic; for deblurring a 13-px straight camera motion plus sensor noise σ 0.005.

    models.training.degrade's evaluation degradations themselves (8-bit), so the demo's numbers
    measure what the weights' evaluation measured.
    """
    from models.training.degrade import eval_degradation_rgb

    return eval_degradation_rgb(rgb, "motion" if task == "deblur" else f"x{int(factor)}")


def most_detailed_box(rgb, size: int = CROP_SIZE) -> tuple[int, int, int, int]:
    """The size×size window with the most gradient energy (an integral image over |∇luma|)."""
    import numpy as np

    luma = rgb[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    h, w = luma.shape
    size = min(size, h, w)
    grad = np.zeros_like(luma)
    grad[:, 1:] += np.abs(np.diff(luma, axis=1))
    grad[1:, :] += np.abs(np.diff(luma, axis=0))
    integral = np.pad(grad.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = (
        integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size] + integral[:-size, :-size]
    )
    top, left = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(left), int(top), int(left) + size, int(top) + size


def _to_array(image):
    import numpy as np

    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _save_png(array_or_image, path: Path) -> Path:
    import numpy as np
    from PIL import Image

    img = array_or_image
    if not isinstance(img, Image.Image):
        img = Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8))
    img.save(path, format="PNG")
    return path


def _crop_zoomed(image, box, zoom=CROP_ZOOM):
    from PIL import Image

    crop = image.crop(box)
    return crop.resize((crop.width * zoom, crop.height * zoom), Image.Resampling.NEAREST)


def _stage_strip(before, stage_images, box, path: Path, timings: dict) -> Path:
    """The crop region of the input and of each of the six stages, coarse to fine, in one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    labels = STAGE_LABELS
    fig, axes = plt.subplots(1, len(stage_images) + 1, figsize=(2.2 * (len(stage_images) + 1), 2.6), dpi=100)
    axes[0].imshow(before.crop(box), interpolation="nearest")
    axes[0].set_title("input\n", fontsize=8)
    axes[0].axis("off")
    full_size = stage_images[-1].size
    for i, (ax, img) in enumerate(zip(axes[1:], stage_images)):
        if img.size != full_size:  # stage 1 is at half resolution
            img = img.resize(full_size, Image.Resampling.BILINEAR)
        ax.imshow(img.crop(box), interpolation="nearest")
        t = timings.get(f"stage_{i + 1}")
        ax.set_title(labels[i] + (f"\n{t:.3f} s" if t is not None else ""), fontsize=8)
        ax.axis("off")
    fig.suptitle("MSSNet stage outputs, coarse to fine (most detailed region)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _spectrum_plot(curves: dict[str, object], path: Path, radius_fraction: float = 0.25) -> Path:
    """Radial power spectra (log scale) with the high-frequency band shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from models import metrics

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    top = 0.0
    for label, rgb in curves.items():
        freqs, power = metrics.radial_spectrum(rgb)
        freqs, power = np.asarray(freqs, dtype=float), np.asarray(power, dtype=float)
        ax.semilogy(freqs, np.maximum(power, 1e-20), label=label, linewidth=1.2)
        top = max(top, float(freqs.max()) if freqs.size else 0.0)
    # metrics' radius is a fraction of Nyquist (0.5 cycles/pixel), the unit of radial_spectrum
    ax.axvspan(
        radius_fraction * 0.5,
        max(top, 0.5),
        color="orange",
        alpha=0.12,
        label=f"high-frequency band (> {radius_fraction:g} × Nyquist)",
    )
    ax.set_xlabel("spatial frequency (cycles/pixel)")
    ax.set_ylabel("power (log)")
    ax.set_title("Radial power spectrum: detail lives on the right")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _progress_callback(progress):
    """Adapt a rich Progress (or None) to models.restore's progress(done, total)."""
    if progress is None:
        return None, None
    task = progress.add_task("MSSNet restoring", total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update, task


# the card task a question is about -> the task bundled weights are trained for
_WEIGHTS_TASKS = {"super-resolution": "enlarge", "image-deblurring": "deblur"}


def weights_task(card_task: str | None) -> str | None:
    """'enlarge' / 'deblur' for a question about super-resolution / deblurring, else None (the
    bundled default)."""
    return _WEIGHTS_TASKS.get(card_task or "")


def _early_exit_plot(rows: list[StageExit], path: Path) -> Path:
    """Cumulative time after each stage (bars) and, with a reference, PSNR (line): what stopping costs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=100)
    ks = [r.stage for r in rows]
    ax.bar(ks, [r.seconds for r in rows], color="#9ecae1", label="cumulative time (s)")
    ax.set_xlabel("stop after stage k (6 = the full network)")
    ax.set_ylabel("seconds (cumulative)")
    ax.set_xticks(ks)
    if any(r.psnr is not None for r in rows):
        ax2 = ax.twinx()
        ax2.plot(
            [r.stage for r in rows if r.psnr is not None],
            [r.psnr for r in rows if r.psnr is not None],
            "o-",
            color="#d62728",
            label="PSNR (dB)",
        )
        ax2.set_ylabel("PSNR vs the sharp reference (dB)")
    ax.set_title("Early exit on your picture: time saved vs quality", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def early_exit_rows(stage_images, timings: dict, ref_rgb) -> list[StageExit]:
    """From the six stage outputs of one run: the cumulative time and PSNR of stopping after each."""
    from models import metrics

    total = sum(timings.get(f"stage_{k}", 0.0) for k in range(1, 7)) or 1.0
    rows, elapsed = [], 0.0
    for k, img in enumerate(stage_images, 1):
        elapsed += timings.get(f"stage_{k}", 0.0)
        psnr = None
        if ref_rgb is not None and metrics.measurable(ref_rgb):
            out = _to_array(img)
            if out.shape == ref_rgb.shape:
                psnr = float(metrics.psnr(out, ref_rgb))
        rows.append(StageExit(k, STAGE_NAMES[k - 1].split(":")[0], elapsed, elapsed / total, psnr))
    return rows


def early_exit_summary(rows: list[StageExit]) -> str:
    """One measured sentence: what stopping early would save and cost on this picture."""
    if len(rows) < 6:
        return ""
    full = rows[-1]
    k = 4
    if full.psnr is not None:
        good = [r for r in rows[:-1] if r.psnr is not None and r.psnr >= full.psnr - 0.1]
        k = good[0].stage if good else 4
    row = rows[k - 1]
    saved = 1 - row.time_share
    if full.psnr is None or row.psnr is None:
        return (
            f"Stopping after {k} of the 6 stages would save {saved:.0%} of the network's time on your "
            "picture (no reference, so the quality cost is not measured)."
        )
    cost = full.psnr - row.psnr
    cost_text = f"cost {cost:.2f} dB" if cost >= 0 else f"gain {-cost:.2f} dB"
    return f"On your picture, stopping after {k} of the 6 stages would save {saved:.0%} of the time and {cost_text}."


def run_streamline_on_crop(
    model, before_rgb, ref_rgb, box, device, precision, reference_kind, size=STREAMLINE_CROP
):
    """The EASIER sweep on a size×size crop around the most detailed region (fast enough for the demo)."""
    from models.streamline import streamline

    h, w = before_rgb.shape[:2]
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    side_w, side_h = min(size, w), min(size, h)
    left, top = min(max(0, cx - side_w // 2), w - side_w), min(max(0, cy - side_h // 2), h - side_h)
    crop = (slice(top, top + side_h), slice(left, left + side_w))
    result = streamline(
        model,
        [before_rgb[crop]],
        [ref_rgb[crop] if ref_rgb is not None else None],
        device=device,
        precision=precision,
        reference_kind=reference_kind,
        crop=max(side_w, side_h),
    )
    note = (
        f"These EASIER numbers come from a {side_w}×{side_h} crop of the most detailed region, not the whole "
        "picture, to keep the demo fast; explainer streamline runs it on whole pictures or folders."
    )
    return result, note


def _fit_reference(ref_rgb, rgb, upscale: int, ref_name: str):
    """The reference at the output size. A reference up to upscale-1 pixels larger (a 451-px original
    shrunk ×2 to 225 px comes back as 450) is cropped at the right/bottom; anything else is refused."""
    h, w = rgb.shape[:2]
    rh, rw = ref_rgb.shape[:2]
    if 0 <= rh - h * upscale < upscale and 0 <= rw - w * upscale < upscale:
        return ref_rgb[: h * upscale, : w * upscale], (rh, rw) != (h * upscale, w * upscale)
    raise AgentError(
        f"the reference {ref_name} is {rw}×{rh} but the ×{upscale} output of the {w}×{h} picture "
        f"will be {w * upscale}×{h * upscale}: the reference must be the sharp original at the "
        "output size"
    )


def run_demo(
    image,
    out_dir: Path,
    weights=None,
    upscale: int = 1,
    reference=None,
    self_test: bool = False,
    device: str = "auto",
    precision: str = "auto",
    tile: int | None = None,
    console=None,
    image_name: str | None = None,
    task: str | None = None,
    streamline: bool = False,
) -> DemoReport:
    """Restore `image` (a path, or an RGB float array in [0,1]) and write the artefacts into `out_dir`.

    `upscale`: enlarge ×N with bicubic first (the enlargement workflow). `reference`: the sharp
    original at the output size, to score against; `self_test`: shrink the picture ×upscale (×2 when
    upscale is 1) and enlarge it back with bicubic (the weights' evaluation degradation) — or, for
    task "deblur" without upscale, blur it with the evaluation's camera motion and noise — restore it
    and score against the original. `streamline`: also run EASIER on a crop. Ctrl-C stops it.
    """
    import numpy as np

    from common.files import check_writable

    if self_test and reference is not None:
        raise AgentError("use --reference or --self-test, not both")
    check_demo_inputs(image, reference, upscale)  # before any work: readable, the reference's size
    check_writable(out_dir, folder=True)
    from models.imageio import load_image

    if isinstance(image, (str, Path)):
        path = Path(image)
        rgb = load_image(path).rgb
        name = image_name or path.name
    else:
        rgb = np.asarray(image, dtype=np.float32)
        name = image_name or "picture"
    report = DemoReport(image_name=clean_line(name), out_dir=Path(out_dir))

    ref_rgb, run_upscale = None, upscale
    if self_test and task == "deblur" and upscale == 1:
        ref_rgb, rgb, run_upscale = rgb, degrade_for_self_test(rgb, task=task), 1
        report.reference, report.factor = "self-test", 1
        report.note = (
            "Synthetic self-test: the picture was blurred by a 13-pixel straight camera motion and "
            "given sensor noise (σ 0.005; the deblurring weights' evaluation degradation), then "
            "restored; the scores compare with the original."
        )
    elif self_test:
        factor = upscale if upscale > 1 else 2
        ref_rgb, rgb, run_upscale = rgb, degrade_for_self_test(rgb, factor), 1
        report.reference, report.factor = "self-test", factor
        report.note = (
            f"Synthetic self-test: the picture was shrunk ×{factor} and enlarged back with bicubic "
            "resizing (the weights' evaluation degradation), then restored; the scores compare "
            "with the original."
        )
    elif reference is not None:
        ref_path = Path(reference)
        if not ref_path.is_file():
            raise AgentError(f"no such reference file: {clean_line(str(ref_path))}")
        ref_rgb = load_image(ref_path).rgb
        report.reference = clean_line(ref_path.name)
        ref_rgb, cropped = _fit_reference(ref_rgb, rgb, upscale, report.reference)  # before any work
        report.factor = upscale
        if cropped:
            report.note = (
                f"The reference was cropped at the right/bottom by under {upscale} pixels to the ×{upscale} "
                "output size (the small picture's size was rounded down)."
            )
    else:
        report.factor = upscale
    enlarging = report.factor > 1
    blurred = self_test and task == "deblur" and upscale == 1
    report.before_label = f"Bicubic ×{report.factor}" if enlarging else ("Blurred" if blurred else "Before")
    report.after_label = "MSSNet" if enlarging else "After"

    models = load_engine()
    from models import metrics
    from models.engine import upscale_bicubic
    from models.streamline import plot_streamline

    weights_note = None
    if weights is None and task:
        from models.checkpoints import weights_for_task

        weights, weights_note = weights_for_task(task)
    if weights_note:
        report.note = " ".join(filter(None, [report.note, f"Note: {weights_note}."]))
    model = models.load_model(weights)
    out_dir = report.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    input_img = _pil(rgb)
    report.files["input"] = _save_png(input_img, out_dir / "input.png")

    result = _restore(models, input_img, model, run_upscale, device, precision, tile, console)
    restored = result.image.convert("RGB")
    # the bicubic baseline is exactly what MSSNet was given (the engine's enlargement), in 8 bits
    before = input_img if run_upscale == 1 else _pil(upscale_bicubic(rgb[..., :3], run_upscale))
    report.files["restored"] = _save_png(restored, out_dir / "restored.png")
    if before is not input_img:
        report.files["enlarged_bicubic"] = _save_png(before, out_dir / "enlarged_bicubic.png")
    report.timings = dict(result.timings)
    report.stats = result.stats
    report.weights = model.weights_info

    before_rgb, after_rgb = _to_array(before), _to_array(restored)
    box = most_detailed_box(ref_rgb if ref_rgb is not None else before_rgb)
    report.crop_box = box
    report.files["before_crop"] = _save_png(_crop_zoomed(before, box), out_dir / "crop_before.png")
    report.files["after_crop"] = _save_png(_crop_zoomed(restored, box), out_dir / "crop_after.png")
    if ref_rgb is not None:
        report.files["reference_crop"] = _save_png(
            _crop_zoomed(_pil(ref_rgb), box), out_dir / "crop_reference.png"
        )

    if result.stage_images:
        stages = [s.convert("RGB") for s in result.stage_images]
        for i, stage in enumerate(stages, 1):
            report.files[f"stage_{i}"] = _save_png(stage, out_dir / f"stage_{i}.png")
        report.files["stages"] = _stage_strip(before, stages, box, out_dir / "stages.png", report.timings)
        report.early_exit = early_exit_rows(stages, report.timings, ref_rgb)
        report.early_exit_summary = early_exit_summary(report.early_exit)
        report.files["early_exit"] = _early_exit_plot(report.early_exit, out_dir / "early_exit.png")

    measurable = all(metrics.measurable(x) for x in (before_rgb, after_rgb))
    if measurable:
        curves = {
            report.before_label.lower() if enlarging else "before": before_rgb,
            "after (MSSNet)": after_rgb,
        }
        if ref_rgb is not None:
            curves["sharp reference"] = ref_rgb
        report.files["spectrum"] = _spectrum_plot(curves, out_dir / "spectrum.png")

    report.metrics = _metric_rows(before_rgb, after_rgb, ref_rgb, report, measurable)
    report.detail = _detail_recovery(before_rgb, after_rgb, ref_rgb, report.before_label)

    if streamline and measurable:
        sweep, crop_note = run_streamline_on_crop(
            model,
            before_rgb,
            ref_rgb,
            box,
            device,
            precision,
            "self-test" if self_test else ("reference" if ref_rgb is not None else None),
        )
        report.streamline = sweep
        report.streamline_summary = sweep.summary() + [crop_note]
        report.files["streamline"] = plot_streamline(sweep, out_dir / "streamline.png")
    return report


TOO_SMALL = "too small to measure"


def _metric_rows(before_rgb, after_rgb, ref_rgb, report: DemoReport, measurable: bool) -> list[MetricRow]:
    from models import metrics

    def value(fn, *args):
        return float(fn(*args)) if measurable else None

    rows = [
        MetricRow(
            "Sharpness (Laplacian variance)",
            value(metrics.laplacian_sharpness, before_rgb),
            value(metrics.laplacian_sharpness, after_rgb),
            "no reference needed; higher = more edges",
            5,
        ),
        MetricRow(
            "High-frequency energy share",
            metrics.high_frequency_energy(before_rgb).share if measurable else None,
            metrics.high_frequency_energy(after_rgb).share if measurable else None,
            "share of spectrum energy above 0.25 × Nyquist",
            5,
        ),
    ]
    if ref_rgb is not None:
        ref_name = "the original (self-test)" if report.reference == "self-test" else report.reference
        rows += [
            MetricRow(
                "PSNR (dB)",
                float(min(metrics.psnr(before_rgb, ref_rgb), 100.0)),
                float(min(metrics.psnr(after_rgb, ref_rgb), 100.0)),
                f"vs {ref_name}; RGB, data range 1, no border crop",
                2,
            ),
            MetricRow(
                "SSIM",
                value(metrics.ssim, before_rgb, ref_rgb),
                value(metrics.ssim, after_rgb, ref_rgb),
                f"vs {ref_name}",
                4,
            ),
        ]
    return rows


def _detail_recovery(before_rgb, after_rgb, ref_rgb, before_label: str) -> DetailRecovery:
    from models import metrics

    if not all(metrics.measurable(x) for x in (before_rgb, after_rgb)) or (
        ref_rgb is not None and not metrics.measurable(ref_rgb)
    ):
        return DetailRecovery(None, None, None, None, None, f"Fine detail: the picture is {TOO_SMALL}.")
    e_in = metrics.high_frequency_energy(before_rgb).energy
    e_out = metrics.high_frequency_energy(after_rgb).energy
    if ref_rgb is None:
        return DetailRecovery(
            e_in,
            e_out,
            None,
            None,
            None,
            f"High-frequency energy went from {e_in:.3g} to {e_out:.3g} ({e_out / e_in - 1:+.0%}); "
            "without a sharp reference the share of lost detail recovered cannot be measured."
            if e_in > 0
            else "The input has no high-frequency energy to compare.",
        )
    check = metrics.lost_detail_recovered(before_rgb, after_rgb, ref_rgb)
    e_ref = metrics.high_frequency_energy(ref_rgb).energy
    if check is None:
        return DetailRecovery(
            e_in,
            e_out,
            e_ref,
            None,
            None,
            "The input lost no high-frequency energy against the reference, so there is no "
            "lost share to recover.",
        )
    who = before_label.split(" ")[0].lower()
    share = check.recovered_share
    if share > 0:
        text = (
            f"MSSNet brought back {share:.0%} of the fine detail (high-frequency energy) {who} lost; "
            "the rest it did not restore, and much of it was never in the small picture."
        )
    else:
        text = f"MSSNet did not bring back the fine detail {who} lost ({share:+.0%} of the lost high-frequency energy)."
    if check.overshoot > 0:
        text += (
            f" The output has {check.overshoot:.0%} more high-frequency energy than the reference: some of it "
            "is sharpening or artefacts, not the original's detail."
        )
    return DetailRecovery(
        check.input_energy, check.output_energy, check.original_energy, share, check.overshoot, text
    )


def _pil(rgb):
    import numpy as np
    from PIL import Image

    return Image.fromarray((np.clip(rgb[..., :3], 0, 1) * 255 + 0.5).astype(np.uint8))


def _restore(models, input_img, model, upscale, device, precision, tile, console):
    progress = None
    if console is not None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from common.progress import time_left_column

        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            time_left_column(_estimate(models, input_img.size, model, upscale, device, precision)),
            console=console,
            transient=True,
        )
    callback, _ = _progress_callback(progress)
    options = dict(
        model=model,
        upscale=upscale,
        device=device,
        precision=precision,
        tile=tile,
        progress=callback,
        keep_stages=True,
    )
    if progress is None:
        return models.restore(input_img, **options)
    with progress:
        return models.restore(input_img, **options)


def _estimate(models, size: tuple[int, int], model, upscale: int, device, precision) -> float | None:
    """Seconds the restore should take, timed on two small patches, for big outputs only (as
    `explainer restore` does): the bar then shows the time left before the first tile ends."""
    from models.formats import ESTIMATE_FROM_PIXELS

    w, h = size
    if w * h * upscale**2 < ESTIMATE_FROM_PIXELS:
        return None
    return models.estimate_seconds(model, size, upscale, 6, device, precision)


# Which claims a measurement illustrates: the demo artefacts compose already places beside claims
# ("crops", "spectrum", "stages"), and for streamlining the words of a depth-reduction claim.
_TOPIC_ARTEFACTS = {"detail": ("spectrum", "crops"), "stages": ("stages",)}
_STREAMLINE_CLAIM = re.compile(r"entropy|lineari[sz]|rectifier|depth|streamlin", re.I)


def measured_beside_claims(answer) -> list[dict]:
    """The demo's measurements, each with the claim it illustrates (index, text, sources) when the
    answer has one: shown in a separate "Measured on your picture" block, never inside a claim."""
    demo = getattr(answer, "demo", None)
    if demo is None or not hasattr(demo, "measurements"):
        return []
    out = []
    for m in demo.measurements():
        index = None
        if m["topic"] in _TOPIC_ARTEFACTS:
            for name in _TOPIC_ARTEFACTS[m["topic"]]:
                index = next(
                    (i for i in sorted(answer.illustrations) if name in answer.illustrations[i]), None
                )
                if index is not None:
                    break
        elif m["topic"] == "streamline":
            index = next((i for i, c in enumerate(answer.claims) if _STREAMLINE_CLAIM.search(c.text)), None)
        claim = answer.claims[index] if index is not None else None
        repeated = bool(out) and index is not None and out[-1]["claim"] == index  # name a claim once per run
        out.append(
            {
                **m,
                "claim": index,
                "claim_text": _short(claim.text) if claim and not repeated else None,
                "sources": list(claim.sources) if claim else [],
            }
        )
    return out


def _short(text: str, limit: int = 90) -> str:
    text = re.sub(r"^Relevance to the question:\s*", "", text)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
