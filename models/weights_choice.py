"""Which bundled weights restore a picture: one rule for `restore`, `ask`, `chat` and `report`.

In order, the first that applies decides:
1. `--weights` names them; `--task` names the task.
2. `--upscale N` with N > 1 is an enlargement, whatever the question says.
3. The picture itself: a clear directional blur (fine detail missing along one direction only, as
   camera motion leaves it) is deblurring; a small picture (under SMALL_PIXELS) is enlargement.
4. The question's task (super-resolution -> enlarge, image-deblurring -> deblur), a hint.
5. The bundled default.
The choice comes with one line saying why, printed with every demo and restore. numpy only: no torch.

Calibration of the directional test (skimage's sample photos; tests/models/test_weights_choice.py):
the evaluation's 13-px motion blur gives 0.36-0.60 on six of seven photos (a brick wall, already
directional, 0.76), ×2 and ×4 bicubic softening 0.76-0.97. One sharp photo with strong parallel
lines (coffee) reads 0.50: the rule can mistake such a picture for a shaken one, and says so in its line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMALL_PIXELS = 500_000  # under half a megapixel: small for a photo today, so likely to be enlarged
DIRECTIONAL_BELOW = 0.6  # fine/coarse gradient ratio, weakest direction over strongest (calibrated below)
_ANGLES = 16
_QUESTION_TASKS = {"super-resolution": "enlarge", "image-deblurring": "deblur"}


@dataclass(frozen=True)
class WeightsChoice:
    weights: str | None  # a bundled name or a path (None: nothing installed; load_model explains)
    task: str | None  # "enlarge" / "deblur" / None (the default)
    reason: str  # one line: why these weights
    note: str | None = None  # no bundled weights serve the task: which ones run instead

    def line(self) -> str:
        name = self.weights or "the bundled default"
        return f"weights: {name}, because {self.reason}" + (f" (note: {self.note})" if self.note else "")


def question_task(card_task: str | None) -> str | None:
    """'enlarge' / 'deblur' for a question about super-resolution / deblurring, else None."""
    return _QUESTION_TASKS.get(card_task or "")


def directional_blur(rgb: np.ndarray) -> float:
    """How one-directional the missing fine detail is: per direction, the energy of the 1-px gradient
    over that of the gradient after a σ≈3 blur; the weakest direction's ratio over the strongest's.
    Near 1: detail alike in every direction (sharp, or evenly soft); low: smeared along one line.
    Measured on the central 1024×1024 at most (a glance, not a pass over a big photo)."""
    image = np.asarray(rgb)
    h, w = image.shape[:2]
    top, left = max(0, (h - 1024) // 2), max(0, (w - 1024) // 2)
    crop = image[top : top + 1024, left : left + 1024, :3].astype(np.float32, copy=False)
    luma = crop @ np.array([0.299, 0.587, 0.114], np.float32)
    if min(luma.shape) < 16:
        return 1.0
    fine = _moments(*np.gradient(luma))
    coarse = _moments(*np.gradient(_soft(luma)))
    ratios = []
    for a in np.linspace(0, np.pi, _ANGLES, endpoint=False):
        c, s = np.cos(a), np.sin(a)
        energy_coarse = _along(coarse, c, s)
        ratios.append(_along(fine, c, s) / energy_coarse if energy_coarse > 0 else 1.0)
    return min(ratios) / max(ratios) if max(ratios) > 0 else 1.0


def _moments(gy: np.ndarray, gx: np.ndarray) -> tuple[float, float, float]:
    """mean(gx²), mean(gx·gy), mean(gy²): the energy along any direction follows from these three."""
    xx, xy, yy = (float(np.mean(p, dtype=np.float64)) for p in (gx * gx, gx * gy, gy * gy))
    return xx, xy, yy


def _along(moments: tuple[float, float, float], c: float, s: float) -> float:
    """mean((gx·cos + gy·sin)²), expanded: one pass over the picture serves every direction."""
    xx, xy, yy = moments
    return max(c * c * xx + 2 * c * s * xy + s * s * yy, 0.0)


def _soft(image: np.ndarray, radius: int = 2, passes: int = 3) -> np.ndarray:
    """A near-Gaussian blur (σ ≈ 2.8 px): three box blurs of 5 px, each a difference of cumulative sums."""
    width = 2 * radius + 1
    for axis in (0, 1):
        for _ in range(passes):
            pad = [(0, 0), (0, 0)]
            pad[axis] = (radius + 1, radius)
            sums = np.cumsum(np.pad(image, pad, mode="edge"), axis=axis)
            n = image.shape[axis]
            ahead = [slice(None), slice(None)]
            behind = [slice(None), slice(None)]
            ahead[axis], behind[axis] = slice(width, n + width), slice(0, n)
            image = (sums[tuple(ahead)] - sums[tuple(behind)]) / width
    return image


def evidence_task(rgb: np.ndarray | None) -> tuple[str | None, str]:
    """(task, why) from the picture alone, or (None, "") when the picture does not decide."""
    if rgb is None:
        return None, ""
    h, w = rgb.shape[:2]
    ratio = directional_blur(rgb)
    if ratio < DIRECTIONAL_BELOW:
        return "deblur", (
            f"the picture's fine detail is missing along one direction (weakest/strongest {ratio:.2f}, "
            f"under {DIRECTIONAL_BELOW}), as camera motion leaves it"
        )
    if w * h < SMALL_PIXELS:
        return (
            "enlarge",
            f"the picture is small ({w}x{h}, under {SMALL_PIXELS / 1e6:.1f} MP), likely to be enlarged",
        )
    return None, ""


def choose_weights(
    weights: str | None = None,
    task: str | None = None,
    upscale: int = 1,
    rgb: np.ndarray | None = None,
    card_task: str | None = None,
) -> WeightsChoice:
    """The rule of this module's docstring. `rgb`: the picture (H x W x 3 float), `card_task`: the
    question's task id from the cards."""
    if weights is not None:
        return WeightsChoice(weights, task, "--weights names them")
    if task is not None:
        reason = f"--task {task}"
    elif upscale > 1:
        task, reason = "enlarge", f"--upscale {upscale} is an enlargement"
    else:
        task, reason = evidence_task(rgb)
        if task is None and question_task(card_task):
            task = question_task(card_task)
            reason = f"the question is about {card_task.replace('-', ' ') if card_task else task}"
        elif task is None:
            reason = (
                "neither the options, the picture nor the question point to one task (the bundled default)"
            )
    if task is None:
        return WeightsChoice(None, None, reason)
    from models.checkpoints import weights_for_task  # torch: only when weights are really chosen

    name, note = weights_for_task(task)
    return WeightsChoice(name, task, reason, note)
