"""Train MSSNet to restore enlarged / blurred photos: `python -m models.training.train`.

Recipe (after the official code): six supervised outputs — the first against the sharp crop
bilinearly shrunk ×0.5 (align_corners=True) — with L1 + 0.1 × FFT-L1 (full 2-D DFT as
real/imaginary pairs), Adam (2e-4, betas 0.9/0.999) with linear warm-up then cosine decay to
1e-6, stepped per iteration. Speed: pairs are made on the device in batch (models.training.data,
models.training.degrade), bf16 autocast, channels_last, optional torch.compile on CUDA.
Resumable: RUN/checkpoint.pt holds fp32 weights, optimizer, step and RNG states, written
atomically; RUN/log.jsonl gets loss, lr, samples/s and validation PSNR.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from common.cli import OneLineErrorParser
from common.files import atomic_write, check_writable, make_folder
from models.errors import ModelError
from models.mssnet import CONFIGS, MSSNet
from models.precision import autocast, channels_last
from models.training.data import (
    EVAL_KINDS,
    ImagePool,
    PairSampler,
    dead_leaves_pool,
    default_photo_dir,
    find_photos,
    load_photo_pool,
    sample_colours,
    validation_pairs,
)
from models.training.degrade import DegradeSettings

CHECKPOINT_NAME = "checkpoint.pt"
BEST_NAME = "best.pt"
LOG_NAME = "log.jsonl"


@dataclass(frozen=True)
class TrainConfig:
    width: tuple[int, int, int] = CONFIGS["small"]
    crop: int = 256  # multiple of 16
    batch: int = 16
    steps: int = 200_000
    lr: float = 2e-4
    lr_min: float = 1e-6
    warmup: int = 1000
    fft_weight: float = 0.1
    leaves_fraction: float = 0.5  # share of each batch taken from dead-leaves images
    leaves_count: int = 64
    leaves_size: int = 512
    photo_max_side: int = 1280  # photos shrunk ≥2× and to at most this many px when loaded
    val_count: int = 16
    val_crop: int = 256
    val_every: int = 1000
    save_every: int = 1000
    log_every: int = 50
    precision: str = "auto"  # auto: bf16 on CUDA and on CPUs with native bf16, else fp32
    channels_last: bool = True
    compile: bool = False  # torch.compile, CUDA only
    seed: int = 1234
    val_photos: int = 3  # photos held out from training for the validation PSNR
    zero_tails: bool = False  # start as the identity (tails zeroed): a short run cannot end below its input
    degrade: dict = field(default_factory=dict)  # DegradeSettings fields that differ from its defaults
    init_weights: str | None = None  # fine-tune: start from these weights (name or path), fresh schedule
    # exponential moving average of the weights (BasicSR's ema_decay); validated, kept as the
    # best checkpoint and exported instead of the raw weights. 0 turns it off.
    ema_decay: float = 0.999
    val_kinds: tuple[str, ...] = EVAL_KINDS  # crop i of the validation set gets val_kinds[i % n]
    # an extra loss term for fine detail: "highpass" (L1 of image minus its Gaussian blur, σ 1) or
    # "gradient" (L1 of horizontal and vertical differences), weighted by hf_weight
    hf_loss: str = "none"
    hf_weight: float = 0.0


# what every CPU recipe shares: small crops and batches, few dead-leaves images, frequent saves
_CPU = TrainConfig(
    crop=64,
    batch=8,
    warmup=100,
    leaves_count=48,
    leaves_size=256,
    photo_max_side=1024,
    val_count=8,
    val_crop=128,
    val_every=250,
    save_every=100,
    log_every=10,
)
# the longer CPU fine-tunes: 96-px crops for context, validation on 24 crops every 500 steps
_CPU_LONG = replace(_CPU, crop=96, steps=3000, warmup=50, val_count=24, val_every=500)
# the enlargement mix: every sample shrunk and enlarged back, little noise, no JPEG
_ENLARGE_MIX = {
    "p_resize": 1.0,
    "p_blur": 0.15,
    "p_shake": 0.05,
    "p_noise": 0.15,
    "noise_sigma": (0.002, 0.01),
    "p_jpeg": 0.0,
}
# MSSNet's own task, motion blur + noise: camera-shake paths and straight lines at random angles,
# 5-25 px (27-px kernels), sensor noise on almost every sample, a few mildly defocused or clean
# ones so sharp input is left alone
_DEBLUR_MIX = {
    "p_resize": 0.0,
    "p_blur": 0.1,
    "p_shake": 0.85,
    "p_straight": 0.5,
    "shake_length": (5.0, 25.0),
    "kernel_size": 27,
    "p_noise": 0.9,
    "noise_sigma": (0.002, 0.012),
    "p_jpeg": 0.0,
}
_ENLARGE_EMA = replace(
    _CPU_LONG,
    steps=30_000,
    lr=5e-5,
    val_every=300,
    val_count=96,
    val_crop=96,
    val_kinds=("x2", "x4"),
    degrade={**_ENLARGE_MIX, "scale_range": (1.5, 4.0), "p_bicubic": 0.5},
)

PRESETS: dict[str, TrainConfig] = {
    "small": TrainConfig(),
    "base": TrainConfig(width=CONFIGS["base"]),
    # CPU run for provisional weights: small crops, few threads (see the model card)
    "cpu": replace(_CPU, steps=2000, zero_tails=True, degrade={"p_resize": 0.8}),
    # CPU run focused on enlargement softness (the demo's case), a gentler learning rate for batch 8
    "cpu-enlarge": replace(_CPU, steps=2500, lr=1e-4, zero_tails=True, degrade=dict(_ENLARGE_MIX)),
    # fine-tune of enlargement weights (--init): shrink factors from 1.5, not 2, so mild inputs
    # (x2) are seen often and not over-sharpened; validation per degradation on 24 crops
    "cpu-enlarge-tune": replace(
        _CPU,
        steps=1600,
        warmup=50,
        lr=5e-5,
        val_count=24,
        val_every=400,
        degrade={**_ENLARGE_MIX, "scale_range": (1.5, 4.0)},
    ),
    # long fine-tune of the enlargement weights (--init): 96-px crops for context, factors from
    # 1.5 so ×2 is not over-sharpened, half the shrinks bicubic
    "cpu-enlarge-long": replace(
        _CPU_LONG,
        lr=5e-5,
        degrade={**_ENLARGE_MIX, "scale_range": (1.5, 4.0), "p_bicubic": 0.5},
    ),
    # MSSNet's own task (fine-tune from the enlargement weights with --init)
    "cpu-deblur": replace(_CPU_LONG, lr=1e-4, degrade=dict(_DEBLUR_MIX)),
    # the background runs (models.training.background), fine-tunes of the shipped files (--init):
    # long cosine schedules (the rate stays near its peak for many sessions; the moving average does
    # the smoothing), validation on 96 crops per task (96 px) of the held-out photos every 300 steps
    "cpu-enlarge-ema": _ENLARGE_EMA,
    # the same with a high-pass L1 term for fine detail (the fur sweep)
    "cpu-enlarge-ema-hf": replace(_ENLARGE_EMA, hf_loss="highpass", hf_weight=1.0),
    # the same with three times the official frequency-loss weight (the sweep's other axis)
    "cpu-enlarge-ema-fft3": replace(_ENLARGE_EMA, fft_weight=0.3),
    "cpu-deblur-ema": replace(
        _CPU_LONG,
        steps=30_000,
        lr=5e-5,
        val_every=300,
        val_count=96,
        val_crop=96,
        val_kinds=("motion_random",),
        degrade=dict(_DEBLUR_MIX),
    ),
    # tests: tiny widths and crops, a few steps
    "smoke": TrainConfig(
        width=(8, 4, 4),
        crop=32,
        batch=2,
        steps=4,
        warmup=2,
        leaves_count=2,
        leaves_size=64,
        photo_max_side=256,
        val_count=2,
        val_crop=32,
        val_every=2,
        save_every=2,
        log_every=1,
        val_photos=1,
    ),
}


# ---------------------------------------------------------------- loss and schedule

HF_LOSSES = ("none", "highpass", "gradient")


def fft_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(torch.view_as_real(torch.fft.fft2(a)), torch.view_as_real(torch.fft.fft2(b)))


def high_pass(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """x minus its Gaussian blur (σ px, separable, reflect padding): the fine detail alone."""
    r = int(3 * sigma + 0.5)
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    y = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return x - y


def hf_l1(a: torch.Tensor, b: torch.Tensor, kind: str) -> torch.Tensor:
    """L1 between the fine detail of a and b: "highpass" (high_pass) or "gradient" (differences)."""
    if kind == "highpass":
        return F.l1_loss(high_pass(a), high_pass(b))
    if kind == "gradient":

        def grads(x):
            return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]

        (ax, ay), (bx, by) = grads(a), grads(b)
        return F.l1_loss(ax, bx) + F.l1_loss(ay, by)
    raise ModelError(f"unknown high-frequency loss {kind!r}; choose from {', '.join(HF_LOSSES)}")


def mssnet_loss(
    outputs: list[torch.Tensor],
    sharp: torch.Tensor,
    fft_weight: float = 0.1,
    hf_loss: str = "none",
    hf_weight: float = 0.0,
) -> torch.Tensor:
    """Σ over the six outputs of L1 + fft_weight · FFT-L1 (+ hf_weight · the hf_loss term);
    output 1 is compared at half size."""
    half = F.interpolate(sharp, scale_factor=0.5, mode="bilinear", align_corners=True)
    total = sharp.new_zeros(())
    for out, target in zip(outputs, [half] + [sharp] * 5):
        out = out.float()  # the loss (and the FFT) in fp32 even under bf16 autocast
        total = total + F.l1_loss(out, target) + fft_weight * fft_l1(out, target)
        if hf_loss != "none" and hf_weight:
            total = total + hf_weight * hf_l1(out, target, hf_loss)
    return total


class WeightsEMA:
    """An exponential moving average of a model's weights, as BasicSR's model_ema: after every
    step ema ← decay·ema + (1 − decay)·weights (fp32 copies; buffers copied as they are)."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.state = {k: v.detach().float().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        current = model.state_dict()
        floats = [k for k, v in self.state.items() if v.is_floating_point()]
        torch._foreach_lerp_(
            [self.state[k] for k in floats], [current[k].detach().float() for k in floats], 1 - self.decay
        )
        for k, v in self.state.items():
            if not v.is_floating_point():
                v.copy_(current[k])

    def copy_to(self, model: torch.nn.Module) -> torch.nn.Module:
        model.load_state_dict(self.state)
        return model


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to cfg.lr, then cosine decay to cfg.lr_min at cfg.steps."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * t))


