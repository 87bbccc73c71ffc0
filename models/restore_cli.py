"""`explainer restore IN [IN ...] [-o OUT] ...`: restore photos with MSSNet on this machine.

Only argparse at import time; torch and the engine load when the verb runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from common.cli import add_device_options, add_weights_option, non_negative_int
from common.progress import duration, time_left_column
from common.textsafe import clean_line  # file names are shown without terminal escapes
from models.formats import DEFAULT_MAX_PIXELS, ESTIMATE_FROM_PIXELS, FAST_PNG, WEIGHTS_TASKS

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "restore",
        help="restore (deblur) a photo with MSSNet",
        description="Restore photos with MSSNet: optional bicubic enlargement first, then a "
        "single feed-forward pass through the six coarse-to-fine stages.",
    )
    p.add_argument(
        "inputs",
        metavar="IN",
        nargs="+",
        help="photo(s) to restore (PNG, JPEG, WebP, TIFF, BMP, ...), or folders of them",
    )
    p.add_argument(
        "-o",
        "--output",
        "--out",
        dest="output",
        metavar="OUT",
        help="the result's file, or a folder for NAME_restored.png files (with several "
        "photos OUT is a folder, created if missing; default: next to each photo)",
    )
    p.add_argument(
        "--upscale",
        type=int,
        choices=(1, 2, 3, 4),
        default=1,
        help="enlarge by this factor (bicubic) before restoring detail (default 1)",
    )
    add_weights_option(p, "the bundled weights for --task")
    p.add_argument(
        "--task",
        choices=WEIGHTS_TASKS,
        help="what the photo suffers from: enlarge (softness of an enlarged photo) or deblur "
        "(motion blur and noise); picks the bundled weights trained for it (default: --upscale N>1 "
        "means enlarge, else the photo decides: a directional blur is deblur, a small photo enlarge); "
        "--weights overrides it",
    )
    p.add_argument(
        "--stages",
        type=int,
        choices=range(1, 7),
        default=6,
        metavar="1..6",
        help="stop after this many of the six stages (default 6, the full network)",
    )
    add_device_options(p)
    p.add_argument(
        "--png-level",
        type=int,
        choices=range(10),
        default=FAST_PNG,
        metavar="0..9",
        help=f"PNG compression: {FAST_PNG} (default) saves fast, 9 makes the smallest files (slower)",
    )
    p.add_argument(
        "--tile",
        type=non_negative_int,
        metavar="N",
        help="tile size in pixels (default: from free memory; 0 = whole image)",
    )
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.add_argument(
        "--max-pixels",
        type=non_negative_int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help=f"refuse larger images (decompression-bomb guard; default {DEFAULT_MAX_PIXELS:,}, 0 = no limit)",
    )
    p.set_defaults(run=run)
    return p


def default_output(input_path: Path) -> Path:
    return input_path.with_name(input_path.stem + "_restored.png")


def expand_folders(inputs: list[Path]) -> list[Path]:
    """A folder stands for the photos directly inside it, by name (not its subfolders, nor its
    earlier results, *_restored.png)."""
    from models.errors import ModelError
    from models.formats import PHOTO_SUFFIXES

    out: list[Path] = []
    for src in inputs:
        if not src.is_dir():
            out.append(src)
            continue
        photos = sorted(
            p
            for p in src.iterdir()
            if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES and not p.stem.endswith("_restored")
        )
        if not photos:
            raise ModelError(f"no photos in {src} (looked for {', '.join(PHOTO_SUFFIXES)})")
        out.extend(photos)
    return out


def plan_outputs(
    inputs: list[Path], output: Path | None, force: bool, output_is_folder: bool = False
) -> list[tuple[Path, Path]]:
    """Where each photo's result goes (folders expanded), checked before any work: every input exists, no two results
    share a name, no result replaces its photo, each can be written (known extension, folder) and
    none exists unless `force`."""
    from models.errors import ModelError
    from models.imageio import require_file
    from models.imagesave import check_output_path

    from_folder = any(src.is_dir() for src in inputs)
    inputs = expand_folders(inputs)
    for src in inputs:
        require_file(src)
    into_folder = output is not None and (
        len(inputs) > 1 or from_folder or output_is_folder or output.is_dir()
    )
    if output is not None and into_folder:
        if output.exists() and not output.is_dir():
            raise ModelError(f"{output} is a file, not a folder: with several photos -o names a folder")
        plan = [(src, output / default_output(src).name) for src in inputs]
    elif output is not None:
        plan = [(inputs[0], output)]
    else:
        plan = [(src, default_output(src)) for src in inputs]
    seen: dict[Path, Path] = {}
    for src, out in plan:
        if out.resolve() in seen:
            raise ModelError(
                f"{seen[out.resolve()]} and {src} would both be written to {out}; "
                "restore them into different folders"
            )
        seen[out.resolve()] = src
        if out.resolve() == src.resolve():
            raise ModelError("the output would replace the input photo; choose another -o OUT")
        check_output_path(out, force, folder_will_exist=into_folder)
    return plan


def run(args) -> int:
    from common.files import prepare_folder
    from models.errors import ModelError

    inputs = [Path(p) for p in args.inputs]
    output = Path(args.output) if args.output else None
    # "-o results/" names a folder even before it exists
    output_is_folder = bool(args.output) and args.output.endswith(("/", os.sep))
    plan = plan_outputs(inputs, output, args.force, output_is_folder)
    prepare_folder(plan[0][1].parent)  # the output-folder rule: only a folder -o names may be new
    _import_engine()  # after the checks above: a wrong path is refused without waiting for torch

    models: dict = {}  # one load per weights file the rule picks
    if args.weights is not None:  # a wrong --weights fails before any photo, not once per photo
        from models.checkpoints import load_model

        models[args.weights] = load_model(args.weights)
    if len(plan) == 1:
        _restore_one(models, *plan[0], args)
        _say_wall_time(len(plan))
        return 0
    failed = 0
    for src, out in plan:
        try:
            _restore_one(models, src, out, args)
        except ModelError as exc:  # one unreadable photo does not stop the others
            failed += 1
            print(f"explainer: error: {clean_line(str(exc))}", file=sys.stderr)
    _say_wall_time(len(plan))
    if failed:
        raise ModelError(f"{failed} of {len(plan)} photos could not be restored (see above)")
    return 0


def _import_engine() -> None:
    """Import torch and the engine with the cycle collector paused: the import makes a few hundred
    thousand objects, and every full collection it sets off scans all of them again (measured
    0.1-0.2 s of the 1.1-1.5 s import). Collection resumes after it."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        import models.checkpoints  # noqa: F401 - torch
        import models.engine  # noqa: F401
    finally:
        if was_enabled:
            gc.enable()


