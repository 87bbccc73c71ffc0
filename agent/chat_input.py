"""What chat reads: the slash commands and their help, the history file, Tab completion, and the
line reader (prompt_toolkit on a terminal, plain lines otherwise)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

HELP = """Commands:
  /help            this list
  /attach PATH     stage a picture; the demo runs on it once, with your next question about it
  /detach          forget the picture (and its demo)
  /demo            the demo on the attached picture: run it now, or show it again (Ctrl-C stops it)
  /save PATH       save the conversation as Markdown, with its images beside it
  /sources         the sources I may cite, with links
  /context         what follow-ups refer to ("it", "what about ...?"): subjects, task, picture
  /clear           forget the conversation's subjects and the picture (a fresh start)
  /history         the questions asked so far in this chat
  /long            the last answer again in full: task, input-to-output workflow, papers and tools
                   (in a pager when it is longer than the screen; q leaves it)
  /quit            leave (Ctrl-D also works)
Anything else is a question, e.g. "How does MSSNet keep fine detail?\"
Tab completes commands and, after /attach or /save, file paths."""
COMMANDS = (
    "/help", "/attach", "/detach", "/demo", "/save", "/sources", "/context", "/clear", "/history",
    "/long", "/quit",
)  # fmt: skip


def history_file() -> Path | None:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    path = Path(base) / "explainer" / "chat_history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        return path
    except OSError:
        return None


def completer():
    """Tab: the slash commands at the start of a line, file paths after /attach and /save."""
    from prompt_toolkit.completion import NestedCompleter, PathCompleter

    paths = PathCompleter(expanduser=True)
    return NestedCompleter.from_nested_dict(
        {name: (paths if name in ("/attach", "/save") else None) for name in COMMANDS}
    )


def line_reader(stdin, stdout) -> Callable[[], str]:
    """A function that returns the next line typed (EOFError at the end of the input), with
    history, line editing and Tab completion when both ends are a terminal."""
    if stdin.isatty() and stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        path = history_file()
        session: PromptSession[str] = PromptSession(
            history=FileHistory(str(path)) if path else InMemoryHistory(),
            completer=completer(),
            complete_while_typing=False,  # Tab asks; typing a question shows no menu
        )
        return lambda: session.prompt("explainer> ")

    def plain() -> str:
        stdout.write("explainer> ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            raise EOFError
        return line

    return plain