# ---------------------------------------------------------------- checkpoints


def save_checkpoint(
    path: Path,
    model,
    optimizer,
    step: int,
    generator: torch.Generator,
    cfg: TrainConfig,
    elapsed_s: float,
    cpu_s: float = 0.0,
    rank_states: list[torch.Tensor] | None = None,
    ema: WeightsEMA | None = None,
    best: dict | None = None,
) -> None:
    """Write fp32 weights (and their moving average) + optimizer + step + RNG states (every rank's
    data stream) + time used + the best validation so far; atomic (temp file then rename)."""
    state = {
        "model_state_dict": {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()},
        "optimizer_state_dict": optimizer.state_dict(),
        "all_step": step,
        "rng": {
            "data": generator.get_state().cpu(),
            "torch": torch.get_rng_state(),
            "ranks": rank_states or [generator.get_state().cpu()],
        },
        "config": asdict(cfg),
        "elapsed_s": elapsed_s,
        "cpu_s": cpu_s,
    }
    if ema is not None:
        state["ema_state_dict"] = {k: v.contiguous() for k, v in ema.state.items()}
    if best is not None:
        state["best"] = best
    atomic_write(path, lambda fh: torch.save(state, fh))


def save_best(path: Path, weights: dict, cfg: TrainConfig, step: int, val: dict, elapsed_s: float) -> None:
    """RUN/best.pt: the weights that scored best on validation so far (the moving average when the
    run keeps one), in the checkpoint layout, so --export can read it."""
    state = {
        "model_state_dict": {k: v.detach().float().cpu().contiguous() for k, v in weights.items()},
        "all_step": step,
        "config": asdict(cfg),
        "elapsed_s": elapsed_s,
        "val": val,
    }
    atomic_write(path, lambda fh: torch.save(state, fh))


