"""The console answers are drawn on: a terminal's real width and colour, or plain text when piped
(paragraphs on single lines, no trailing spaces) or when NO_COLOR / TERM=dumb ask for it."""

from __future__ import annotations

import os
import sys
from functools import lru_cache


def plain_wanted(stream=None) -> bool:
    """Plain text when piped, when NO_COLOR is set (any value), or TERM=dumb."""
    stream = stream or sys.stdout
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return True
    return not (hasattr(stream, "isatty") and stream.isatty())


PIPED_WIDTH = 100  # boxes and rules when piped without COLUMNS; prose is never wrapped there


@lru_cache(maxsize=1)
def _console_class():
    from rich.console import Console

    class PipeSafeConsole(Console):
        """rich exits with status 1 when the reader of a pipe goes away (`explainer ask … | head`);
        a closed pipe is not an error here: hand it to common.errors.exit_code, which exits 0."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return PipeSafeConsole


def make_console(file=None, plain: bool | None = None, width: int | None = None):
    """A rich console that fits where it writes: a terminal's real width (or COLUMNS), colour unless
    NO_COLOR/TERM=dumb; piped, plain text whose paragraphs are single lines (no hard wrap, so
    nothing is split, URLs included) and no trailing spaces."""
    Console = _console_class()
    file = file or sys.stdout
    plain = plain_wanted(file) if plain is None else plain
    tty = hasattr(file, "isatty") and file.isatty()
    if plain and tty:  # NO_COLOR on a terminal: still a terminal (its width, a pager), just no colour
        return Console(file=file, color_system=None, highlight=False, emoji=False, markup=True, width=width)
    if plain:
        columns = os.environ.get("COLUMNS", "")
        console = Console(
            file=TrimmedLines(file),
            color_system=None,
            force_terminal=False,
            highlight=False,
            emoji=False,
            markup=True,
            width=width or (int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH),
        )
        console.unwrapped_prose = True  # render_terminal prints paragraphs as single lines
        return console
    return Console(file=file, highlight=False, emoji=False, width=width)


class TrimmedLines:
    """A text stream that drops the spaces rich pads lines with (a pipe keeps them otherwise)."""

    def __init__(self, stream):
        self.stream = stream
        self.encoding = getattr(stream, "encoding", None) or "utf-8"
        self._spaces = ""  # trailing spaces of an unfinished line: written only if text follows

    def write(self, text: str) -> int:
        lines = (self._spaces + text).split("\n")
        head = [line.rstrip(" ") for line in lines[:-1]]
        last = lines[-1]
        kept = last.rstrip(" ")
        self._spaces = last[len(kept) :]
        self.stream.write("\n".join(head + [kept]))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name):
        return getattr(self.stream, name)
