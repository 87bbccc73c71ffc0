"""How close restore's up-front time estimate (one timed patch, scaled by pixels) comes to the real
restore on this machine, with the bundled default weights.

    python -m benchmarks.bench_estimate [--sizes 1200x1000 2000x1500] [--device auto]

Prints, per size: the estimate, the measured restore() time and their ratio (1.0 = exact). The
machine may be shared: the ratio is what to compare, and a second run tells the noise.
"""

from __future__ import annotations

import argparse
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1200x1000", "2000x1500"], help="WxH of the test photos")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda")
    args = ap.parse_args(argv)
    from PIL import Image
    from skimage import data

    from models.checkpoints import load_model
    from models.engine import estimate_seconds, restore

    model = load_model(None)
    print(f"{'size':>10} {'estimate s':>11} {'restore s':>10} {'ratio':>6}")
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        photo = Image.fromarray(data.astronaut()).resize((w, h), Image.Resampling.BICUBIC)
        estimate = estimate_seconds(model, (w, h), device=args.device)
        t0 = time.perf_counter()
        restore(photo, model, device=args.device)
        took = time.perf_counter() - t0
        print(f"{size:>10} {estimate:>11.1f} {took:>10.1f} {estimate / took:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
