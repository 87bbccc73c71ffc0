"""Training throughput on this machine: `python -m benchmarks.bench_training [--threads N]`.

1. Data pipeline (detail-filtered crops + augmentation + degradations, models.training.data.PairSampler),
   and the degradations alone, batched as in training vs. one sample at a time (a per-sample
   Python loop), measured in the same run so the ratio is meaningful on a busy machine.
2. One training step (forward_stages + L1/FFT loss + backward + Adam) of MSSNet-small, one row
   per precision the trainer can run (fp32, bf16 autocast; fp16 needs loss scaling, which it does
   not do), contiguous vs channels_last, marking the one `--precision auto` picks on this machine.
3. The same step for the narrower widths of the sweep (models/weights/*.md), in the auto precision.
Uses the training photos if fetched, else dead-leaves images only (said in the output).
"""

from __future__ import annotations

import argparse
import time

import torch

from models.errors import ModelError
from models.mssnet import CONFIGS, MSSNet
from models.precision import precision_reason, resolve_precision
from models.training.data import (
    ImagePool,
    PairSampler,
    dead_leaves_pool,
    default_photo_dir,
    find_photos,
    load_photo_pool,
    sample_colours,
)
from models.training.degrade import degrade
from models.training.train import mssnet_loss


def _timed(fn, repeats: int) -> float:
    fn()  # warm-up (first-shape kernel set-up)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def _pools(photo_dir: str) -> tuple[ImagePool, ImagePool, str]:
    try:
        photos = load_photo_pool(find_photos(photo_dir)[:12], max_side=1024)
        source = "12 training photos"
    except ModelError:
        photos = dead_leaves_pool(8, 512, seed=0)
        source = "dead leaves only (training photos not fetched)"
    leaves = dead_leaves_pool(8, 512, seed=1, colours=sample_colours(photos, 1024, 0))
    return photos, leaves, source


def bench_data(photos, leaves, crop: int, batch: int, repeats: int) -> dict:
    """Full pipeline samples/s, and the degradations alone: batched vs one sample at a time."""
    sampler = PairSampler(photos, leaves, crop, batch, torch.Generator().manual_seed(0))
    pipeline = _timed(sampler.sample, repeats)
    _, sharp = sampler.sample()
    g = torch.Generator().manual_seed(1)
    batched = _timed(lambda: degrade(sharp, g), repeats)
    looped = _timed(lambda: [degrade(sharp[i : i + 1], g) for i in range(batch)], repeats)
    return {"pipeline": batch / pipeline, "batched": batch / batched, "per_sample": batch / looped}


def bench_step(width, crop: int, batch: int, bf16: bool, channels_last: bool, repeats: int) -> float:
    torch.manual_seed(0)
    model = MSSNet(*width)
    x = torch.rand(batch, 3, crop, crop)
    y = torch.rand(batch, 3, crop, crop)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), 2e-4)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            outs = model.forward_stages(x)
        loss = mssnet_loss(outs, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return batch / _timed(step, repeats)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_training")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--photos", default=None, help="training photo folder (default: as explainer train)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    photos, leaves, source = _pools(args.photos or str(default_photo_dir()))
    print(f"CPU, {args.threads} thread(s), torch {torch.__version__}; data: {source}\n")
    print("| crops | full pipeline samples/s | degradations batched | degradations per-sample loop | ratio |")
    print("|---|---|---|---|---|")
    for crop, batch in ((64, 8), (256, 16)):
        r = bench_data(photos, leaves, crop, batch, args.repeats)
        print(
            f"| {crop}² × {batch} | {r['pipeline']:.1f} | {r['batched']:.1f} | {r['per_sample']:.1f} | "
            f"{r['batched'] / r['per_sample']:.1f}× |"
        )
    cpu = torch.device("cpu")
    auto = resolve_precision("auto", cpu, training=True)
    print(f"\n--precision auto picks {auto} here: {precision_reason(auto, cpu)}")
    print("\n| train step, MSSNet-small (20/40/40), 64² × 8 | samples/s | vs fp32 contiguous | auto |")
    print("|---|---|---|---|")
    base = None
    for bf16, cl in ((False, False), (False, True), (True, False), (True, True)):
        sps = bench_step(CONFIGS["small"], 64, 8, bf16, cl, args.repeats)
        base = base or sps
        name = f"{'bf16' if bf16 else 'fp32'}, {'channels_last' if cl else 'contiguous'}"
        picked = "←" if cl and (auto == "bf16") == bf16 else ""
        print(f"| {name} | {sps:.2f} | {sps / base:.2f}× | {picked} |")
    print(f"\n| train step, {auto}, channels_last, 64² × 8 | parameters | samples/s |")
    print("|---|---|---|")
    for width in ((16, 16, 16), (12, 12, 12), (8, 8, 8)):
        params = sum(p.numel() for p in MSSNet(*width).parameters())
        sps = bench_step(width, 64, 8, auto == "bf16", True, args.repeats)
        print(f"| {width} | {params / 1e6:.2f} M | {sps:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
