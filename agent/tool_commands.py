"""`explainer train | evaluate | bench | main`: the maintainers' tools under the one CLI.

Each forwards the rest of its command line to the module that owns it, which keeps its own
options and help (`explainer train --help`); the `python -m` forms stay as aliases.
"""

from __future__ import annotations

import importlib

from common.errors import UserError

TOOLS = {
    "train": ("models.training.train", "train MSSNet (presets, resume, DDP with torchrun, export)"),
    "evaluate": ("models.training.evaluate", "score weights on the evaluation photos (never trained on)"),
    "main": ("agent.main_job", "the founding question's answer, then the live demo on a bundled cat photo"),
}


FORWARDED = (*TOOLS, "bench")


def add_parsers(sub) -> None:
    """Listed in `explainer --help`; agent.cli hands their command lines to run() unparsed."""
    for verb, (_module, summary) in TOOLS.items():
        sub.add_parser(verb, help=summary, add_help=False)
    sub.add_parser("bench", help="run a benchmark from the source checkout's benchmarks/", add_help=False)


def run(verb: str, argv: list[str]) -> int:
    if verb == "bench":
        return _bench(argv)
    return int(importlib.import_module(TOOLS[verb][0]).main(argv, prog=f"explainer {verb}") or 0)


def _bench(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        raise UserError(
            "explainer bench NAME [options]: NAME is one of the files in benchmarks/ "
            "(bench_engine, bench_retrieval, bench_ask_startup, ...)"
        )
    name = argv[0].removeprefix("benchmarks.").removesuffix(".py")
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as exc:
        if exc.name not in ("benchmarks", f"benchmarks.{name}"):
            raise
        raise UserError(
            f"no benchmark {name!r}: benchmarks run from the source checkout "
            "(its benchmarks/ folder), e.g. ./run bench bench_engine"
        ) from None
    return int(module.main(argv[1:]) or 0)
