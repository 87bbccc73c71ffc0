"""`explainer` command line: parses arguments and dispatches to the module that owns each verb.

Heavy modules (torch, embeddings) are imported inside the verbs that need them, so
`explainer ask` starts fast. Every user-facing error is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from common.cli import OneLineErrorParser  # noqa: F401 - re-exported: agent.cli.OneLineErrorParser
from common.errors import EXIT_ABSTAINED, EXIT_INTERRUPTED


def _build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="explainer",
        description="Grounded answers about image-restoration AI, with a live MSSNet demo.",
        epilog=f"Exit codes: 0 done, 2 a problem with the input or an output (one line on stderr), "
        f"{EXIT_ABSTAINED} the sources do not cover the question (ask --fail-on-abstain), "
        f"{EXIT_INTERRUPTED} interrupted (Ctrl-C). 'explainer VERB --help' for each verb.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="say more on stderr: -v warnings and progress notes, -vv debugging detail",
    )
    parser.add_argument("--version", action=_Version, help="show program's version number and exit")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    from agent import commands, streamline_cli, tool_commands  # argument definitions only: no torch here
    from knowledge import kb_cli
    from models import restore_cli

    commands.add_parsers(sub)  # ask, chat, report
    restore_cli.add_parser(sub)  # restore
    streamline_cli.add_parser(sub)  # streamline (EASIER on MSSNet)
    kb_cli.add_parser(sub)  # kb list | show | import
    tool_commands.add_parsers(sub)  # train, evaluate, main, bench
    return parser


class _Version(argparse.Action):
    """--version, with the installed version looked up only when asked (the package metadata
    lookup costs about 50 ms, which every other command would pay)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("restoration-explainer")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "(not installed)"


def main(argv: list[str] | None = None) -> int:
    from common.errors import exit_code

    # the whole run, start-up imports included: a Ctrl-C while the parsers load is "interrupted" too
    code = exit_code(lambda: _run(sys.argv[1:] if argv is None else list(argv)))
    if argv is None:  # the process ends now: a late Ctrl-C cannot undo finished work's exit code
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _lighten_teardown()
    return code


def _lighten_teardown() -> None:
    """The interpreter's teardown runs the cycle collector over every object still alive, several
    times: with torch loaded that took about 0.3 s after the work was done. The run's garbage is
    collected (and finalised) here, once; what is still alive, the modules' own objects, is frozen,
    so the teardown frees it by reference counting without scanning it again and again."""
    import gc

    gc.collect()
    gc.freeze()


EMBEDDING_VERBS = ("ask", "chat", "report")  # the verbs that rank facts with the MiniLM embedder


def _run(argv: list[str]) -> int:
    from agent import tool_commands

    if not argv:  # bare `explainer`: the help, not an error
        _build_parser().print_help()
        return 0
    # a tool verb hands everything after it, --help included, to the tool's own parser
    verbosity = next((i for i, a in enumerate(argv) if a not in ("-v", "-vv", "--verbose")), len(argv))
    if verbosity < len(argv) and argv[verbosity] in tool_commands.FORWARDED:
        configure_logging(sum(a.count("v") if a != "--verbose" else 1 for a in argv[:verbosity]))
        return tool_commands.run(argv[verbosity], argv[verbosity + 1 :])
    if (
        verbosity < len(argv)
        and argv[verbosity] in EMBEDDING_VERBS
        and "--help" not in argv
        and "-h" not in argv
    ):
        from knowledge.embed import preload

        preload()  # the embedding model (about 0.4 s) loads while the parsers and the cards do
    args = _build_parser().parse_args(argv)
    configure_logging(args.verbose)
    if not args.verbose and not sys.warnoptions:  # our messages only, unless -v or python -W asks for more
        import warnings

        warnings.simplefilter("ignore")
    return args.run(args)


def configure_logging(verbosity: int) -> None:
    """Library modules log through logging.getLogger(__name__); by default only errors reach the
    terminal (a chat is not interleaved with notes), -v adds warnings and info, -vv debug."""
    import logging

    level = {0: logging.ERROR, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":
    sys.exit(main())