def selection_score(val: dict, kinds: tuple[str, ...]) -> float:
    """What checkpoints are chosen by: the mean validation gain (dB) over the run's degradations."""
    gains = [val[f"val_{k}_gain"] for k in kinds if f"val_{k}_gain" in val]  # tiny sets may lack a kind
    return sum(gains) / len(gains)


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ModelError(f"no checkpoint to resume at {path}") from None
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: any unpickling error
        raise ModelError(f"cannot read checkpoint {path}: {exc}") from None


def config_from_checkpoint(state: dict) -> TrainConfig:
    raw = dict(state["config"])
    raw["width"] = tuple(raw["width"])
    if "bf16" in raw:  # runs from before precision was chosen by the hardware
        raw["precision"] = "auto" if raw.pop("bf16") else "fp32"
    raw["degrade"] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.get("degrade", {}).items()}
    if "val_kinds" in raw:
        raw["val_kinds"] = tuple(raw["val_kinds"])
    return TrainConfig(**raw)


def _load_init_weights(model: MSSNet, weights: str) -> None:
    """Start from trained weights (bundled name, our .safetensors or an official checkpoint)."""
    from models.checkpoints import load_model

    init = load_model(weights).model
    if tuple(init.config) != tuple(model.config):
        raise ModelError(
            f"--init weights are MSSNet {tuple(init.config)}, the run is {tuple(model.config)}: "
            "pass the matching --width"
        )
    model.load_state_dict(init.state_dict())


