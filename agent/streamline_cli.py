"""`explainer streamline IMAGE|FOLDER ...`: EASIER on MSSNet — rank the shared PReLU's 87 sites by
on/off entropy, linearise the lowest first, measure what it costs and saves.

Only argparse at import time; torch loads when the verb runs. It lives in agent/ because its
--self-test uses the training package's evaluation degradation, which models' inference modules
never import.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common.cli import add_device_options, add_weights_option, non_negative_int

DEFAULT_CROP = 256


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "streamline",
        help="EASIER on MSSNet: which PReLU sites are nearly linear, and what removing them costs",
        description="Run MSSNet on a picture (or a folder of pictures), record the on/off entropy of every site "
        "of its shared PReLU (EASIER's score), rank the sites and linearise the k lowest-entropy ones "
        "(PReLU -> identity there only) for k = 0, 1, 2, 4, ... 87, measuring PSNR and time.",
    )
    p.add_argument("input", metavar="IMAGE|FOLDER", help="a picture, or a folder of pictures")
    add_weights_option(p)
    ref = p.add_mutually_exclusive_group()
    ref.add_argument("--reference", metavar="SHARP", help="the sharp original of IMAGE (same size), for PSNR")
    ref.add_argument(
        "--self-test",
        action="store_true",
        help="shrink x2 and enlarge back with bicubic first (the weights' evaluation degradation) "
        "and score against the original",
    )
    p.add_argument(
        "--crop",
        type=non_negative_int,
        default=DEFAULT_CROP,
        metavar="N",
        help=f"measure on the centre N×N crop of each picture (default {DEFAULT_CROP}; 0 = whole picture, slow)",
    )
    add_device_options(p)
    p.add_argument(
        "--format",
        choices=("terminal", "markdown", "json"),
        default="terminal",
        help="terminal (default: tables and a reading), markdown or json",
    )
    p.add_argument("--plot", metavar="PATH.png", help="also write the ranking and sweep plot here (PNG)")
    p.add_argument("--force", action="store_true", help="replace an existing --plot file")
    p.set_defaults(run=run)
    return p


def _pictures(source: Path) -> list[Path]:
    from models.errors import ModelError
    from models.restore_cli import expand_folders

    if not source.exists():
        raise ModelError(f"no such image file: {source}")
    return expand_folders([source])


def _check_plot_path(plot: Path | None, force: bool) -> None:
    """Before any work: the plot's name, folder and (unless --force) absence."""
    from models.errors import ModelError

    if plot is None:
        return
    if plot.suffix.lower() != ".png":
        raise ModelError(f"--plot must name a .png file, got {plot}")
    if plot.exists() and not force:
        raise ModelError(f"{plot} already exists (use --force to replace it)")
    if not plot.parent.is_dir():
        raise ModelError(f"output folder does not exist: {plot.parent}")


def run(args) -> int:
    from common.textsafe import clean_line as printable
    from models.errors import ModelError

    source = Path(args.input)
    paths = _pictures(source)
    if args.reference and (len(paths) > 1 or source.is_dir()):
        raise ModelError("--reference needs one IMAGE (for a folder use --self-test, or no reference)")
    plot = Path(args.plot) if args.plot else None
    _check_plot_path(plot, args.force)

    from models.checkpoints import load_model
    from models.imageio import load_image
    from models.streamline import centre_crop, plot_streamline, streamline
    from models.training.degrade import eval_degradation_rgb

    pictures, references = [], []
    reference = load_image(Path(args.reference)).rgb if args.reference else None
    for path in paths:
        try:
            rgb = load_image(path).rgb
        except ModelError as exc:
            print(f"explainer: error: {printable(str(exc))} (skipped)", file=sys.stderr)
            continue
        if reference is not None and reference.shape != rgb.shape:
            raise ModelError(
                f"the reference is {reference.shape[1]}×{reference.shape[0]} but {printable(path.name)} "
                f"is {rgb.shape[1]}×{rgb.shape[0]}: they must be the same size"
            )
        ref = reference if reference is not None else (rgb if args.self_test else None)
        if args.self_test:
            rgb = eval_degradation_rgb(rgb, "x2")
        pictures.append(centre_crop(rgb, args.crop))
        references.append(centre_crop(ref, args.crop) if ref is not None else None)
    if not pictures:
        raise ModelError("no picture could be read")

    model = load_model(args.weights)
    kind = "self-test" if args.self_test else ("reference" if reference is not None else None)
    result = streamline(
        model,
        pictures,
        references,
        device=args.device,
        precision=args.precision,
        reference_kind=kind,
        crop=args.crop or None,
    )
    weights = model.info
    if plot is not None:
        tmp = plot.with_name(plot.name + ".tmp")
        plot_streamline(result, tmp)
        tmp.replace(plot)
    scored = {
        "self-test": "; PSNR vs the original (self-test: shrunk ×2 and enlarged back with bicubic)",
        None: "; no reference: PSNR is against the unchanged network's output",
    }
    scored["reference"] = f"; PSNR vs {printable(Path(args.reference).name)}" if args.reference else ""
    scope = (
        f"{len(pictures)} picture{'s' if len(pictures) != 1 else ''}"
        + (f", centre crop ≤ {args.crop}×{args.crop} px" if args.crop else ", whole pictures")
        + f", {result.device} {result.precision}"
        + scored[kind]
    )
    if args.format == "json":
        data = {
            "weights": weights.as_dict(),
            "weights_line": weights.provenance_line(),
            "scope": scope,
            "plot": str(plot) if plot else None,
            **result.to_dict(),
        }
        print(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))
    elif args.format == "markdown":
        print(markdown(result, weights.provenance_line(), scope, plot.name if plot else None))
    else:
        terminal(result, weights.provenance_line(), scope, plot)
    return 0


# -- rendering: the demo's table builders (agent.demo.tables), one set of columns and rules --------


def markdown(result, weights_line: str, scope: str, plot_link: str | None) -> str:
    from agent.demo.tables import markdown_table, streamline_sites_table, streamline_sweep_table
    from agent.render import markdown_escape

    parts = [
        "## EASIER on MSSNet: which PReLU sites are nearly linear",
        "",
        f"*{markdown_escape(weights_line)}*",
    ]
    parts += ["", f"Measured on {markdown_escape(scope)}.", ""]
    for table in (streamline_sites_table(result), streamline_sweep_table(result)):
        parts += [f"### {table.title}", "", markdown_table(table, markdown_escape), ""]
    if plot_link:
        parts += [f"![EASIER ranking and sweep]({plot_link})", ""]
    parts += [f"- {markdown_escape(line)}" for line in result.summary()]
    return "\n".join(parts) + "\n"


def terminal(result, weights_line: str, scope: str, plot: Path | None) -> None:
    from rich.console import Console

    from agent.demo.tables import streamline_sites_table, streamline_sweep_table
    from agent.demo.terminal import rich_table

    console = Console(highlight=False)
    console.print("[bold]EASIER on MSSNet[/bold]: which of the shared PReLU's sites are nearly linear")
    console.print(weights_line, markup=False)
    console.print(f"Measured on {scope}.", markup=False)
    for table in (streamline_sites_table(result), streamline_sweep_table(result)):
        console.print(rich_table(table))
        for note in table.notes:
            console.print(note, markup=False, style="dim")
    for line in result.summary():
        console.print(f"• {line}", markup=False)
    if plot is not None:
        console.print(f"plot: {plot}", markup=False)
