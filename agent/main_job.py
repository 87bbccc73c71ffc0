"""`python -m agent.main_job` (the README's main command, `./run main`).

1. Prints the founding question's grounded answer in the terminal.
2. Runs the live demo on a bundled picture: skimage's chelsea (the cat), shrunk ×2 and enlarged
   back with bicubic, restored by MSSNet and scored against the original; writes a report with
   its images to out/ (a new folder each run). Without installed weights it says so and stops
   after the answer.
"""

from __future__ import annotations

import sys
from pathlib import Path

FOUNDING_QUESTION = (
    "I upscaled a low-res animal picture and the fur returned naturally. How does AI "
    "streamline its steps to keep high-frequency detail with so few sampling rounds?"
)


def _parse(argv, prog: str):
    from common.cli import OneLineErrorParser, add_device_options, add_weights_option

    p = OneLineErrorParser(prog=prog, description=__doc__.splitlines()[0])
    add_weights_option(p)
    p.add_argument(
        "-o",
        "--output",
        "--out",
        dest="out",
        metavar="DIR",
        default="out",
        help="where the report folder goes (default out/)",
    )
    add_device_options(p)
    return p.parse_args(argv)


def main(argv: list[str] | None = None, prog: str = "python -m agent.main_job") -> int:
    args = _parse(argv, prog)
    from common.files import check_writable

    check_writable(Path(args.out), folder=True)  # before the answer and the model, not after
    from agent.compose import answer_question, load_default_kb
    from agent.console import make_console
    from agent.render import demo_renderable, render_terminal

    console = make_console()
    kb = load_default_kb()
    answer = answer_question(FOUNDING_QUESTION, kb=kb)
    render_terminal(answer, console, kb)

    console.print()
    console.rule("Live demo: MSSNet on a bundled cat photo (skimage chelsea)")
    from models.errors import ModelError

    try:
        import models

        models.load_model(args.weights)  # fail early, before any folder is made, if none are installed
    except ModelError as exc:
        console.print(f"The live demo needs MSSNet weights, and none could be loaded: {exc}", markup=False)
        console.print("(The answer above does not need them; only the demo does.)", markup=False)
        return 0

    import numpy as np
    from skimage import data

    from agent.demo.folders import fresh_dir
    from agent.demo.run import run_demo
    from agent.demo.trigger import asks_about_streamlining
    from agent.report import write_report

    cat = np.asarray(data.chelsea(), dtype=np.float32) / 255.0
    progress = make_console(sys.stderr) if sys.stderr.isatty() else None
    with fresh_dir(Path(args.out), "founding-report") as folder:  # no half-made report on Ctrl-C
        demo = run_demo(
            cat,
            folder / "assets",
            weights=args.weights,
            self_test=True,
            device=args.device,
            precision=args.precision,
            console=progress,
            image_name="chelsea.png (skimage)",
            streamline=asks_about_streamlining(answer),
        )
        report = write_report(FOUNDING_QUESTION, folder / "report.md", kb=kb, demo=demo)
    console.print(demo_renderable(demo, console))
    console.print(f"Report with images: {report}", markup=False)
    return 0


if __name__ == "__main__":
    from common.errors import exit_code

    sys.exit(exit_code(main, "python -m agent.main_job"))