def zero_tails(model: MSSNet) -> None:
    """Zero every output conv: each stage then returns its blurry input exactly, and training
    starts from the identity instead of from random corrections it must first unlearn."""
    with torch.no_grad():
        for name, module in model.named_modules():
            if name.startswith("tail") and isinstance(module, torch.nn.Conv2d):
                module.weight.zero_()
                if module.bias is not None:
                    module.bias.zero_()


# ---------------------------------------------------------------- data


def build_pools(
    cfg: TrainConfig, photo_dir: Path | str | None, device, photos: ImagePool | None = None
) -> tuple[ImagePool, ImagePool, ImagePool | None]:
    """(training photos, validation photos, dead-leaves images), all on `device`.

    `photos` may be given directly (tests); otherwise they are loaded from photo_dir.
    """
    if photos is None:
        paths = find_photos(photo_dir or default_photo_dir())
        if len(paths) <= cfg.val_photos:
            raise ModelError(f"need more than {cfg.val_photos} training photos, found {len(paths)}")
        photos = load_photo_pool(paths, cfg.photo_max_side, device)
    n_val = cfg.val_photos
    # hold out a fixed, spread-out subset for validation
    order = torch.randperm(len(photos), generator=torch.Generator().manual_seed(cfg.seed))
    val_idx, train_idx = order[:n_val].to(photos.pixels.device), order[n_val:].to(photos.pixels.device)

    def subset(idx):
        return ImagePool(photos.pixels[idx], photos.sizes[idx], [photos.names[int(i)] for i in idx])

    train_pool, val_pool = subset(train_idx), subset(val_idx)
    leaves = None
    if cfg.leaves_fraction > 0:
        colours = sample_colours(train_pool, 4096, cfg.seed)
        leaves = dead_leaves_pool(cfg.leaves_count, cfg.leaves_size, cfg.seed, colours, device)
    return train_pool, val_pool, leaves


# ---------------------------------------------------------------- training


@dataclass
class TrainResult:
    step: int
    last_loss: float
    val_psnr: float | None
    val_psnr_input: float | None
    samples_per_s: float
    elapsed_s: float
    run_dir: Path
    history: list[dict] = field(default_factory=list)
    precision: str = "fp32"
    cpu_s: float = 0.0  # process CPU time of the whole run (all ranks, all sessions)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


@torch.no_grad()
def validate(
    model,
    degraded: torch.Tensor,
    sharp: torch.Tensor,
    cfg: TrainConfig,
    batch: int = 8,
    precision: str = "fp32",
) -> dict:
    """PSNR of restored and degraded validation crops, overall and per degradation (crop i has
    cfg.val_kinds[i % n], as validation_pairs makes them), and the x2 crops' high-frequency energy
    (above 0.25 of Nyquist) against the sharp crops: recovered share and overshoot."""
    from models import metrics
    from models.precision import autocast

    model.eval()
    outs = []
    for i in range(0, degraded.shape[0], batch):
        x = degraded[i : i + batch]
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(x.device, precision):
            outs.append(model(x).float().clamp(0, 1))
    model.train()
    out = torch.cat(outs)

    def psnr(a):
        return -10 * ((a.float() - sharp) ** 2).mean((1, 2, 3)).clamp_min(1e-10).log10()

    out_psnr, in_psnr = psnr(out), psnr(degraded)
    result = {"val_psnr": float(out_psnr.mean()), "val_psnr_input": float(in_psnr.mean())}
    kinds = cfg.val_kinds
    n = len(kinds)
    for k, kind in enumerate(kinds):
        if out_psnr[k::n].numel():
            result[f"val_{kind}_gain"] = float((out_psnr[k::n] - in_psnr[k::n]).mean())
    e_in = e_out = e_ref = 0.0
    x2_crops = range(kinds.index("x2"), degraded.shape[0], n) if "x2" in kinds else range(0)
    for i in x2_crops:

        def image(t, i=i):
            return t[i].float().permute(1, 2, 0).cpu().numpy()

        check = metrics.fur_check(image(degraded), image(out), image(sharp), 0.25)
        e_in, e_out, e_ref = (
            e_in + check.input_energy,
            e_out + check.output_energy,
            e_ref + check.original_energy,
        )
    if e_ref > e_in:
        result["val_x2_hf_recovered"] = (e_out - e_in) / (e_ref - e_in)
        result["val_x2_hf_overshoot"] = e_out / e_ref - 1
    return {k: round(v, 4) for k, v in result.items()}


# ---------------------------------------------------------------- processes (torchrun)


