"""EASIER on MSSNet: which of the shared PReLU's 87 call sites behave linearly, and what removing them costs.

EASIER (Quétu et al.) scores each rectifier layer by the entropy of its on/off state: on =
pre-activation >= 0; per channel, the on-probability averaged over space, its binary entropy;
the layer's score is the mean over channels. A low score means the rectifier is almost always on
(it acts as the identity) or almost always off. EASIER linearises the lowest-entropy layer first.

MSSNet has ONE PReLU module used at 87 places, one per ResBlock (conv -> PReLU -> conv, plus the
skip): a "site" here is one ResBlock's use of it. Linearising a site replaces the PReLU with the
identity in that block only. Without fine-tuning (EASIER retrains after each removal), this
measures what the trained network loses; timing shows what it saves, which is little: a PReLU is
one cheap element-wise op. The depth saving would come from merging the block's two 3×3 convs
into one 5×5 conv, which costs 25 C² multiply-adds per pixel instead of 18 C²: shallower, not
cheaper, on this network.
"""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from models import metrics
from models.mssnet import SIZE_MULTIPLE, MSSNet, ResBlock, SharedPReLU, as_loaded
from models.precision import autocast, resolve_device, resolve_precision
from models.weights_info import LoadedModel

SWEEP_KS = (0, 1, 2, 4, 8, 16, 32, 64)  # plus "all sites", EASIER's removal counts on a log scale


def binary_entropy(p_on, p_off=None) -> np.ndarray:
    """H(p) = -p log2 p - (1-p) log2 (1-p) in bits, with 0·log 0 = 0, element-wise in float64.

    `p_off` may be given when it is known exactly (from counts): 1 - p is rounded, and in fp32
    1 - 1e-12 is exactly 1."""
    p = np.asarray(p_on, dtype=np.float64)
    q = 1.0 - p if p_off is None else np.asarray(p_off, dtype=np.float64)

    def term(x):
        safe = np.where(x > 0, x, 1.0)
        return np.where(x > 0, -x * np.log2(safe), 0.0)

    return term(p) + term(q)


