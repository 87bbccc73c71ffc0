"""`explainer restore IN [-o OUT] ...`: restore one photo with MSSNet on this machine.

Only argparse at import time; torch and the engine load when the verb runs.
"""
from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_MAX_PIXELS = 100_000_000


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "restore", help="restore (deblur) a photo with MSSNet",
        description="Restore a photo with MSSNet: optional bicubic enlargement first, then a "
                    "single feed-forward pass through the six coarse-to-fine stages.")
    p.add_argument("input", metavar="IN", help="photo to restore (PNG, JPEG, WebP, TIFF, BMP, ...)")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="where to write the result (default: IN's name + _restored.png next to it)")
    p.add_argument("--upscale", type=int, choices=(1, 2, 3, 4), default=1,
                   help="enlarge by this factor (bicubic) before restoring detail (default 1)")
    p.add_argument("--weights", metavar="NAME|PATH",
                   help="bundled weights name, our .safetensors, or an official .pt/.pth checkpoint")
    p.add_argument("--stages", type=int, choices=range(1, 7), default=6, metavar="1..6",
                   help="stop after this many of the six stages (default 6, the full network)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto")
    p.add_argument("--tile", type=_non_negative, metavar="N",
                   help="tile size in pixels (default: from free memory; 0 = whole image)")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.add_argument("--max-pixels", type=_non_negative, default=DEFAULT_MAX_PIXELS, metavar="N",
                   help=f"refuse larger images (decompression-bomb guard; default {DEFAULT_MAX_PIXELS:,}, 0 = no limit)")
    p.set_defaults(run=run)
    return p


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def default_output(input_path: Path) -> Path:
    return input_path.with_name(input_path.stem + "_restored.png")


def run(args) -> int:
    from models.errors import ModelError

    src = Path(args.input)
    if not src.is_file():
        raise ModelError(f"image not found: {src}")
    out = Path(args.output) if args.output else default_output(src)
    if out.exists() and not args.force:
        raise ModelError(f"{out} already exists; pass --force to overwrite it")
    if out.resolve() == src.resolve():
        raise ModelError("the output would replace the input photo; choose another -o OUT")

    from models.checkpoints import load_model
    from models.engine import restore
    from models.imageio import load_image, save_image

    model = load_model(args.weights)
    loaded = load_image(src, max_pixels=args.max_pixels or None)
    with _TileProgress() as progress:
        result = restore(loaded, model, upscale=args.upscale, stages=args.stages, device=args.device,
                         precision=args.precision, tile=args.tile, progress=progress,
                         max_pixels=args.max_pixels or None)
    save_image(loaded, result.rgb, out, force=args.force)
    print(_summary(src, out, result))
    return 0


def _summary(src: Path, out: Path, result) -> str:
    s, t = result.stats, result.timings
    w, h = s["output_size"]
    sha = (s.get("weights_sha256") or "")[:12]
    tiles = f"{s['n_tiles']} tiles of {s['tile']}px" if s["tile"] else "whole image"
    return (f"restored {src} -> {out} ({w}x{h}, x{s['upscale']}, {s['stages']} stages; weights "
            f"{s['weights']}{' ' + sha if sha else ''} {s['config_name'] or s['config']}; {s['device']} "
            f"{s['precision']}, {tiles}; {t['total']:.1f}s)")


class _TileProgress:
    """A rich progress bar over tiles on stderr (plain and silent when stderr is not a terminal)."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        self.progress = Progress(TextColumn("restoring"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("tiles"), TimeElapsedColumn(), console=console,
                                 transient=True, disable=not console.is_terminal)
        self.progress.__enter__()
        self.task = None
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.task is None:
            self.task = self.progress.add_task("restore", total=total)
        self.progress.update(self.task, completed=done, total=total)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)
