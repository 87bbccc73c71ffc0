"""Writing outputs safely: check a path can be written before the work, write atomically after it.

An atomic write goes to a hidden temp file beside the target, is fsynced, then renamed over it:
a reader (or a crash, a full disk, a Ctrl-C) never sees half a file, and the temp file is removed
on any failure. OS refusals become one-line WriteErrors ("cannot write X: read-only file system").
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from common.errors import UserError, cannot_write


def _nearest_existing(path: Path) -> Path:
    for folder in (path, *path.parents):
        try:
            if os.path.lexists(folder):
                return folder
        except OSError:
            continue
    return Path(".")


def check_writable(path, folder: bool = False) -> Path:
    """Fail now, with one line, if `path` (a file to create, or a folder when `folder`) cannot be
    written: a missing folder on the way is fine as long as it can be created.

    Probes with a real temp file, because permission bits say nothing for root and nothing about a
    read-only mount.
    """
    import stat

    path = Path(path)
    try:
        mode = path.stat().st_mode
        if not folder and not stat.S_ISREG(mode):  # a rename would replace /dev/null, a pipe, a folder
            kind = "a folder" if stat.S_ISDIR(mode) else "a device or pipe, not a file"
            raise UserError(f"cannot write {path}: it is {kind}")
    except FileNotFoundError:
        pass
    except OSError as exc:  # a symlink loop, a path through a file, ...
        raise cannot_write(path, exc) from None
    target_dir = path if folder else path.parent
    base = _nearest_existing(target_dir)
    if not base.is_dir():
        raise UserError(f"cannot write {path}: {base} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=base, prefix=".explainer-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    return path


@contextmanager
def atomic_path(path):
    """Yield a temp path beside `path` to write (by any library); on success it replaces `path`."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an output gets the usual mode
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        except OSError:
            pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def state_folder() -> Path:
    """The user's state folder for this project ($XDG_STATE_HOME or ~/.local/state, then
    restoration-explainer): the same for every checkout. Not created here."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "restoration-explainer"


def atomic_write(path, write) -> Path:
    """Atomically write `path` with write(binary_file)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            write(fh)
    return Path(path)


def atomic_write_text(path, text: str) -> Path:
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def make_folder(path) -> Path:
    """mkdir -p with the one-line error."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    return path


# The one output-folder rule, for every command: the folder an output goes into may be new (it is
# created), but the folder above it must already exist. Nothing is created further up, so a typo
# (-o /nonexistent/dir/x.png) is refused with one line instead of growing a tree somewhere else.
def prepare_folder(folder) -> Path:
    """Create `folder` if it is missing and its parent exists; a one-line error otherwise."""
    folder = Path(folder)
    if folder.is_dir():
        return folder
    parent = folder.parent
    if not parent.is_dir():
        raise UserError(f"output folder does not exist: {parent} (create it first)")
    return make_folder(folder)