@dataclass(frozen=True)
class Processes:
    """This process's place in a torchrun job (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def reduce(self, values: list[float], op: str = "sum") -> list[float]:
        """The element-wise sum (or max) of `values` over all processes."""
        if self.world == 1:
            return values
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64)
        if dist.get_backend() == "nccl":
            t = t.cuda()
        dist.all_reduce(t, op=dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM)
        return t.cpu().tolist()

    def gather(self, obj) -> list:
        if self.world == 1:
            return [obj]
        import torch.distributed as dist

        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out


def join_processes(device: torch.device) -> Processes:
    """Join torchrun's process group (gloo on CPU, nccl on CUDA) when WORLD_SIZE > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Processes()
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Processes(
        dist.get_rank(), dist.get_world_size(), local_rank, int(os.environ.get("LOCAL_WORLD_SIZE", world))
    )


def rank_seed(seed: int, rank: int, step: int = 0) -> int:
    """Each rank's data seed (rank 0 keeps the run's seed, so one process is unchanged); `step`
    re-seeds a resumed run whose process count changed."""
    return seed + 7919 * rank + 104729 * step


class _Stages(torch.nn.Module):
    """forward = MSSNet.forward_stages, so DistributedDataParallel hooks the training call."""

    def __init__(self, net: MSSNet):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.forward_stages(x)


# ---------------------------------------------------------------- training


