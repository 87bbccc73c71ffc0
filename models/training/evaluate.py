"""Evaluate restoration on the PyPI photos (never used for training): `python -m models.training.evaluate`.

For each photo and each fixed degradation (×2 and ×4 bicubic shrink → bicubic enlarge; a 13-px
motion blur at 30° plus noise σ 0.005, the issue's spec) it prints PSNR/SSIM of the degraded input, of unsharp
masking (tuned on the training photos), and of MSSNet after 2, 4 and 6 stages in fp32, plus the
6-stage result under bf16 autocast; then the means and the fur check on the cat (chelsea).
Motion blur in random directions too (design.md's pitfall: one fixed 30° line flatters a model
trained near it): per photo, one straight blur in each 45° bucket at a seeded random angle, both
13 px and a random 5-25 px length, plus noise σ 0.005; means per angle bucket.
Photos are centre-cropped (not resized) to at most SIZE×SIZE px, rounded down to multiples of 16,
so it runs on a CPU in a few minutes. Outputs are clipped and rounded to 8 bits, as saved images
are. Metrics: RGB, data range 1, no border crop (models.metrics).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from common.cli import OneLineErrorParser
from models import metrics
from models.errors import ModelError
from models.mssnet import MSSNet, as_loaded
from models.precision import channels_last
from models.training.degrade import MOTION_LENGTHS, eval_degradation, motion_blur_noise, quantize_8bit
from models.training.unsharp import load_params, unsharp_mask
from models.weights_info import LoadedModel, WeightsInfo

KINDS = ("x2", "x4", "motion")
STAGES = (2, 4, 6)
DEFAULT_SIZE = 384
ANGLE_BUCKETS = ((0, 45), (45, 90), (90, 135), (135, 180))  # degrees; 0 = horizontal
RANDOM_LENGTHS = ("13", "5-25")  # the 13 px and the deblur training's range


def random_motion_draws(photo_index: int) -> list[dict]:
    """The seeded blurs of one photo: a random angle in each bucket, each at 13 px and at a random
    5-25 px length, with its noise seed."""
    rng = np.random.default_rng(1000 + photo_index)
    draws = []
    for b, (lo, hi) in enumerate(ANGLE_BUCKETS):
        angle = float(rng.uniform(lo, hi))
        random_length = float(rng.uniform(*MOTION_LENGTHS))
        for lengths, length in zip(RANDOM_LENGTHS, (13.0, random_length)):
            draws.append(
                {"bucket": b, "lengths": lengths, "angle": round(angle, 1), "length": round(length, 1)}
            )
    return draws


def _skimage(name):
    def load():
        from skimage import data

        img = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
        return np.stack([img] * 3, -1) if img.ndim == 2 else img  # camera is grey → RGB

    return load


def _grace_hopper():
    import matplotlib.cbook as cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        return np.asarray(im.convert("RGB"))


def _sklearn(file):
    def load():
        from sklearn.datasets import load_sample_image

        return load_sample_image(file)

    return load


PHOTOS = {
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "astronaut": _skimage("astronaut"),
    "rocket": _skimage("rocket"),
    "camera": _skimage("camera"),
    "motorcycle": _skimage("motorcycle"),
    "grace_hopper": _grace_hopper,
    "china": _sklearn("china.jpg"),
    "flower": _sklearn("flower.jpg"),
}


def available_photos() -> list[str]:
    """The evaluation photos whose package is installed (scikit-learn's two are optional)."""
    try:
        import sklearn  # noqa: F401

        return list(PHOTOS)
    except ImportError:
        return [n for n in PHOTOS if n not in ("china", "flower")]


def load_eval_photo(name: str, size: int = DEFAULT_SIZE) -> np.ndarray:
    """Centre crop (no resizing) of at most size×size, sides multiples of 16; float32 in [0,1]."""
    if name not in PHOTOS:
        raise ModelError(f"unknown evaluation photo {name!r}; choose from {', '.join(PHOTOS)}")
    img = PHOTOS[name]().astype(np.float32) / 255
    h, w = img.shape[:2]
    ch, cw = (min(size, h) // 16) * 16, (min(size, w) // 16) * 16
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(img[y0 : y0 + ch, x0 : x0 + cw, :3])


def _to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1)[None].contiguous()


def _to_numpy(x: torch.Tensor) -> np.ndarray:
    return quantize_8bit(x.float())[0].permute(1, 2, 0).numpy()


@torch.no_grad()
def run_stages(model, x: torch.Tensor, bf16: bool = False) -> dict[int, torch.Tensor]:
    """MSSNet outputs after 2, 4 and 6 stages (full resolution) from one forward pass."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        outs = model.forward_stages(x.to(memory_format=torch.channels_last))
    return {s: outs[s - 1].float() for s in STAGES}


@dataclass
class Report:
    rows: list[dict] = field(default_factory=list)  # one per (photo, kind)
    fur: dict | None = None
    weights: WeightsInfo | None = None
    size: int = DEFAULT_SIZE
    seconds: float = 0.0
    motion_rows: list[dict] = field(default_factory=list)  # random-direction blurs, one per draw

    def angle_means(self) -> dict[str, list[dict]]:
        """Per length setting ("13", "5-25"): per angle bucket and over all, the mean PSNR of the
        input, unsharp masking and MSSNet (6 stages) and the draws' count."""
        out: dict[str, list[dict]] = {}
        for lengths in RANDOM_LENGTHS:
            rows = [r for r in self.motion_rows if r["lengths"] == lengths]
            if not rows:
                continue
            keys = [k for k in rows[0] if k.endswith("_psnr")]
            table = []
            for b, (lo, hi) in [*enumerate(ANGLE_BUCKETS), (None, (0, 180))]:
                chosen = [r for r in rows if b is None or r["bucket"] == b]
                table.append(
                    {"angles": f"{lo}-{hi}°" if b is not None else "all", "n": len(chosen)}
                    | {k: float(np.mean([r[k] for r in chosen])) for k in keys}
                )
            out[lengths] = table
        return out

    def means(self) -> dict[str, dict[str, float]]:
        out = {}
        for kind in KINDS:
            rows = [r for r in self.rows if r["kind"] == kind]
            if rows:
                keys = [k for k in rows[0] if k not in ("photo", "kind")]
                out[kind] = {k: float(np.mean([r[k] for r in rows])) for k in keys}
        return out


def evaluate(
    model: LoadedModel | MSSNet | None = None,
    photos: list[str] | None = None,
    size: int = DEFAULT_SIZE,
    bf16: bool = True,
    unsharp: dict | None = None,
    progress=None,
    random_motion: bool = False,
) -> Report:
    """Score every photo × degradation; model None → only the input and unsharp masking; a bare
    MSSNet is described as untrained (see models.mssnet.as_loaded).
    `random_motion` adds the random-direction blurs (random_motion_draws) to report.motion_rows."""
    start = time.perf_counter()
    photos = photos or available_photos()
    unsharp = unsharp or load_params()
    weights = None
    if model is not None:
        model, weights = as_loaded(model)
        channels_last(model.eval())
    report = Report(size=size, weights=weights)
    for i, name in enumerate(photos):
        original = load_eval_photo(name, size)
        x_true = _to_tensor(original)
        for kind in KINDS:
            degraded = eval_degradation(x_true, kind, seed=i)
            p = unsharp[kind]
            results = {"input": degraded, "unsharp": unsharp_mask(degraded, p["sigma"], p["amount"])}
            if model is not None:
                for s, out in run_stages(model, degraded).items():
                    results[f"mssnet{s}"] = out
                if bf16:
                    results["mssnet6_bf16"] = run_stages(model, degraded, bf16=True)[6]
            row: dict[str, str | float] = {"photo": name, "kind": kind}
            for key, out in results.items():
                arr = _to_numpy(out)
                row[f"{key}_psnr"] = metrics.psnr(arr, original)
                row[f"{key}_ssim"] = metrics.ssim(arr, original)
            report.rows.append(row)
            if name == "chelsea" and kind == "x2":
                restored = _to_numpy(results["mssnet6"]) if model is not None else None
                report.fur = fur_report(_to_numpy(degraded), restored, original)
            if progress:
                progress(name, kind)
        if random_motion:
            report.motion_rows += _random_motion_rows(model, name, i, x_true, original, unsharp["motion"])
    report.seconds = time.perf_counter() - start
    return report


def _random_motion_rows(model, name: str, index: int, x_true, original, unsharp: dict) -> list[dict]:
    rows = []
    for d in random_motion_draws(index):
        g = torch.Generator().manual_seed(10_000 + 100 * index + 2 * d["bucket"] + (d["lengths"] != "13"))
        degraded = motion_blur_noise(
            x_true, torch.tensor([d["length"]]), torch.deg2rad(torch.tensor([d["angle"]])), g
        )
        results = {"input": degraded, "unsharp": unsharp_mask(degraded, unsharp["sigma"], unsharp["amount"])}
        if model is not None:
            results["mssnet6"] = run_stages(model, degraded)[6]
        rows.append(
            {"photo": name, **d}
            | {f"{k}_psnr": metrics.psnr(_to_numpy(v), original) for k, v in results.items()}
        )
    return rows


def fur_report(degraded: np.ndarray, restored: np.ndarray | None, original: np.ndarray) -> dict:
    """High-frequency energy (above 0.25 and 0.5 of Nyquist) of input / output / original."""
    out = {}
    for radius in (0.25, 0.5):
        if restored is None:
            e = metrics.high_frequency_energy
            out[str(radius)] = {
                "input_energy": e(degraded, radius).energy,
                "original_energy": e(original, radius).energy,
            }
        else:
            out[str(radius)] = metrics.fur_check(degraded, restored, original, radius)._asdict()
    return out


def format_table(report: Report) -> str:
    """Markdown tables: per photo, the means with gains, and the fur check."""
    has_model = any("mssnet6_psnr" in r for r in report.rows)
    methods = ["input", "unsharp"] + (
        [f"mssnet{s}" for s in STAGES]
        + (["mssnet6_bf16"] if report.rows and "mssnet6_bf16_psnr" in report.rows[0] else [])
        if has_model
        else []
    )
    label = {
        "input": "degraded input",
        "unsharp": "unsharp mask",
        "mssnet2": "MSSNet 2 st.",
        "mssnet4": "MSSNet 4 st.",
        "mssnet6": "MSSNet 6 st.",
        "mssnet6_bf16": "MSSNet 6 st. bf16",
    }
    lines = [f"PSNR (dB) / SSIM — centre crops ≤ {report.size} px, RGB, data range 1, no border crop", ""]
    lines.append("| photo | degradation | " + " | ".join(label[m] for m in methods) + " |")
    lines.append("|---|---|" + "---|" * len(methods))
    for r in report.rows:
        cells = [f"{r[m + '_psnr']:.2f} / {r[m + '_ssim']:.3f}" for m in methods]
        lines.append(f"| {r['photo']} | {r['kind']} | " + " | ".join(cells) + " |")
    means = report.means()
    for kind, m in means.items():
        cells = [f"**{m[k + '_psnr']:.2f} / {m[k + '_ssim']:.3f}**" for k in methods]
        lines.append(f"| **mean** | {kind} | " + " | ".join(cells) + " |")
    lines += ["", "Mean gain over the degraded input (dB):", ""]
    gains = [m for m in methods if m != "input"]
    lines.append(
        "| degradation | "
        + " | ".join(label[m] for m in gains)
        + (" | bf16 − fp32 |" if "mssnet6_bf16" in methods else " |")
    )
    lines.append("|---|" + "---|" * (len(gains) + ("mssnet6_bf16" in methods)))
    for kind, m in means.items():
        cells = [f"{m[g + '_psnr'] - m['input_psnr']:+.2f}" for g in gains]
        if "mssnet6_bf16" in methods:
            cells.append(f"{m['mssnet6_bf16_psnr'] - m['mssnet6_psnr']:+.3f}")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    if report.fur:
        lines += [
            "",
            "Fur check (chelsea, ×2 down→up; luminance spectrum energy above the radius, Hann window):",
            "",
        ]
        if has_model:
            lines.append(
                "| radius (× Nyquist) | input | MSSNet output | original | lost energy recovered | overshoot |"
            )
            lines.append("|---|---|---|---|---|---|")
            for radius, f in report.fur.items():
                lines.append(
                    f"| {radius} | {f['input_energy']:.3e} | {f['output_energy']:.3e} | "
                    f"{f['original_energy']:.3e} | {100 * f['recovered_share']:.1f}% | "
                    f"{100 * f['overshoot']:+.1f}% |"
                )
        else:
            lines.append("| radius (× Nyquist) | input | original |")
            lines.append("|---|---|---|")
            for radius, f in report.fur.items():
                lines.append(f"| {radius} | {f['input_energy']:.3e} | {f['original_energy']:.3e} |")
    angle_means = report.angle_means()
    if angle_means:
        has = "mssnet6_psnr" in report.motion_rows[0]
        lines += [
            "",
            "Motion blur in random directions + noise σ 0.005 (one seeded angle per 45° bucket and photo; "
            "PSNR of the blurred input, gain over it in dB):",
            "",
            "| length | angles | draws | input | unsharp mask |" + (" MSSNet 6 st. |" if has else ""),
            "|---|---|---|---|---|" + ("---|" if has else ""),
        ]
        for lengths, table in angle_means.items():
            for row in table:
                cells = [
                    f"{lengths} px",
                    row["angles"],
                    str(row["n"]),
                    f"{row['input_psnr']:.2f}",
                    f"{row['unsharp_psnr'] - row['input_psnr']:+.2f}",
                ] + ([f"{row['mssnet6_psnr'] - row['input_psnr']:+.2f}"] if has else [])
                if row["angles"] == "all":
                    cells = [f"**{c}**" for c in cells]
                lines.append("| " + " | ".join(cells) + " |")
    if report.weights:
        w = report.weights
        lines += ["", f"weights: {w.name} ({(w.sha256 or 'no file')[:12]}), config {w.config}"]
    lines.append(f"evaluation time: {report.seconds:.0f} s")
    return "\n".join(lines)


def main(argv=None, prog: str = "python -m models.training.evaluate") -> int:
    ap = OneLineErrorParser(prog=prog, description=__doc__.split("\n")[0])
    ap.add_argument(
        "--weights",
        help="bundled name or path (.safetensors, official .pt, or a "
        "training checkpoint RUN/checkpoint.pt); default: the bundled default",
    )
    ap.add_argument("--no-model", action="store_true", help="only the input and unsharp masking")
    ap.add_argument("--photos", nargs="+", choices=list(PHOTOS), help="subset of the photos")
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE, help="centre-crop size (px)")
    ap.add_argument("--no-bf16", action="store_true", help="skip the bf16 column")
    ap.add_argument("--no-random-motion", action="store_true", help="skip the random-direction motion blurs")
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    ap.add_argument("--force", action="store_true", help="overwrite --json's file")
    args = ap.parse_args(argv)
    if args.size < 64:
        raise ModelError("--size must be at least 64 px")
    if args.json and Path(args.json).exists() and not args.force:
        raise ModelError(f"{args.json} exists: pass --force to overwrite it")
    if args.json:
        from common.files import check_writable

        check_writable(args.json)  # before the evaluation, not after it
    if args.threads:
        torch.set_num_threads(args.threads)
    model = None
    if not args.no_model:
        from models.checkpoints import load_model

        model = load_model(args.weights)
    report = evaluate(
        model, args.photos, args.size, bf16=not args.no_bf16, random_motion=not args.no_random_motion
    )
    print(format_table(report))
    if args.json:
        from common.files import atomic_write_text

        summary = {
            "rows": report.rows,
            "means": report.means(),
            "fur": report.fur,
            "motion_rows": report.motion_rows,
            "motion_angle_means": report.angle_means(),
            "size": report.size,
            "weights": report.weights.as_dict() if report.weights else None,
        }
        atomic_write_text(args.json, json.dumps(summary, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    from models.errors import run_module_cli

    run_module_cli(main, "evaluate")
