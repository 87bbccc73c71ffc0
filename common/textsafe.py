"""Make text from users and files safe to show in a terminal: no escape sequences, no control codes."""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, and C1 CSI.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# Remaining C0/C1 control characters except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_terminal_codes(text: str) -> str:
    """Remove terminal escape sequences and control characters (keeps tabs and newlines)."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def clean_line(text: str) -> str:
    """One-line form of user text: escapes removed, whitespace collapsed."""
    return " ".join(strip_terminal_codes(text).split())