def prelu_sites(model: MSSNet) -> list[tuple[str, ResBlock]]:
    """Every ResBlock, in registration order: each holds one call site of the shared PReLU."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, ResBlock)]


@dataclass
class SiteEntropy:
    name: str  # the ResBlock's module path, e.g. "E3_1.encoder_level1.0"
    channels: int
    mean_entropy: float  # EASIER's layer score (bits; 0 = always on or always off, 1 = a coin toss)
    on_share: float  # mean on-probability over channels
    always_on: int  # channels on at >= 99% of pixels (the PReLU is ~ identity there)
    always_off: int  # channels off at >= 99% of pixels (~ a fixed slope times x)


class EntropyRecorder:
    """Hooks the convolution in front of each PReLU site and accumulates, per forward pass, the
    per-channel on-probability and its entropy (averaged over passes, as EASIER averages over
    mini-batches). The hook reads the conv output before the in-place PReLU changes it."""

    def __init__(self, model: MSSNet):
        self.sites = prelu_sites(model)
        self.sums: dict[str, list[np.ndarray]] = {}
        self.passes = 0
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self):
        for name, block in self.sites:
            self._handles.append(block.body[0].register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def _hook(self, name: str):
        def record(_module, _inputs, out):
            on = (out >= 0).sum(dim=(0, 2, 3), dtype=torch.int64).cpu().numpy()
            total = out.shape[0] * out.shape[2] * out.shape[3]
            p_on, p_off = on / total, (total - on) / total  # exact from the counts
            acc = self.sums.setdefault(name, [np.zeros(len(on)), np.zeros(len(on))])
            acc[0] += p_on
            acc[1] += binary_entropy(p_on, p_off)

        return record

    def results(self, passes: int) -> list[SiteEntropy]:
        out = []
        for name, _block in self.sites:
            if name not in self.sums:
                continue
            p_sum, h_sum = self.sums[name]
            p, h = p_sum / passes, h_sum / passes
            out.append(
                SiteEntropy(
                    name,
                    len(p),
                    float(h.mean()),
                    float(p.mean()),
                    int((p >= 0.99).sum()),
                    int((p <= 0.01).sum()),
                )
            )
        return out


@contextlib.contextmanager
def linearised(model: MSSNet, site_names):
    """PReLU -> identity at the named sites only (the other sites keep the shared PReLU); undone after."""
    blocks = dict(prelu_sites(model))
    saved = []
    try:
        for name in site_names:
            body = blocks[name].body
            saved.append((body, body[1]))
            body[1] = nn.Identity()
        yield model
    finally:
        for body, act in reversed(saved):
            body[1] = act


def merge_cost(channels: int) -> tuple[int, int]:
    """Multiply-adds per pixel of a linearised ResBlock: two 3×3 convs C->C, and the single 5×5 conv
    they merge into (the skip folds into its centre tap)."""
    return 2 * 9 * channels * channels, 25 * channels * channels


def merged_kernel(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """The 5×5 kernel of conv(second) after conv(first), both 3×3 without bias: equal to the pair
    away from the border (at the border the pair zero-pads the intermediate, one conv does not)."""
    # the composition of two cross-correlations is a cross-correlation with their full convolution
    w = torch.nn.functional.conv2d(first.permute(1, 0, 2, 3), second.flip(-1, -2), padding=2)
    return w.permute(1, 0, 2, 3)


@dataclass
class SweepRow:
    k: int  # sites linearised (the k lowest-entropy ones)
    psnr: float | None  # vs the sharp reference, when there is one (dB, mean over pictures)
    psnr_vs_full: float | None  # vs the unmodified network's output; None = identical to it (k = 0)
    seconds: float  # forward time, summed over pictures (median of the repeats)
    spread: float = 0.0  # max − min of that time over the repeats


@dataclass
class StreamlineResult:
    sites: list[SiteEntropy]  # ranked, lowest entropy first
    sweep: list[SweepRow]
    pictures: int
    crop: int | None  # side of the crop the numbers come from (None = whole pictures)
    device: str
    precision: str
    weights: dict = field(default_factory=dict)
    reference: str | None = None  # "self-test", "reference" or None
    repeats: int = 1  # timed runs per k (the median is kept, with the spread)

    @property
    def total_sites(self) -> int:
        return len(self.sites)

    def cost_at(self, k: int) -> SweepRow | None:
        return next((r for r in self.sweep if r.k == k), None)

    def summary(self) -> list[str]:
        """The honest reading of the sweep: which sites are nearly linear, what removing them costs
        without fine-tuning, what it saves, and why merging the convs would not be cheaper."""
        if not self.sites:
            return []
        low, high = self.sites[:3], self.sites[-1]
        lines = [
            "Lowest-entropy PReLU sites (nearly linear): "
            + "; ".join(
                f"{s.name} {s.mean_entropy:.3f} bits ({s.always_on}/{s.channels} channels always on, "
                f"{s.always_off} always off)"
                for s in low
            )
            + f"; highest: {high.name} {high.mean_entropy:.3f} bits."
        ]
        base = self.sweep[0] if self.sweep and self.sweep[0].k == 0 else None
        if base is not None and len(self.sweep) > 1:
            if base.psnr is not None:
                costs = [f"{r.k}: {base.psnr - r.psnr:.2f} dB" for r in self.sweep[1:] if r.psnr is not None]
                what = "costs, in PSNR against the sharp reference"
            else:
                costs = [
                    f"{r.k}: " + ("identical" if r.psnr_vs_full is None else f"{r.psnr_vs_full:.1f} dB")
                    for r in self.sweep[1:]
                ]
                what = (
                    "moves the output away from the unchanged network's (PSNR between the two; no reference)"
                )
            last = self.sweep[-1]
            lines.append(
                f"Linearising the k lowest-entropy sites without fine-tuning {what}: {'; '.join(costs)}. "
                "EASIER retrains after each removal; this measures the trained network as it is."
            )
            if base.seconds > 0:
                lines.append(self.time_reading(base, last))
        merge = merge_summary(self.sites)
        lines.append(
            f"Merging a linearised block's two 3×3 convolutions gives one 5×5 convolution: "
            f"{merge['one_5x5_macs_per_pixel']:,} instead of {merge['two_3x3_macs_per_pixel']:,} "
            f"multiply-adds per pixel at {merge['channels']} channels ({merge['ratio'] - 1:+.0%}): "
            "shallower, not cheaper, on this network."
        )
        return [line for line in lines if line]

    def time_reading(self, base: SweepRow, last: SweepRow) -> str:
        """The forward-time comparison, or that it is below the timing noise of this machine."""
        noise = max(base.spread, last.spread)
        what = f"median of {self.repeats} runs"
        if abs(last.seconds - base.seconds) <= noise:
            return (
                f"Forward time with all {last.k} sites linearised vs unchanged: differences below timing noise "
                f"({last.seconds:.3f} s vs {base.seconds:.3f} s, {what}, runs vary by up to {noise:.3f} s); "
                "a PReLU is one cheap element-wise step, so removing it alone saves little."
            )
        change = last.seconds / base.seconds - 1
        return (
            f"Forward time with all {last.k} sites linearised: {last.seconds:.3f} s vs {base.seconds:.3f} s "
            f"unchanged ({change:+.0%}, {what}, spread up to {noise:.3f} s)."
        )

    def to_dict(self) -> dict:
        return {
            "pictures": self.pictures,
            "crop": self.crop,
            "device": self.device,
            "precision": self.precision,
            "reference": self.reference,
            "repeats": self.repeats,
            "sites": [vars(s) for s in self.sites],
            "sweep": [vars(r) for r in self.sweep],
            "merge": merge_summary(self.sites),
            "summary": self.summary(),
        }


def merge_summary(sites: list[SiteEntropy]) -> dict:
    """What merging the convs of the linearised blocks would do, for the ranking's lowest site."""
    if not sites:
        return {}
    pair, merged = merge_cost(sites[0].channels)
    return {
        "site": sites[0].name,
        "channels": sites[0].channels,
        "two_3x3_macs_per_pixel": pair,
        "one_5x5_macs_per_pixel": merged,
        "ratio": merged / pair,
    }


