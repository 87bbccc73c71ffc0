"""`explainer` command line: parses arguments and dispatches to the module that owns each verb.

Heavy modules (torch, embeddings) are imported inside the verbs that need them, so
`explainer ask` starts fast. Every user-facing error is one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import sys


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage block), pointing at --help.

    Sub-commands inherit it: add_subparsers makes parsers of the parent's class.
    """

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="explainer",
        description="Grounded answers about image-restoration AI, with a live MSSNet demo.",
    )
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    from agent import commands
    from knowledge import kb_cli
    from models import restore_cli  # argument definitions only: no torch import at module level

    commands.add_parsers(sub)        # ask, chat, report
    restore_cli.add_parser(sub)      # restore
    kb_cli.add_parser(sub)           # kb list | show | import
    return parser


def main(argv: list[str] | None = None) -> int:
    from common.errors import exit_code
    args = _build_parser().parse_args(argv)
    return exit_code(lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())
