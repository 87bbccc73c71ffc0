"""Keep freed activation memory in the process heap while MSSNet runs on the CPU.

glibc serves every allocation over 32 MB (a 20-channel bf16 feature map of a 720p photo is
37 MB) with a fresh mmap, so each such convolution output is page-faulted in and unmapped again:
about a tenth of a CPU forward. Inside `reuse_freed_memory()` large blocks come from the heap
and are reused; on the way out the defaults come back and the unused heap is returned to the
OS (malloc_trim), so a long chat session does not keep the peak. Elsewhere (not Linux/glibc)
this is a no-op.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_DEFAULT_MMAP_MAX = 65536  # glibc's defaults, restored on exit
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
_KEEP_TRIM_THRESHOLD = 1 << 30

_lock = threading.Lock()
_depth = 0


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


@contextlib.contextmanager
def reuse_freed_memory():
    """Nested and thread-safe: the settings change on the outermost entry and exit only."""
    global _depth
    if _LIBC is None:
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            _LIBC.mallopt(_M_MMAP_MAX, 0)
            _LIBC.mallopt(_M_TRIM_THRESHOLD, _KEEP_TRIM_THRESHOLD)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _LIBC.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                _LIBC.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                _LIBC.malloc_trim(0)


def active() -> bool:
    return _LIBC is not None and _depth > 0