def _pad(rgb: np.ndarray) -> np.ndarray:
    from models.engine import pad_to_multiple

    return pad_to_multiple(rgb, SIZE_MULTIPLE)


def _forward(model, x: torch.Tensor, dev, prec) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    with torch.inference_mode(), autocast(dev, prec):
        y = model(x)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    return y[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy(), seconds


def sweep_ks(total: int) -> list[int]:
    return sorted({k for k in SWEEP_KS if k < total} | {total})


def streamline(
    loaded: LoadedModel | MSSNet,
    pictures: list[np.ndarray],
    references: list[np.ndarray | None] | None = None,
    device: str = "auto",
    precision: str = "auto",
    ks: list[int] | None = None,
    reference_kind: str | None = None,
    crop: int | None = None,
    repeats: int = 3,
) -> StreamlineResult:
    """Record every site's entropy on `pictures` (RGB float H×W×3, the network's inputs), rank the
    sites, and for each k linearise the k lowest-entropy sites and measure PSNR and forward time
    (the median of `repeats` runs, with their spread: a shared CPU makes single timings noisy).

    `references`: the sharp picture for each input (same size), or None. The model is copied, so
    the caller's model is never changed."""
    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    net, info = as_loaded(loaded)
    model = copy.deepcopy(net).eval().to(dev)  # deepcopy keeps the one shared PReLU shared
    references = references or [None] * len(pictures)
    inputs = []
    for rgb in pictures:
        h, w = rgb.shape[:2]
        x = torch.from_numpy(np.ascontiguousarray(_pad(rgb))).permute(2, 0, 1)[None].to(dev)
        inputs.append((x, h, w))

    with EntropyRecorder(model) as recorder:
        full = [_forward(model, x, dev, prec)[0][:h, :w] for x, h, w in inputs]
    sites = sorted(recorder.results(len(inputs)), key=lambda s: (s.mean_entropy, s.name))
    ranked = [s.name for s in sites]
    _forward(model, inputs[0][0], dev, prec)  # warm-up: the timed runs start from the same state

    rows = []
    for k in ks if ks is not None else sweep_ks(len(ranked)):
        with linearised(model, ranked[:k]):
            outs, totals = [], np.zeros(max(1, repeats))
            for x, h, w in inputs:
                runs = [_forward(model, x, dev, prec) for _ in range(max(1, repeats))]
                outs.append(runs[0][0][:h, :w])
                totals += [t for _, t in runs]
        vs = [metrics.psnr(o, f) for o, f in zip(outs, full)]
        vs_full = float(np.mean(vs)) if all(np.isfinite(vs)) else None  # identical: no stand-in number
        scored = [(o, r) for o, r in zip(outs, references) if r is not None]
        psnr = float(np.mean([metrics.psnr(o, r) for o, r in scored])) if scored else None
        psnr = psnr if psnr is None or np.isfinite(psnr) else None
        rows.append(SweepRow(k, psnr, vs_full, float(np.median(totals)), float(totals.max() - totals.min())))

    return StreamlineResult(
        sites,
        rows,
        len(pictures),
        crop,
        str(dev),
        prec,
        {"name": info.name, "sha256": info.sha256},
        reference_kind,
        max(1, repeats),
    )


def centre_crop(rgb: np.ndarray, size: int | None) -> np.ndarray:
    if not size:
        return rgb
    h, w = rgb.shape[:2]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return rgb[top : top + size, left : left + size]


def sites_are_shared(model: MSSNet) -> bool:
    """True when every site uses the same PReLU object (the official weight sharing)."""
    acts = {id(block.body[1]) for _, block in prelu_sites(model) if isinstance(block.body[1], SharedPReLU)}
    return len(acts) <= 1


def plot_streamline(result: StreamlineResult, path: Path) -> Path:
    """Left: every PReLU site's mean entropy, ranked. Right: PSNR after linearising the k lowest."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    left.bar(
        range(1, len(result.sites) + 1), [s.mean_entropy for s in result.sites], color="#756bb1", width=1.0
    )
    left.set_xlabel("PReLU site, ranked (lowest entropy first)")
    left.set_ylabel("mean on/off entropy (bits)")
    left.set_title("EASIER score of each of the shared PReLU's sites", fontsize=9)
    ks = [max(r.k, 0.5) for r in result.sweep]  # k = 0 drawn at 0.5 on the log axis
    if any(r.psnr is not None for r in result.sweep):
        right.plot(ks, [r.psnr for r in result.sweep], "o-", color="#d62728", label="vs sharp reference")
        right.set_ylabel("PSNR (dB)")
    else:
        right.plot(
            ks[1:],
            [r.psnr_vs_full for r in result.sweep[1:]],
            "o-",
            color="#d62728",
            label="vs the unchanged network",
        )
        right.set_ylabel("PSNR vs the unchanged network (dB)")
    right.set_xscale("log", base=2)
    right.set_xticks(ks, [str(r.k) for r in result.sweep])
    right.set_xlabel("sites linearised (PReLU -> identity), no fine-tuning")
    right.set_title("What linearising the lowest-entropy sites costs", fontsize=9)
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