def _say_wall_time(photos: int) -> None:
    import time

    from common.cli import STARTED

    what = "the photo" if photos == 1 else f"{photos} photos"
    print(
        f"wall time {time.perf_counter() - STARTED:.1f}s for {what} (start-up, weights, reading, restoring, saving)"
    )


def _restore_one(models: dict, src: Path, out: Path, args) -> None:
    import time

    from models.checkpoints import load_model
    from models.engine import restore
    from models.imageio import load_image
    from models.imagesave import output_format, save_image, what_is_not_kept
    from models.weights_choice import choose_weights

    loaded = load_image(src, max_pixels=args.max_pixels or None)
    for note in what_is_not_kept(loaded, output_format(out)):  # said before the long part
        print(f"explainer: note: {clean_line(src.name)}: {note}", file=sys.stderr)
    choice = choose_weights(args.weights, args.task, args.upscale, loaded.rgb)
    if choice.note:
        print(f"explainer: note: {choice.note}", file=sys.stderr)
    if choice.weights not in models:
        models[choice.weights] = load_model(choice.weights)
    model = models[choice.weights]
    print(f"{clean_line(src.name)}: weights {model.info.name}, because {choice.reason}")
    estimate = _announce_estimate(model, src, loaded.size, args)
    with _TileProgress(src.name, estimate) as progress:
        result = restore(
            loaded,
            model,
            upscale=args.upscale,
            stages=args.stages,
            device=args.device,
            precision=args.precision,
            tile=args.tile,
            progress=progress,
            max_pixels=args.max_pixels or None,
        )
    t0 = time.perf_counter()
    save_image(loaded, result.rgb, out, force=args.force, png_level=args.png_level)
    print(_summary(src, out, result, time.perf_counter() - t0))


ANNOUNCE_FROM_SECONDS = 5.0


def _announce_estimate(model, src: Path, size: tuple[int, int], args) -> float | None:
    """For a big picture, say before starting how long it should take (from two small timed
    patches, or their calibration remembered from an earlier run on this machine)."""
    from models.engine import estimate

    w, h = size
    if w * h * args.upscale**2 < ESTIMATE_FROM_PIXELS:
        return None
    found = estimate(model, size, args.upscale, args.stages, args.device, args.precision)
    if found.seconds >= ANNOUNCE_FROM_SECONDS:
        print(
            f"explainer: note: {clean_line(src.name)}: {w * args.upscale}x{h * args.upscale} output; "
            f"about {duration(found.seconds)} on this machine ({found.how}); Ctrl-C stops it",
            file=sys.stderr,
        )
    return found.seconds


def _summary(src: Path, out: Path, result, save_seconds: float) -> str:
    s, t, info = result.stats, result.timings, result.stats.weights
    w, h = s.output_size
    sha = (info.sha256 or "")[:12]
    tiles = s.tile_text
    return (
        f"restored {clean_line(str(src))} -> {clean_line(str(out))} "
        f"({w}x{h}, x{s.upscale}, {s.stages} stages; weights "
        f"{info.name}{' ' + sha if sha else ''} {info.config_name or info.config}; {s.device} "
        f"{s.precision}, {tiles}; restore {t['total']:.1f}s, save {save_seconds:.1f}s)"
    )


class _TileProgress:
    """A rich progress bar over tiles on stderr (plain and silent when stderr is not a terminal)."""

    def __init__(self, name: str = "", estimate: float | None = None):
        self.name = name
        self.estimate = estimate
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self):
        if not _may_be_a_terminal():
            return self  # rich would draw nothing: not even imported
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        # a file name is shown as it is: no markup, no format fields, no control characters
        name = clean_line(self.name).replace("{", "{{").replace("}", "}}")
        label = f"restoring {name}" if name else "restoring"
        progress = Progress(
            TextColumn(label, markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("tiles"),
            TimeElapsedColumn(),
            time_left_column(self.estimate),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.progress = progress.__enter__()
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task("restore", total=total)
        self.progress.update(self.task, completed=done, total=total)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc) if self.progress is not None else None


def _may_be_a_terminal() -> bool:
    """False where rich's Console would find no terminal for sure: stderr is not one and neither
    TTY_COMPATIBLE nor FORCE_COLOR (which rich obeys) is set."""
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return True
    try:
        return sys.stderr.isatty()
    except ValueError:  # a closed stream
        return False
