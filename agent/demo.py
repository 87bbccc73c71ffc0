"""The live demo: run MSSNet on the person's picture and keep what it shows.

Artefacts (PNG files): the input, the restored image, before/after crops of the most detailed
region, the six stage outputs (full images and a strip of the crop region), and a spectrum plot
of high-frequency energy. Numbers: no-reference sharpness and high-frequency energy before and
after, PSNR/SSIM against a sharp reference (given, or the original in a synthetic self-test),
and the time of each stage. `models` is imported only when a demo runs.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import AgentError
from common.textsafe import clean_line

CROP_SIZE = 96          # pixels of the most-detailed region shown before/after
CROP_ZOOM = 3           # nearest-neighbour enlargement of crop files so pixels stay visible


if TYPE_CHECKING:  # the engine imports torch: only for type checkers here
    from models.engine import RestoreStats

@dataclass
class MetricRow:
    name: str
    before: float | None
    after: float | None
    note: str = ""
    digits: int = 4

    def __post_init__(self):   # metrics give NaN for pictures too small to measure: no NaN shown or stored
        self.before, self.after = (None if v is not None and math.isnan(v) else v for v in (self.before, self.after))
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


@dataclass
class DemoReport:
    image_name: str
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    metrics: list[MetricRow] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    stats: RestoreStats | None = None                    # how the restore ran (weights included)
    crop_box: tuple[int, int, int, int] | None = None   # left, top, right, bottom in the output
    reference: str | None = None                        # "self-test", a file name, or None
    note: str = ""


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
            signal.raise_signal(signal.SIGINT)   # through the restored handler: KeyboardInterrupt


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
    if ref_size != result:
        times = f" x{upscale}" if upscale != 1 else ""
        raise AgentError(f"the reference {clean_line(Path(reference).name)} is {ref_size[0]}x{ref_size[1]} but the "
                         f"result will be {result[0]}x{result[1]} (the picture{times}): PSNR/SSIM need the same size")


def run_demo_in_new_dir(image: Path, base: Path, **options) -> DemoReport:
    """run_demo into a fresh base/demo-<name>[-n] folder, removed again if the demo fails or is stopped."""
    from common.files import check_writable
    check_demo_inputs(image, options.get("reference"), options.get("upscale", 1))
    check_writable(base, folder=True)
    with fresh_dir(base, f"demo-{safe_stem(image)}") as out:
        return run_demo(image, out, **options)


def degrade_for_self_test(rgb, factor: int = 2):
    """Shrink ×factor and enlarge back, both with bicubic: the soft 'enlarged small photo'.

    The same degradation as the weights' evaluation (models.training.degrade.eval_degradation "x2"), so the
    demo's numbers measure what the evaluation measured.
    """
    import numpy as np
    from PIL import Image

    h, w = rgb.shape[:2]
    img = Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8))
    small = img.resize((max(1, w // factor), max(1, h // factor)), Image.Resampling.BICUBIC)
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0


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
    sums = (integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size]
            + integral[:-size, :-size])
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

    labels = ["1: scale 1/4", "2: scale 1/2", "3: scale 1/2", "4: full", "5: full", "6: full (result)"]
    fig, axes = plt.subplots(1, len(stage_images) + 1, figsize=(2.2 * (len(stage_images) + 1), 2.6), dpi=100)
    axes[0].imshow(before.crop(box), interpolation="nearest")
    axes[0].set_title("input\n", fontsize=8)
    axes[0].axis("off")
    full_size = stage_images[-1].size
    for i, (ax, img) in enumerate(zip(axes[1:], stage_images)):
        if img.size != full_size:   # stage 1 is at half resolution
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
    ax.axvspan(radius_fraction * 0.5, max(top, 0.5), color="orange", alpha=0.12,
               label=f"high-frequency band (> {radius_fraction:g} × Nyquist)")
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


def run_demo(image, out_dir: Path, weights=None, upscale: int = 1, reference=None, self_test: bool = False,
             device: str = "auto", precision: str = "auto", tile: int | None = None,
             console=None, image_name: str | None = None, task: str | None = None) -> DemoReport:
    """Restore `image` (a path, or an RGB float array in [0,1]) and write the artefacts into `out_dir`.

    `reference`: a sharp image path to score PSNR/SSIM against; `self_test`: degrade the picture
    (×2 down, bicubic up) first and score against the original. A KeyboardInterrupt stops it.
    """
    import numpy as np
    from PIL import Image

    from common.files import check_writable
    check_demo_inputs(image, reference, upscale)
    check_writable(out_dir, folder=True)
    models = load_engine()
    from models import metrics
    from models.imageio import load_image

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(image, (str, Path)):
        path = Path(image)
        rgb = load_image(path).rgb
        name = image_name or path.name
    else:
        rgb = np.asarray(image, dtype=np.float32)
        name = image_name or "picture"
    report = DemoReport(image_name=clean_line(name), out_dir=out_dir)

    ref_rgb = None
    if self_test:
        ref_rgb, rgb = rgb, degrade_for_self_test(rgb)
        report.reference = "self-test"
        report.note = ("Synthetic self-test: the picture was shrunk ×2 and enlarged back with bicubic "
                       "resizing, then restored; PSNR/SSIM compare with the original.")
    elif reference is not None:
        ref_rgb = load_image(Path(reference)).rgb
        report.reference = clean_line(Path(reference).name)
    if ref_rgb is not None and upscale != 1:
        raise AgentError("a reference (or self-test) needs --upscale 1: the sizes must match")

    weights_note = None
    if weights is None and task:
        from models.checkpoints import weights_for_task
        weights, weights_note = weights_for_task(task)
    if weights_note:
        report.note = " ".join(filter(None, [report.note, f"Note: {weights_note}."]))
    model = models.load_model(weights)
    input_img = Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8))
    report.files["input"] = _save_png(input_img, out_dir / "input.png")

    progress = None
    if console is not None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                            TimeElapsedColumn(), console=console, transient=True)
    callback, _ = _progress_callback(progress)
    if progress is not None:
        with progress:
            result = models.restore(input_img, model=model, upscale=upscale, device=device, precision=precision,
                                    tile=tile, progress=callback, keep_stages=True)
    else:
        result = models.restore(input_img, model=model, upscale=upscale, device=device, precision=precision,
                                tile=tile, progress=None, keep_stages=True)

    restored = result.image.convert("RGB")
    before = input_img if restored.size == input_img.size else input_img.resize(restored.size, Image.Resampling.BICUBIC)
    report.files["restored"] = _save_png(restored, out_dir / "restored.png")
    if before is not input_img:
        report.files["enlarged_bicubic"] = _save_png(before, out_dir / "enlarged_bicubic.png")
    report.timings = dict(result.timings)
    report.stats = result.stats

    before_rgb, after_rgb = _to_array(before), _to_array(restored)
    box = most_detailed_box(ref_rgb if ref_rgb is not None else before_rgb)
    report.crop_box = box
    report.files["before_crop"] = _save_png(_crop_zoomed(before, box), out_dir / "crop_before.png")
    report.files["after_crop"] = _save_png(_crop_zoomed(restored, box), out_dir / "crop_after.png")
    if ref_rgb is not None:
        ref_img = Image.fromarray((np.clip(ref_rgb, 0, 1) * 255 + 0.5).astype(np.uint8))
        report.files["reference_crop"] = _save_png(_crop_zoomed(ref_img, box), out_dir / "crop_reference.png")

    if result.stage_images:
        for i, stage in enumerate(result.stage_images, 1):
            report.files[f"stage_{i}"] = _save_png(stage.convert("RGB"), out_dir / f"stage_{i}.png")
        report.files["stages"] = _stage_strip(before, [s.convert("RGB") for s in result.stage_images], box,
                                              out_dir / "stages.png", report.timings)

    curves = {"before": before_rgb, "after (MSSNet)": after_rgb}
    if ref_rgb is not None:
        curves["sharp reference"] = ref_rgb
    report.files["spectrum"] = _spectrum_plot(curves, out_dir / "spectrum.png")

    report.metrics = [
        MetricRow("Sharpness (Laplacian variance)", float(metrics.laplacian_sharpness(before_rgb)),
                  float(metrics.laplacian_sharpness(after_rgb)), "no reference needed; higher = more edges", 5),
        MetricRow("High-frequency energy share", metrics.high_frequency_energy(before_rgb).share,
                  metrics.high_frequency_energy(after_rgb).share, "share of spectrum energy above 0.25 × Nyquist", 5),
    ]
    if ref_rgb is not None:
        ref_name = "the original (self-test)" if self_test else report.reference
        report.metrics += [
            MetricRow("PSNR (dB)", float(metrics.psnr(before_rgb, ref_rgb)), float(metrics.psnr(after_rgb, ref_rgb)),
                      f"vs {ref_name}; RGB, data range 1, no border crop", 2),
            MetricRow("SSIM", float(metrics.ssim(before_rgb, ref_rgb)), float(metrics.ssim(after_rgb, ref_rgb)),
                      f"vs {ref_name}", 4),
        ]
    return report
