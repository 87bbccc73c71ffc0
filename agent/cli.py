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


def _user_error_types() -> tuple[type[BaseException], ...]:
    """Our own error classes; models' only if already imported (never import torch for this)."""
    from agent.errors import AgentError
    from knowledge.errors import KnowledgeError
    types: list[type[BaseException]] = [AgentError, KnowledgeError]
    if "models.errors" in sys.modules:
        types.append(sys.modules["models.errors"].ModelError)
    return tuple(types)


def exit_code(run) -> int:
    """Call run() and turn the ways it can end into an exit code: our own errors become one line
    on stderr (2), Ctrl-C says "interrupted" (130), a closed pipe is not an error."""
    try:
        return int(run() or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - only our own errors become one-line messages
        if isinstance(exc, _user_error_types()):
            from agent.textsafe import clean_line   # one line, and a file name cannot send escapes
            print(f"explainer: error: {clean_line(str(exc))}", file=sys.stderr)
            return 2
        raise


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    return exit_code(lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())
