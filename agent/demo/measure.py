"""The demo's numbers: metrics before/after, the lost detail recovered, stage times and early exit.

Stage times are measured apart from the restore (which also pays the first call's warm-up): one
warm-up pass, then `STAGE_REPEATS` timed passes on a crop of the most detailed region; the median is
reported with its spread.
"""

from __future__ import annotations

import statistics

import numpy as np

from agent.demo.result import STAGE_NAMES, TOO_SMALL, DetailRecovery, MetricRow, StageExit, StageTiming

CROP_SIZE = 96  # pixels of the most-detailed region shown before/after
STAGE_CROP = 192  # side of the region the per-stage times are measured on
STAGE_REPEATS = 5


def most_detailed_box(rgb, size: int = CROP_SIZE) -> tuple[int, int, int, int]:
    """The size×size window with the most gradient energy (an integral image over |∇luma|)."""
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


def box_around(
    box: tuple[int, int, int, int], side: int, width: int, height: int
) -> tuple[int, int, int, int]:
    """A side×side box centred on `box`, moved inside a width×height picture (smaller if it is)."""
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    w, h = min(side, width), min(side, height)
    left, top = min(max(0, cx - w // 2), width - w), min(max(0, cy - h // 2), height - h)
    return left, top, left + w, top + h


def metric_rows(before_rgb, after_rgb, ref_rgb, reference: str | None, measurable: bool) -> list[MetricRow]:
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
        ref_name = "the original (self-test)" if reference == "self-test" else reference
        psnr = [float(metrics.psnr(x, ref_rgb)) for x in (before_rgb, after_rgb)]
        identical = [not np.isfinite(p) for p in psnr]  # inf: no placeholder number, said in words
        note = f"vs {ref_name}; RGB, data range 1, no border crop"
        if any(identical):
            note += "; — = identical to the reference"
        rows += [
            MetricRow("PSNR (dB)", psnr[0], psnr[1], note, 2),
            MetricRow(
                "SSIM",
                value(metrics.ssim, before_rgb, ref_rgb),
                value(metrics.ssim, after_rgb, ref_rgb),
                f"vs {ref_name}",
                4,
            ),
        ]
    return rows


def detail_recovery(before_rgb, after_rgb, ref_rgb, before_label: str) -> DetailRecovery:
    from models import metrics

    if not all(metrics.measurable(x) for x in (before_rgb, after_rgb)) or (
        ref_rgb is not None and not metrics.measurable(ref_rgb)
    ):
        return DetailRecovery(None, None, None, None, None, f"Fine detail: the picture is {TOO_SMALL}.")
    e_in = metrics.high_frequency_energy(before_rgb).energy
    e_out = metrics.high_frequency_energy(after_rgb).energy
    if ref_rgb is None:
        text = (
            f"High-frequency energy went from {e_in:.3g} to {e_out:.3g} ({e_out / e_in - 1:+.0%}); "
            "without a sharp reference the share of lost detail recovered cannot be measured."
            if e_in > 0
            else "The input has no high-frequency energy to compare."
        )
        return DetailRecovery(e_in, e_out, None, None, None, text)
    check = metrics.lost_detail_recovered(before_rgb, after_rgb, ref_rgb)
    e_ref = metrics.high_frequency_energy(ref_rgb).energy
    if check is None:
        return DetailRecovery(
            e_in,
            e_out,
            e_ref,
            None,
            None,
            "The input lost no high-frequency energy against the reference, so there is no lost share to recover.",
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


def time_stages(model, rgb, box, device: str, precision: str, repeats: int = STAGE_REPEATS) -> StageTiming:
    """Seconds per stage on a STAGE_CROP region around `box`: one warm-up pass (it builds the kernels
    for this size, which the restore's own first pass pays), then `repeats` timed passes."""
    import torch

    from models.engine import pad_to_multiple
    from models.mssnet import SIZE_MULTIPLE
    from models.precision import autocast, resolve_device, resolve_precision

    h, w = rgb.shape[:2]
    left, top, right, bottom = box_around(box, STAGE_CROP, w, h)
    crop = pad_to_multiple(np.ascontiguousarray(rgb[top:bottom, left:right, :3]), SIZE_MULTIPLE)
    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    x = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None].to(dev)
    x = x.contiguous(memory_format=torch.channels_last)
    runs: list[dict] = []
    with torch.inference_mode(), autocast(dev, prec):
        for n in range(repeats + 1):
            timings: dict = {}
            model.forward_stages(x, timings=timings)
            if n:  # the first pass is the warm-up
                runs.append(timings)
    keys = [f"stage_{k}" for k in range(1, 7)]
    return StageTiming(
        median={k: statistics.median(r[k] for r in runs) for k in keys},
        spread={k: max(r[k] for r in runs) - min(r[k] for r in runs) for k in keys},
        repeats=repeats,
        crop=(right - left, bottom - top),
    )


def early_exit_rows(stage_images, timing: StageTiming | None, ref_rgb) -> list[StageExit]:
    """From the six stage outputs of one run and the stage timing: what stopping after each costs."""
    from models import metrics

    median = timing.median if timing else {}
    spread = timing.spread if timing else {}
    total = sum(median.get(f"stage_{k}", 0.0) for k in range(1, 7)) or 1.0
    rows, elapsed, wobble = [], 0.0, 0.0
    for k, out in enumerate(stage_images, 1):
        elapsed += median.get(f"stage_{k}", 0.0)
        wobble += spread.get(f"stage_{k}", 0.0)
        psnr = None
        if ref_rgb is not None and metrics.measurable(ref_rgb) and out.shape == ref_rgb.shape:
            value = float(metrics.psnr(out, ref_rgb))
            psnr = value if np.isfinite(value) else None
        rows.append(StageExit(k, STAGE_NAMES[k - 1].split(":")[0], elapsed, wobble, elapsed / total, psnr))
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
    cost_text = (
        f"cost {cost:.2f} dB"
        if cost >= 0.005
        else (f"gain {-cost:.2f} dB" if cost <= -0.005 else "cost nothing measurable (under 0.01 dB)")
    )
    return f"On your picture, stopping after {k} of the 6 stages would save {saved:.0%} of the time and {cost_text}."
