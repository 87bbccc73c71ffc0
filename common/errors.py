"""User-facing errors and the one place they become exit codes.

A UserError (and the OS refusing a file: read-only, full, permission, symlink loop) is shown as one
line on stderr with exit code 2; Ctrl-C is "interrupted" (130); a closed pipe is not an error.
"""

from __future__ import annotations

import errno
import os
import sys

EXIT_USER_ERROR = 2
EXIT_ABSTAINED = 3  # `explainer ask --fail-on-abstain` when no source covers the question
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """Something the person can fix (a path, an option, a file); its text is the whole message."""


class WriteError(UserError):
    """An output could not be written (read-only, full, no permission); nothing was left behind."""


def os_reason(exc: OSError) -> str:
    """'read-only file system', 'no space left on device', ... (lower case, no errno number)."""
    if exc.errno == errno.ELOOP:
        return "symlink loop (a link that points back to itself)"
    text = os.strerror(exc.errno) if exc.errno else (exc.strerror or str(exc))
    return text[:1].lower() + text[1:]


def cannot_write(path, exc: OSError) -> WriteError:
    return WriteError(f"cannot write {path}: {os_reason(exc)}")


def one_line(exc: BaseException) -> str | None:
    """The one-line message for an error the person should see as such, or None for a bug."""
    from common.textsafe import clean_line

    if isinstance(exc, UserError):
        return clean_line(str(exc))
    if isinstance(exc, MemoryError):
        return "out of memory: try a smaller picture or --tile 256"
    if isinstance(exc, OSError) and exc.errno is not None:
        name = exc.filename
        where = f" {clean_line(os.fsdecode(name))}" if name else ""
        if exc.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return f"cannot write{where}: {os_reason(exc)}"
        return f"cannot use{where}: {os_reason(exc)}" if where else os_reason(exc)
    return None


def exit_code(run, prog: str = "explainer") -> int:
    """Call run() and turn the ways it can end into an exit code (see the module's docstring)."""
    _interrupt_from_finalisers()
    try:
        return int(run() or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except Exception as exc:  # noqa: BLE001 - only user-facing errors become one line; bugs still raise
        message = one_line(exc)
        if message is None:
            raise
        print(f"{prog}: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR


def _interrupt_from_finalisers() -> None:
    """A Ctrl-C that lands inside a finaliser (a weakref callback, a __del__) cannot interrupt the
    run: Python prints "Exception ignored" with a traceback and goes on. It is dropped quietly
    instead (re-raising it from the hook would only be "ignored" again); the run goes on to its
    normal end, and the next Ctrl-C stops it as usual."""
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous(unraisable)

    sys.unraisablehook = hook


def _quiet_stdout() -> None:
    """After a closed pipe, Python's exit flush would print a second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