def train(
    cfg: TrainConfig,
    run_dir: Path | str,
    photo_dir: Path | str | None = None,
    resume: bool = False,
    device: str = "auto",
    photos: ImagePool | None = None,
    fixed_batch: bool = False,
    progress: bool = True,
    max_minutes: float | None = None,
    force: bool = False,
    steps: int | None = None,
    max_cpu_minutes: float | None = None,
    announce=None,
    session_steps: int | None = None,
    should_stop=None,
    pools: tuple[ImagePool, ImagePool, ImagePool | None] | None = None,
) -> TrainResult:
    """Train (or resume) into run_dir, as one process or as each of torchrun's processes
    (DistributedDataParallel: cfg.batch is the global batch, split over the ranks; each rank
    draws its own data; rank 0 logs, validates and checkpoints). On resume the recipe is the
    checkpoint's (cfg is ignored) and only `steps` (the total, which also sets the cosine
    schedule's end) may change it. `fixed_batch` reuses one global batch (overfit check, tests);
    `max_minutes` stops early (with a checkpoint) after that much wall time in this session,
    `max_cpu_minutes` once the run's process CPU time (all ranks, all sessions) reaches it.
    `announce(line)` gets the start-up line (device, precision, threads, processes).
    `session_steps` stops (with a checkpoint) after that many steps in this call, and a true
    `should_stop()` (checked every step, e.g. set by a signal handler) stops the same way.
    With cfg.ema_decay the moving average is validated (the raw weights too, as raw_val_*) and
    RUN/best.pt keeps the average that scored best (selection_score)."""
    from models.precision import precision_reason, resolve_device, resolve_precision

    run_dir = Path(run_dir)
    ckpt_path = run_dir / CHECKPOINT_NAME
    state = None
    if resume:
        state = load_checkpoint(ckpt_path)
        cfg = config_from_checkpoint(state)
    elif ckpt_path.exists() and not force:
        raise ModelError(f"{ckpt_path} exists: pass --resume to continue it or --force to start over")
    if steps is not None:
        cfg = replace(cfg, steps=steps)
    if cfg.crop % 16 or cfg.val_crop % 16:
        raise ModelError("crop sizes must be multiples of 16 (MSSNet's size rule)")
    if cfg.hf_loss not in HF_LOSSES:
        raise ModelError(f"unknown high-frequency loss {cfg.hf_loss!r}; choose from {', '.join(HF_LOSSES)}")
    dev = resolve_device(device)
    precision = resolve_precision(cfg.precision, dev, training=True)
    procs = join_processes(dev)
    if dev.type == "cuda" and procs.world > 1:
        dev = torch.device("cuda", procs.local_rank)
    if cfg.batch % procs.world:
        raise ModelError(f"the batch ({cfg.batch}) must split evenly over {procs.world} processes")
    if procs.main:
        make_folder(check_writable(run_dir, folder=True))
    torch.manual_seed(cfg.seed)

    # `pools` (build_pools' result) spares a caller that trains several runs the dead-leaves drawing
    train_pool, val_pool, leaves = pools or build_pools(cfg, photo_dir, dev, photos)
    generator = torch.Generator(device=dev).manual_seed(rank_seed(cfg.seed, procs.rank))
    settings = DegradeSettings(**cfg.degrade)
    sampler = PairSampler(
        train_pool,
        leaves,
        cfg.crop,
        cfg.batch // procs.world,
        generator,
        leaves_fraction=cfg.leaves_fraction,
        settings=settings,
    )

    model = MSSNet(*cfg.width).to(dev)
    if cfg.init_weights and state is None:
        _load_init_weights(model, cfg.init_weights)
    elif cfg.zero_tails and state is None:
        zero_tails(model)
    if cfg.channels_last:
        model = channels_last(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.999), eps=1e-8)
    step, elapsed, cpu_before = 0, 0.0, 0.0
    if state is not None:
        model.load_state_dict(state["model_state_dict"])
        optimizer.load_state_dict(state["optimizer_state_dict"])
        step = int(state["all_step"])
        elapsed = float(state.get("elapsed_s", 0.0))
        cpu_before = float(state.get("cpu_s", 0.0))
        rank_states = state["rng"].get("ranks") or [state["rng"]["data"]]
        if len(rank_states) == procs.world:
            generator.set_state(rank_states[procs.rank])
        else:  # another process count: fresh, distinct streams from here on
            generator.manual_seed(rank_seed(cfg.seed, procs.rank, step))
        torch.set_rng_state(state["rng"]["torch"])
    ema = ema_model = None
    best = dict(state.get("best") or {}) if state is not None else {}
    if cfg.ema_decay > 0 and procs.main:
        ema = WeightsEMA(model, cfg.ema_decay)  # a run from before the average starts it here
        if state is not None and "ema_state_dict" in state:
            ema.state = {k: v.float() for k, v in state["ema_state_dict"].items()}
        ema_model = MSSNet(*cfg.width).to(dev)
        if cfg.channels_last:
            ema_model = channels_last(ema_model)
    forward: torch.nn.Module | Callable[..., Any] = _Stages(model)
    if procs.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        forward = DistributedDataParallel(forward, device_ids=[dev.index] if dev.type == "cuda" else None)
    if cfg.compile and dev.type == "cuda":
        forward = torch.compile(forward)

    threads = torch.get_num_threads() if dev.type == "cpu" else None
    line = (
        f"training MSSNet {tuple(cfg.width)} on {dev}, {precision} "
        + (f"({precision_reason(precision, dev)})" if cfg.precision == "auto" else "(as asked)")
        + (f", {threads} thread(s)" if threads else "")
        + f", batch {cfg.batch} over {procs.world} process(es)"
        + (", gloo" if procs.world > 1 and dev.type == "cpu" else ", nccl" if procs.world > 1 else "")
    )
    history: list[dict] = []
    log = open(run_dir / LOG_NAME, "a") if procs.main else None

    def record(entry: dict) -> None:
        history.append(entry)
        if log:
            log.write(json.dumps(entry) + "\n")
            log.flush()

    if procs.main:
        (announce or print)(line)
        record(
            {
                "step": step,
                "start": line,
                "device": str(dev),
                "precision": precision,
                "threads": threads,
                "processes": procs.world,
            }
        )
        val_degraded, val_sharp = validation_pairs(
            val_pool, cfg.val_count, cfg.val_crop, cfg.seed + 1, kinds=cfg.val_kinds
        )

    fixed = None
    if fixed_batch:  # one global batch from the run's seed; each rank trains on its share
        g = torch.Generator(device=dev).manual_seed(cfg.seed)
        whole = PairSampler(
            train_pool, leaves, cfg.crop, cfg.batch, g, leaves_fraction=cfg.leaves_fraction, settings=settings
        ).sample()
        share = cfg.batch // procs.world
        fixed = tuple(t[procs.rank * share : (procs.rank + 1) * share] for t in whole)
    bar = _progress(progress and procs.main)
    task = bar.add_task("training", total=cfg.steps, completed=step) if bar else None
    session_start, cpu_start = time.perf_counter(), time.process_time()
    window_t, window_n = time.perf_counter(), 0
    loss_value, val = float("nan"), {}
    samples_per_s, cpu_total = 0.0, cpu_before
    session_begin = step
    model.train()
    try:
        if bar:
            bar.start()
        while step < cfg.steps:
            degraded, sharp = fixed if fixed is not None else sampler.sample()
            if cfg.channels_last:
                degraded = degraded.contiguous(memory_format=torch.channels_last)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, cfg)
            with autocast(dev, precision):
                outputs = forward(degraded)
            loss = mssnet_loss(outputs, sharp, cfg.fft_weight, cfg.hf_loss, cfg.hf_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if ema is not None:
                ema.update(model)
            step += 1
            window_n += cfg.batch
            # every process stops at the same step: the budgets are summed / maxed over ranks
            out_of_wall = max_minutes is not None and time.perf_counter() - session_start > 60 * max_minutes
            cpu_used, wall_flag = procs.reduce([time.process_time() - cpu_start, float(out_of_wall)])
            cpu_total = cpu_before + cpu_used
            out_of_time = (
                wall_flag > 0
                or (max_cpu_minutes is not None and cpu_total >= 60 * max_cpu_minutes)
                or (session_steps is not None and step - session_begin >= session_steps)
                or bool(should_stop and should_stop())
            )
            if step % cfg.log_every == 0 or step == cfg.steps:
                loss_value = procs.reduce([float(loss.detach())])[0] / procs.world
                _sync(dev)
                now = time.perf_counter()
                samples_per_s = window_n / (now - window_t)
                window_t, window_n = now, 0
                record(
                    {
                        "step": step,
                        "loss": round(loss_value, 6),
                        "lr": learning_rate(step - 1, cfg),
                        "samples_per_s": round(samples_per_s, 3),
                        "elapsed_s": round(elapsed + now - session_start, 1),
                        "cpu_s": round(cpu_total, 1),
                    }
                )
            if procs.main and (step % cfg.val_every == 0 or step == cfg.steps or out_of_time):
                val = validate(model, val_degraded, val_sharp, cfg, precision=precision)
                if ema is not None and ema_model is not None:
                    raw = {"raw_" + k: v for k, v in val.items()}
                    val = validate(ema.copy_to(ema_model), val_degraded, val_sharp, cfg, precision=precision)
                    val = {**val, **raw}
                    score = selection_score(val, cfg.val_kinds)
                    if not best or score > best["score"]:
                        best = {"step": step, "score": round(score, 4)}
                        save_best(
                            run_dir / BEST_NAME,
                            ema.state,
                            cfg,
                            step,
                            val,
                            elapsed + time.perf_counter() - session_start,
                        )
                record({"step": step, **val})
                window_t = time.perf_counter()  # validation time is not training throughput
            if step % cfg.save_every == 0 or step == cfg.steps or out_of_time:
                rank_states = procs.gather(generator.get_state().cpu())
                if procs.main:
                    save_checkpoint(
                        ckpt_path,
                        model,
                        optimizer,
                        step,
                        generator,
                        cfg,
                        elapsed + time.perf_counter() - session_start,
                        cpu_s=cpu_total,
                        rank_states=rank_states,
                        ema=ema,
                        best=best or None,
                    )
            if bar:
                bar.update(
                    task, completed=step, description=f"loss {loss_value:.4f} · {samples_per_s:.1f} samples/s"
                )
            if out_of_time:
                break
    finally:
        if bar:
            bar.stop()
        if log:
            log.close()
    return TrainResult(
        step,
        loss_value,
        val.get("val_psnr"),
        val.get("val_psnr_input"),
        samples_per_s,
        elapsed + time.perf_counter() - session_start,
        run_dir,
        history,
        precision,
        cpu_total,
    )


def _progress(enabled: bool):
    if not enabled:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    )


