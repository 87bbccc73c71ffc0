"""Run MSSNet on the person's picture and measure it: `run_demo` fills a `DemoResult`.

The picture stays floats from `LoadedImage` to `RestoreResult` (16-bit depth and the ICC profile
reach input.png and restored.png); `models` is imported only when a demo runs. `upscale`: enlarge
×N with bicubic first (the enlargement workflow). `reference`: the sharp original at the output
size; `self_test`: degrade the picture the way the weights were evaluated, restore, and score
against the original. Which weights run follows models.weights_choice, said in one line.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.demo import figures, measure
from agent.demo.folders import fresh_dir, safe_stem
from agent.demo.result import DemoResult
from agent.errors import AgentError
from common.textsafe import clean_line
from models.formats import FAST_PNG

STREAMLINE_CROP = 128  # the EASIER sweep runs ~10 forwards: on this crop it adds about a second


def load_engine() -> Any:
    """Import the restoration engine (torch included); returns the models package."""
    import models

    try:
        models.restore  # noqa: B018 - the lazy export imports models.engine and torch
    except (ImportError, AttributeError) as exc:
        raise AgentError(f"the restoration engine is not available ({exc})") from None
    return models


def check_demo_inputs(image, reference=None, upscale: int = 1) -> tuple[int, int]:
    """Before any work: the picture (and the reference) can be read as images, and the reference has
    the size of the result (the picture's size times --upscale). Returns the picture's (width,
    height) as shown (its EXIF orientation applied)."""
    import numpy as np

    from models.imageio import oriented_size, probe_image

    if isinstance(image, (str, os.PathLike)):
        size = oriented_size(image)
    else:
        h, w = np.shape(image)[:2]
        size = (w, h)
    if reference is None:
        return size
    ref_size = probe_image(reference)
    result = (size[0] * upscale, size[1] * upscale)
    # up to upscale-1 pixels more is the shrink's rounding (451 px shrunk x2 is 225): cropped, see fit_reference
    if not all(0 <= r - o < upscale for r, o in zip(ref_size, result)):
        times = f" x{upscale}" if upscale != 1 else ""
        raise AgentError(
            f"the reference {clean_line(Path(reference).name)} is {ref_size[0]}x{ref_size[1]} but the "
            f"result will be {result[0]}x{result[1]} (the picture{times}): the reference must be the "
            "sharp original at the output size"
        )
    return size


def run_demo_in_new_dir(image: Path, base: Path, **options) -> DemoResult:
    """run_demo into a fresh base/demo-<name>[-n] folder, removed again if the demo fails or is stopped."""
    from common.files import check_writable

    check_demo_inputs(image, options.get("reference"), options.get("upscale", 1))
    check_writable(base, folder=True)
    with fresh_dir(base, f"demo-{safe_stem(image)}") as out:
        return run_demo(image, out, **options)


def degrade_for_self_test(rgb, factor: int = 2, task: str | None = None):
    """The self-test's soft picture: for enlargement (the default) shrink ×factor and enlarge back,
    both with bicubic; for deblurring a 13-px straight camera motion plus sensor noise σ 0.005 —
    models.training.degrade's evaluation degradations themselves, so the demo's numbers measure
    what the weights' evaluation measured."""
    from models.training.degrade import eval_degradation_rgb

    return eval_degradation_rgb(rgb, "motion" if task == "deblur" else f"x{int(factor)}")


def fit_reference(ref_rgb, rgb, upscale: int, ref_name: str):
    """The reference at the output size. A reference up to upscale-1 pixels larger (a 451-px original
    shrunk ×2 to 225 px comes back as 450) is cropped at the right/bottom; anything else is refused."""
    h, w = rgb.shape[:2]
    rh, rw = ref_rgb.shape[:2]
    if 0 <= rh - h * upscale < upscale and 0 <= rw - w * upscale < upscale:
        return ref_rgb[: h * upscale, : w * upscale], (rh, rw) != (h * upscale, w * upscale)
    raise AgentError(
        f"the reference {ref_name} is {rw}×{rh} but the ×{upscale} output of the {w}×{h} picture "
        f"will be {w * upscale}×{h * upscale}: the reference must be the sharp original at the output size"
    )


def _source(image, image_name: str | None):
    """(LoadedImage, name) for a path or an RGB float array."""
    import numpy as np

    from models.imageio import LoadedImage, load_image

    if isinstance(image, (str, os.PathLike)):
        return load_image(image), image_name or Path(image).name
    return LoadedImage(
        np.ascontiguousarray(np.asarray(image, dtype=np.float32)[..., :3])
    ), image_name or "picture"


def run_demo(
    image,
    out_dir: Path,
    weights: str | None = None,
    upscale: int = 1,
    reference=None,
    self_test: bool = False,
    device: str = "auto",
    precision: str = "auto",
    tile: int | None = None,
    console=None,
    image_name: str | None = None,
    task: str | None = None,
    card_task: str | None = None,
    streamline: bool = False,
    png_level: int = FAST_PNG,
) -> DemoResult:
    """Restore `image` (a path, or an RGB float array in [0,1]) and write the artefacts into `out_dir`.

    `task`: --task (enlarge/deblur); `card_task`: the question's task id, a hint for the weights and,
    for image-deblurring, a self-test by camera motion instead of a shrink. Ctrl-C stops it."""
    from common.files import check_writable
    from models.imageio import load_image
    from models.weights_choice import choose_weights, question_task

    if self_test and reference is not None:
        raise AgentError("use --reference or --self-test, not both")
    check_demo_inputs(image, reference, upscale)  # before any work: readable, the reference's size
    check_writable(out_dir, folder=True)
    source, name = _source(image, image_name)
    rgb = source.rgb
    demo = DemoResult(image_name=clean_line(name), out_dir=Path(out_dir))

    ref_rgb, run_upscale = None, upscale
    deblur_test = self_test and upscale == 1 and (task or question_task(card_task)) == "deblur"
    if deblur_test:
        ref_rgb, rgb = rgb, degrade_for_self_test(rgb, task="deblur")
        demo.reference, demo.factor = "self-test", 1
        demo.note = (
            "Synthetic self-test: the picture was blurred by a 13-pixel straight camera motion and "
            "given sensor noise (σ 0.005; the deblurring weights' evaluation degradation), then "
            "restored; the scores compare with the original."
        )
    elif self_test:
        factor = upscale if upscale > 1 else 2
        ref_rgb, rgb, run_upscale = rgb, degrade_for_self_test(rgb, factor), 1
        demo.reference, demo.factor = "self-test", factor
        demo.note = (
            f"Synthetic self-test: the picture was shrunk ×{factor} and enlarged back with bicubic "
            "resizing (the weights' evaluation degradation), then restored; the scores compare "
            "with the original."
        )
        if factor == 2:
            demo.offer = (
                "At ×2 the change is small; the ×4 self-test (--self-test --upscale 4) loses more "
                "detail, so more of what MSSNet brings back shows."
            )
    elif reference is not None:
        demo.reference = clean_line(Path(reference).name)
        ref_rgb, cropped = fit_reference(load_image(reference).rgb, rgb, upscale, demo.reference)
        demo.factor = upscale
        if cropped:
            demo.note = (
                f"The reference was cropped at the right/bottom by under {upscale} pixels to the ×{upscale} "
                "output size (the small picture's size was rounded down)."
            )
    else:
        demo.factor = upscale
    if self_test:  # the degraded picture is what runs: an 8-bit array, no alpha
        source = replace(source, rgb=rgb, alpha=None, bit_depth=8)
    enlarging = demo.factor > 1
    demo.before_label = f"Bicubic ×{demo.factor}" if enlarging else ("Blurred" if deblur_test else "Before")
    demo.after_label = "MSSNet" if enlarging else "After"

    choice = choose_weights(weights, task, max(upscale, demo.factor), rgb, card_task)
    demo.weights_reason = choice.reason
    if choice.note:
        demo.note = " ".join(filter(None, [demo.note, f"Note: {choice.note}."]))
    models = load_engine()
    from models.engine import upscale_bicubic

    loaded = models.load_model(choice.weights)
    out = demo.out_dir
    out.mkdir(exist_ok=True)
    save = _saver(source, png_level)
    demo.files["input"] = save(source.rgb, out / "input.png")

    result = _restore(models, source, loaded, run_upscale, device, precision, tile, console)
    after = result.rgb
    # the bicubic baseline is exactly what MSSNet was given (the engine's enlargement)
    before = rgb if run_upscale == 1 else upscale_bicubic(rgb[..., :3], run_upscale)
    demo.files["restored"] = save(after, out / "restored.png", result.alpha)
    if run_upscale > 1:
        demo.files["enlarged_bicubic"] = save(before, out / "enlarged_bicubic.png")
    demo.timings = dict(result.timings)
    demo.stats = result.stats
    demo.weights = loaded.info

    box = measure.most_detailed_box(ref_rgb if ref_rgb is not None else before)
    demo.crop_box = box
    _write_crops(demo, before, after, ref_rgb, box, png_level)
    _measure(demo, loaded.model, result.stages, before, after, ref_rgb, box, device, precision, png_level)
    if streamline and demo.detail is not None and demo.detail.input_energy is not None:
        from models.streamline import plot_streamline

        sweep, crop_note = run_streamline_on_crop(
            loaded, before, ref_rgb, box, device, precision,
            "self-test" if self_test else ("reference" if ref_rgb is not None else None),
        )  # fmt: skip
        demo.streamline = sweep
        demo.streamline_summary = sweep.summary() + [crop_note]
        demo.files["streamline"] = plot_streamline(sweep, out / "streamline.png")
    return demo


def _saver(source, png_level: int):
    """Save floats like the source (16-bit, ICC, grey); the figures' helpers for 8-bit pictures."""
    from models.imagesave import save_image

    def save(rgb, path: Path, alpha=None) -> Path:
        like = replace(source, alpha=alpha) if alpha is not None or source.alpha is not None else source
        return save_image(like, rgb, path, png_level=png_level)

    return save


def _write_crops(demo: DemoResult, before, after, ref_rgb, box, png_level: int) -> None:
    """Before/after crops, the ×3 zoom strip (before | MSSNet | reference) and the difference map."""
    out = demo.out_dir
    panels = {demo.before_label: figures.crop(before, box), "MSSNet": figures.crop(after, box)}
    demo.files["before_crop"] = figures.save_png(
        figures.zoomed(panels[demo.before_label]), out / "crop_before.png", png_level
    )
    demo.files["after_crop"] = figures.save_png(
        figures.zoomed(panels["MSSNet"]), out / "crop_after.png", png_level
    )
    if ref_rgb is not None:
        panels["Sharp reference"] = figures.crop(ref_rgb, box)
        demo.files["reference_crop"] = figures.save_png(
            figures.zoomed(panels["Sharp reference"]), out / "crop_reference.png", png_level
        )
    gain = figures.difference_gain(after, before)
    demo.difference_gain = gain
    panels[f"difference ×{gain:.0f}"] = figures.difference_map(
        panels["MSSNet"], panels[demo.before_label], gain
    )
    demo.files["zoom_strip"] = figures.zoom_strip(panels, out / "zoom_strip.png", png_level)
    demo.files["difference"] = figures.save_png(
        figures.difference_map(after, before, gain), out / "difference.png", png_level
    )


def _measure(
    demo: DemoResult, model, stages, before, after, ref_rgb, box, device, precision, png_level
) -> None:
    from models import metrics

    out = demo.out_dir
    if stages:
        demo.stage_timing = measure.time_stages(model, before, box, device, precision)
        for i, stage in enumerate(stages, 1):
            demo.files[f"stage_{i}"] = figures.save_png(stage, out / f"stage_{i}.png", png_level)
        demo.files["stages"] = figures.stage_strip(
            before, stages, box, out / "stages.png", demo.stage_timing.median
        )
        demo.early_exit = measure.early_exit_rows(stages, demo.stage_timing, ref_rgb)
        demo.early_exit_summary = measure.early_exit_summary(demo.early_exit)
        demo.files["early_exit"] = figures.early_exit_plot(demo.early_exit, out / "early_exit.png")
    measurable = all(metrics.measurable(x) for x in (before, after))
    if measurable:
        curves = {demo.before_label.lower(): before, "after (MSSNet)": after}
        if ref_rgb is not None:
            curves["sharp reference"] = ref_rgb
        demo.files["spectrum"] = figures.spectrum_plot(curves, out / "spectrum.png")
    demo.metrics = measure.metric_rows(before, after, ref_rgb, demo.reference, measurable)
    demo.detail = measure.detail_recovery(before, after, ref_rgb, demo.before_label)


def _restore(models, source, model, upscale, device, precision, tile, console):
    progress = None
    if console is not None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from common.progress import time_left_column

        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            time_left_column(_estimate(models, source.size, model, upscale, device, precision)),
            console=console,
            transient=True,
        )
    callback = _progress_callback(progress)
    options = dict(
        model=model, upscale=upscale, device=device, precision=precision, tile=tile, progress=callback,
        keep_stages=True,
    )  # fmt: skip
    if progress is None:
        return models.restore(source, **options)
    with progress:
        return models.restore(source, **options)


