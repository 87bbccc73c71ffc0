"""Unsharp masking, the classical baseline: out = x + amount · (x − Gaussian_σ(x)).

Its σ and amount are tuned per evaluation degradation on crops of the *training* photos (never
the evaluation photos) by grid search for the best PSNR; `python -m models.training.unsharp` re-tunes and
writes models/weights/unsharp.json, which `models.training.evaluate` reads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from common.files import atomic_write_text, check_writable
from models.errors import ModelError
from models.training.degrade import blur, eval_degradation, gaussian_kernels, quantize_8bit

PARAMS_PATH = Path(__file__).resolve().parent.parent / "weights" / "unsharp.json"
SIGMAS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
AMOUNTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def unsharp_mask(x: torch.Tensor, sigma: float, amount: float) -> torch.Tensor:
    """Sharpen a batch (B,3,H,W) in [0,1]; the result is clipped to [0,1]."""
    size = 2 * int(3 * sigma + 0.5) + 1
    k = gaussian_kernels(sigma, sigma, 0.0, size)
    return (x + amount * (x - blur(x, k))).clamp(0, 1)


def tune(sharp: torch.Tensor, kinds=("x2", "x4", "motion")) -> dict[str, dict[str, float]]:
    """Grid-search σ and amount per degradation kind for the best mean PSNR on `sharp` crops."""
    best = {}
    for kind in kinds:
        degraded = eval_degradation(sharp, kind)
        scores = {}
        for sigma in SIGMAS:
            for amount in AMOUNTS:
                out = quantize_8bit(unsharp_mask(degraded, sigma, amount))
                mse = ((out - sharp) ** 2).mean((1, 2, 3)).clamp_min(1e-10)
                scores[(sigma, amount)] = float((-10 * mse.log10()).mean())
        (sigma, amount), score = max(scores.items(), key=lambda kv: kv[1])
        best[kind] = {
            "sigma": sigma,
            "amount": amount,
            "train_psnr": round(score, 3),
            "train_psnr_input": round(scores[(SIGMAS[0], 0.0)], 3),
        }
    return best


def load_params(path: Path = PARAMS_PATH) -> dict[str, dict[str, float]]:
    try:
        return json.loads(Path(path).read_text())["params"]
    except FileNotFoundError:
        raise ModelError(
            f"unsharp-masking parameters missing ({path}): run python -m models.training.unsharp"
        ) from None


def main(argv=None) -> int:
    from models.training.data import default_photo_dir, detailed_crops, find_photos, load_photo_pool

    ap = argparse.ArgumentParser(prog="python -m models.training.unsharp", description=__doc__.split("\n")[0])
    ap.add_argument("--photos", default=None, help="training photo folder (default: as explainer train)")
    ap.add_argument("--crops", type=int, default=48)
    ap.add_argument("--crop", type=int, default=192)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-o", "--output", default=str(PARAMS_PATH))
    ap.add_argument("--force", action="store_true", help="overwrite an existing output file")
    args = ap.parse_args(argv)
    out = Path(args.output)
    if out.exists() and not args.force:
        raise ModelError(f"{out} exists: pass --force to overwrite it")
    check_writable(out)  # before the tuning, not after it
    pool = load_photo_pool(find_photos(args.photos or default_photo_dir()), max_side=1024)
    g = torch.Generator().manual_seed(args.seed)
    sharp = detailed_crops(pool, args.crops, args.crop, g, threshold=0.03)
    params = tune(sharp)
    atomic_write_text(
        out,
        json.dumps(
            {
                "tuned_on": f"{args.crops} detail-rich {args.crop}-px crops of the "
                f"training photos (seed {args.seed})",
                "params": params,
            },
            indent=2,
        )
        + "\n",
    )
    for kind, p in params.items():
        print(
            f"{kind}: sigma {p['sigma']} amount {p['amount']}  PSNR {p['train_psnr_input']} -> {p['train_psnr']}"
        )
    return 0


if __name__ == "__main__":
    from models.errors import run_module_cli

    run_module_cli(main, "unsharp")