# ---------------------------------------------------------------- export


def export_weights(checkpoint: Path | str, output: Path | str, force: bool = False, raw: bool = False) -> str:
    """Write a checkpoint's weights as fp16 .safetensors (via save_weights); returns SHA-256.
    The moving average is written where the checkpoint has one, unless `raw`."""
    from models.checkpoints import save_weights

    output = Path(output)
    if output.exists() and not force:
        raise ModelError(f"{output} exists: pass --force to overwrite it")
    state = load_checkpoint(Path(checkpoint))
    cfg = state["config"]
    weights = state["model_state_dict"] if raw else state.get("ema_state_dict", state["model_state_dict"])
    meta = {
        "trained_steps": state["all_step"],
        "crop": cfg["crop"],
        "batch": cfg["batch"],
        "train_elapsed_s": round(float(state.get("elapsed_s", 0.0)), 1),
    }
    if not raw and ("ema_state_dict" in state or BEST_NAME == Path(checkpoint).name):
        meta["ema_decay"] = cfg.get("ema_decay")
    return save_weights(weights, output, dtype=torch.float16, metadata=meta)


# ---------------------------------------------------------------- CLI


def _width(text: str) -> tuple[int, int, int]:
    if text in CONFIGS:
        return CONFIGS[text]
    try:
        wf, scale, vscale = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("width is small|base|large or WF,SCALE,VSCALE") from None
    return wf, scale, vscale