def _estimate(models, size: tuple[int, int], model, upscale: int, device, precision) -> float | None:
    """Seconds the restore should take, timed on two small patches, for big outputs only (as
    `explainer restore` does): the bar then shows the time left before the first tile ends."""
    from models.formats import ESTIMATE_FROM_PIXELS

    w, h = size
    if w * h * upscale**2 < ESTIMATE_FROM_PIXELS:
        return None
    return models.estimate_seconds(model, size, upscale, 6, device, precision)


def _progress_callback(progress):
    """Adapt a rich Progress (or None) to models.restore's progress(done, total)."""
    if progress is None:
        return None
    task = progress.add_task("MSSNet restoring", total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update


def run_streamline_on_crop(
    model, before_rgb, ref_rgb, box, device, precision, reference_kind, size=STREAMLINE_CROP
):
    """The EASIER sweep on a size×size crop around the most detailed region (fast enough for the demo)."""
    from models.streamline import streamline

    h, w = before_rgb.shape[:2]
    left, top, right, bottom = measure.box_around(box, size, w, h)
    crop = (slice(top, bottom), slice(left, right))
    result = streamline(
        model,
        [before_rgb[crop]],
        [ref_rgb[crop] if ref_rgb is not None else None],
        device=device,
        precision=precision,
        reference_kind=reference_kind,
        crop=max(right - left, bottom - top),
    )
    note = (
        f"These EASIER numbers come from a {right - left}×{bottom - top} crop of the most detailed region, not "
        "the whole picture, to keep the demo fast; explainer streamline runs it on whole pictures or folders."
    )
    return result, note
