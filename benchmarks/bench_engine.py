"""Engine speed and memory on this machine (a benchmark that prints a table, not a timed test).

    python -m benchmarks.bench_engine [--configs small base] [--sizes 512x512 720x1280]
                                      [--threads N] [--repeats 2] [--skip-rss] [--skip-plain]
    python -m benchmarks.bench_engine --activation-memory [--configs ...]

For each config and size: seconds for the whole `restore()` call on a photo of that size (and
its ratio to the model forward: what tiling, padding and conversion add; goal <= 1.1), then
for the model forward on the engine path (channels_last + autocast in the precision `auto`
picks + heap reuse + the inference shortcuts) and on a plain eager fp32 NCHW forward in the
official code's operation order (`official_twin()`: built without the shortcuts), the
GFLOP/s each achieves (conv MACs counted with hooks, x2) against the fp32 and bf16 matrix-product
peaks measured in the same run, and the speed-up. Then the peak RSS of `restore()` on a
4000x3000 photo with `small` (auto tiles), in a fresh process. With CUDA, also base at 720x1280
on the GPU. Weights are random (seeded): speed does not depend on their values. The machine is
shared, so compare the ratios measured within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time

import torch
from PIL import Image
from skimage import data

from models import tiling
from models.cpu_memory import reuse_freed_memory
from models.engine import restore
from models.mssnet import CONFIGS, official_twin, seeded_model
from models.precision import autocast, resolve_device, resolve_precision

TARGETS = (
    "targets: >= 3x the plain fp32 forward; small at 720x1280 <= 4 s on this 2-core CPU; "
    "<= 3 GB peak RSS for a 4000x3000 photo with small; base at 720x1280 <= 25 ms on an H100"
)


def matmul_peak(dtype: torch.dtype, device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    best = float("inf")
    for _ in range(repeats + 1):
        _sync(device)
        t = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def conv_macs(model, h: int, w: int) -> int:
    """Multiply-accumulates of every convolution in one eval forward (meta tensors: no compute)."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1]
        total += out.numel() * (mod.in_channels // mod.groups) * k

    with torch.device("meta"):
        meta = type(model)(*model.config, shortcuts=model.shortcuts)
    handles = [m.register_forward_hook(hook) for m in meta.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        meta(torch.empty(1, 3, h, w, device="meta"))
    for handle in handles:
        handle.remove()
    return total


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_forward(model, x, device, precision: str, channels_last: bool, repeats: int) -> float:
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=fmt)
    x = x.to(device).contiguous(memory_format=fmt)
    # the engine path: what restore() sets up around the model, entered per image as restore()
    # does (so the page faults of a fresh heap are counted); plain: the official code's path
    # (pass a model built without the shortcuts, see official_twin)
    engine = channels_last and device.type == "cpu"
    best = float("inf")
    with torch.inference_mode() if channels_last else torch.no_grad(), autocast(device, precision):
        model(x[..., :64, :64])  # warm-up: oneDNN/cuDNN primitive creation
        for _ in range(repeats):
            _sync(device)
            t = time.perf_counter()
            with reuse_freed_memory() if engine else contextlib.nullcontext():
                model(x)
            _sync(device)
            best = min(best, time.perf_counter() - t)
    return best


def time_restore(model, h: int, w: int, repeats: int) -> tuple[float, str]:
    """The whole user-facing call on a real photo of that size: conversion, padding, tiles,
    forward, clipping, PIL output; and how it was tiled."""
    photo = Image.fromarray(data.chelsea()).resize((w, h), Image.Resampling.BICUBIC)
    restore(photo.crop((0, 0, 64, 64)), model)
    best, tiles = float("inf"), ""
    for _ in range(repeats):
        t = time.perf_counter()
        result = restore(photo, model)
        best = min(best, time.perf_counter() - t)
        tiles = result.stats.tile_text
    return best, tiles


def peak_rss_4000x3000(threads: int) -> dict:
    """restore() on a 4000x3000 photo with small in a fresh process; its own peak RSS (VmHWM,
    which exec resets; ru_maxrss would carry over this parent's RSS)."""
    code = f"""
import json, time, numpy as np, torch
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
torch.set_num_threads({threads})
from PIL import Image
from skimage import data
from models.engine import restore
from models.mssnet import seeded_model
photo = Image.fromarray(data.chelsea()).resize((4000, 3000), Image.Resampling.BICUBIC)
model = seeded_model("small")
before = hwm()
t = time.perf_counter()
res = restore(photo, model)
print(json.dumps(dict(seconds=time.perf_counter() - t, before=before,
    peak=hwm(), tiles=res.stats.tile_text,
    n_tiles=res.stats.n_tiles, precision=res.stats.precision, size=res.image.size)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def activation_bytes_per_pixel(config, precision: str, threads: int) -> float:
    """Growth of the peak RSS (VmHWM) of one CPU forward per input pixel, between a 256x512 and a
    512x768 input, each in a fresh process: what tiling.bytes_per_pixel must cover."""
    code = f"""
import json, sys, torch
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
torch.set_num_threads({threads})
from models import tiling
from models.cpu_memory import reuse_freed_memory
from models.mssnet import MSSNet
from models.precision import autocast
h, w = int(sys.argv[1]), int(sys.argv[2])
model = MSSNet(*{tuple(config)}).eval().to(memory_format=torch.channels_last)
x = torch.rand(1, 3, h, w).contiguous(memory_format=torch.channels_last)
with torch.inference_mode(), autocast(torch.device("cpu"), "{precision}"):
    with reuse_freed_memory():
        model(x[..., :64, :64])
    before = hwm()
    with reuse_freed_memory():
        model(x)
print(json.dumps(hwm() - before))
"""
    peaks = []
    for h, w in ((256, 512), (512, 768)):
        out = subprocess.run(
            [sys.executable, "-c", code, str(h), str(w)], capture_output=True, text=True, check=True
        )
        peaks.append((h * w, json.loads(out.stdout.strip().splitlines()[-1])))
    (p1, m1), (p2, m2) = peaks
    return (m2 - m1) / (p2 - p1)


def print_activation_memory(configs, threads: int) -> None:
    print("| config | precision | measured bytes/px | tiling.bytes_per_pixel | margin |")
    print("|---|---|---|---|---|")
    for name in configs:
        config = CONFIGS[name]
        for precision in ("fp32", "bf16"):
            measured = activation_bytes_per_pixel(config, precision, threads)
            model = tiling.bytes_per_pixel(config, precision)
            print(
                f"| {name} {config} | {precision} | {measured:.0f} | {model:.0f} | {model / measured - 1:+.0%} |",
                flush=True,
            )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=["small", "base"], choices=sorted(CONFIGS))
    ap.add_argument("--sizes", nargs="+", default=["512x512", "720x1280"])
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--skip-plain", action="store_true", help="skip the (slow) plain fp32 baseline")
    ap.add_argument("--skip-table", action="store_true", help="only the peak-RSS (and GPU) part")
    ap.add_argument(
        "--activation-memory",
        action="store_true",
        help="only the measured activation bytes per pixel against the tiling's memory model",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.activation_memory:
        print_activation_memory(args.configs, args.threads)
        return 0
    cpu = torch.device("cpu")
    prec = resolve_precision("auto", cpu)

    peak32 = matmul_peak(torch.float32, cpu)
    peak16 = matmul_peak(torch.bfloat16, cpu) if prec == "bf16" else float("nan")
    print(f"# bench_engine  torch {torch.__version__}  threads {args.threads}  engine precision {prec}")
    print(f"# matmul peaks this run: fp32 {peak32:.0f} GFLOP/s, bf16 {peak16:.0f} GFLOP/s")
    print(f"# {TARGETS}")
    header = (
        "| config | size | GMACs | restore() s | engine s | restore()/forward | tiles | engine GFLOP/s "
        "| % of bf16 peak | plain fp32 s | plain GFLOP/s | % of fp32 peak | speed-up |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for name in [] if args.skip_table else args.configs:
        model = seeded_model(name).model
        for size in args.sizes:
            h, w = (int(v) for v in size.lower().split("x"))
            x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
            macs = conv_macs(model, h, w)
            gflop = 2 * macs / 1e9
            fast = time_forward(model, x, cpu, prec, True, args.repeats)
            whole, tiles = time_restore(model, h, w, args.repeats)
            ref_peak = peak16 if prec == "bf16" else peak32
            row = (
                f"| {name} | {h}x{w} | {macs / 1e9:.1f} | {whole:.2f} | {fast:.2f} | {whole / fast:.2f} | "
                f"{tiles} | {gflop / fast:.0f} | "
                f"{100 * gflop / fast / ref_peak:.0f}% |"
            )
            if args.skip_plain:
                row += " - | - | - | - |"
            else:
                official = official_twin(model)
                plain = time_forward(official, x, cpu, "fp32", False, 1)
                plain_gflop = 2 * conv_macs(official, h, w) / 1e9  # its 1x1 convs run after the x2 resizes
                row += (
                    f" {plain:.2f} | {plain_gflop / plain:.0f} | {100 * plain_gflop / plain / peak32:.0f}% | "
                    f"{plain / fast:.1f}x |"
                )
            print(row, flush=True)

    if not args.skip_rss:
        r = peak_rss_4000x3000(args.threads)
        print(
            f"\npeak RSS, restore() of a 4000x3000 photo with small ({r['precision']}, "
            f"{r['tiles']}): {r['peak'] / 2**30:.2f} GiB "
            f"(process before restore: {r['before'] / 2**30:.2f} GiB), {r['seconds']:.0f} s"
        )

    if torch.cuda.is_available():
        gpu = resolve_device("cuda")
        gprec = resolve_precision("auto", gpu)
        model = seeded_model("base").model
        x = torch.rand(1, 3, 720, 1280)
        fast = time_forward(model, x, gpu, gprec, True, 10)
        plain = time_forward(official_twin(model), x, gpu, "fp32", False, 10)
        print(
            f"\nGPU {torch.cuda.get_device_name(gpu)}: base 720x1280 engine ({gprec}, channels_last) "
            f"{fast * 1e3:.1f} ms, plain fp32 {plain * 1e3:.1f} ms, speed-up {plain / fast:.1f}x"
        )
    else:
        print("\nGPU: no CUDA device in this run (GPU target not measured)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
