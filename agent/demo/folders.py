"""A fresh output folder for each demo, removed again when the demo fails or is stopped (Ctrl-C)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.errors import AgentError


def unique_dir(base: Path, stem: str) -> Path:
    """A new directory base/stem, base/stem-2, ...: a demo never overwrites earlier output."""
    for n in range(1, 10_000):
        path = base / (stem if n == 1 else f"{stem}-{n}")
        if not path.exists():
            path.mkdir()  # base exists already: the output-folder rule (common.files.prepare_folder)
            return path
    raise AgentError(f"too many demo folders under {base}")


def safe_stem(path: Path | str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", Path(path).stem)[:40] or "image"


@contextmanager
def sigint_held_back() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends, then deliver it as usual, right after the block.

    A Ctrl-C pressed just as a folder is created would otherwise land between the mkdir and the
    `try` that removes the folder on failure, and leave it behind half-made. A Python-level handler
    is used, not a signal mask: the kernel may hand SIGINT to any thread (torch's, the embeddings
    loader), and Python then raises KeyboardInterrupt in the main thread whatever its mask.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)  # through the restored handler: KeyboardInterrupt


@contextmanager
def fresh_dir(base: Path, stem: str) -> Iterator[Path]:
    """A new folder (see unique_dir) for the block to fill; removed again if the block fails or is stopped."""
    import shutil

    from common.files import prepare_folder

    out = None
    try:
        with sigint_held_back():
            out = unique_dir(prepare_folder(Path(base)), stem)
        yield out
    except BaseException:
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
        raise