def main(argv=None, prog: str = "python -m models.training.train") -> int:
    ap = OneLineErrorParser(prog=prog, description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="small")
    ap.add_argument(
        "--run-dir",
        "--run",
        dest="run",
        default="runs/mssnet-small",
        help="run folder (checkpoint, log); under torchrun spell it --run-dir",
    )
    ap.add_argument(
        "--photos",
        default=None,
        help="training photo folder (default: $EXPLAINER_PHOTOS, else "
        "~/.local/share/restoration-explainer/training_photos)",
    )
    ap.add_argument("--resume", action="store_true", help="continue RUN/checkpoint.pt")
    ap.add_argument("--force", action="store_true", help="start over even if RUN has a checkpoint")
    ap.add_argument("--device", default="auto")
    ap.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        help="default auto: bf16 on CUDA and on CPUs with native bf16 (AVX-512 BF16 / AMX), else fp32",
    )
    ap.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default: this process's share of the cores it may run on)",
    )
    ap.add_argument("--width", type=_width, help="small|base|large or WF,SCALE,VSCALE")
    for name, kind in (
        ("steps", int),
        ("batch", int),
        ("crop", int),
        ("lr", float),
        ("warmup", int),
        ("val_every", int),
        ("val_count", int),
        ("save_every", int),
        ("seed", int),
    ):
        ap.add_argument("--" + name.replace("_", "-"), type=kind, dest=name)
    ap.add_argument(
        "--init",
        metavar="NAME|PATH",
        help="fine-tune: start from these weights (fresh optimizer and schedule)",
    )
    ap.add_argument("--fft-weight", type=float, help="weight of the FFT-L1 term (default 0.1)")
    ap.add_argument("--hf-loss", choices=HF_LOSSES, help="an extra fine-detail loss term (default none)")
    ap.add_argument("--hf-weight", type=float, help="weight of the --hf-loss term")
    ap.add_argument(
        "--ema-decay", type=float, help="moving average of the weights (default 0.999; 0 turns it off)"
    )
    ap.add_argument("--no-bf16", action="store_true", help="same as --precision fp32")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA only)")
    ap.add_argument(
        "--max-minutes", type=float, help="stop (with a checkpoint) after this much wall time in this session"
    )
    ap.add_argument(
        "--max-cpu-minutes",
        type=float,
        help="stop (with a checkpoint) once the run has used "
        "this much process CPU time (all processes, resumed sessions included): equal budgets "
        "on a busy machine",
    )
    ap.add_argument("--fixed-batch", action="store_true", help="overfit check: train on one batch")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument(
        "--export",
        metavar="OUT.safetensors",
        help="instead of training: write RUN/checkpoint.pt (its moving average) as fp16 .safetensors",
    )
    ap.add_argument(
        "--best", action="store_true", help="with --export: RUN/best.pt, the best average on validation"
    )
    ap.add_argument("--raw", action="store_true", help="with --export: the raw weights, not their average")
    args = ap.parse_args(argv)
    from models.precision import default_threads

    torch.set_num_threads(args.threads or default_threads(int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    if args.export:
        source = Path(args.run) / (BEST_NAME if args.best else CHECKPOINT_NAME)
        sha = export_weights(source, args.export, args.force, raw=args.raw)
        print(f"{args.export}  sha256 {sha}")
        return 0
    cfg = PRESETS[args.preset]
    overrides = {
        k: getattr(args, k)
        for k in (
            "width",
            "batch",
            "crop",
            "lr",
            "warmup",
            "precision",
            "val_every",
            "val_count",
            "save_every",
            "seed",
        )
        if getattr(args, k) is not None
    }
    if args.init:
        overrides["init_weights"] = args.init
    for name in ("fft_weight", "hf_loss", "hf_weight", "ema_decay"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.no_bf16:
        overrides["precision"] = "fp32"
    if args.compile:
        overrides["compile"] = True
    cfg = replace(cfg, **overrides)
    result = train(
        cfg,
        args.run,
        args.photos,
        resume=args.resume,
        device=args.device,
        progress=not args.no_progress,
        max_minutes=args.max_minutes,
        force=args.force,
        steps=args.steps,
        max_cpu_minutes=args.max_cpu_minutes,
        fixed_batch=args.fixed_batch,
    )
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        # every rank reaches the end before any tears its group down: a rank that destroyed gloo
        # while rank 0 still wrote its last checkpoint aborted ("terminate called ...") under load
        dist.barrier()
        dist.destroy_process_group()
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    val = (
        f", validation PSNR {result.val_psnr:.2f} dB (input {result.val_psnr_input:.2f} dB)"
        if result.val_psnr is not None
        else ""
    )
    print(
        f"step {result.step}: loss {result.last_loss:.4f}, {result.samples_per_s:.1f} samples/s{val}; "
        f"checkpoint {Path(args.run) / CHECKPOINT_NAME}"
    )
    return 0


if __name__ == "__main__":
    from models.errors import run_module_cli

    run_module_cli(main, "train")
