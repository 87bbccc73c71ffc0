"""The restore time estimate's calibration, remembered per machine and setting.

`estimate_seconds` fits two numbers from two timed patches: a forward's `fixed` seconds and its
seconds `per_pixel`. They depend on the CPU (its model and the instructions it has: AVX-512 BF16,
AMX, only AVX2, ...) or the GPU, the torch version, the thread count, the device, the precision,
the network's widths and the stages run, so they are stored under a key made of all of these, in a
small JSON file in the user's state folder, and measured again after `MAX_AGE_DAYS`.

The cache is only a shortcut: a missing, unreadable, corrupt, stale or unwritable file means the
patches are timed again, never an error.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import time
from functools import lru_cache
from pathlib import Path

from common.errors import UserError
from common.files import atomic_write_text, state_folder

FILE_NAME = "restore-estimate.json"
VERSION = 1  # bump when what is timed, or how it is fitted, changes
MAX_AGE_DAYS = 30
MAX_ENTRIES = 32  # settings kept; the oldest go first
# CPU flags that change which kernels oneDNN picks (and so the speed); the rest are noise in a key
SPEED_FLAGS = (
    "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
    "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "asimd", "sve",
)  # fmt: skip


def cache_file() -> Path:
    return state_folder() / FILE_NAME


@lru_cache(maxsize=1)
def cpu_description() -> str:
    """'model name | speed flags' from /proc/cpuinfo (its first processor), else what platform says."""
    name, flags = "", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    break  # the first processor's block is enough
                field, _, value = line.partition(":")
                field = field.strip().lower()
                if field in ("model name", "cpu model", "hardware") and not name:
                    name = value.strip()
                elif field in ("flags", "features"):
                    flags = set(value.split())
    except OSError:
        pass
    name = name or platform.processor() or platform.machine()
    return f"{name} | {' '.join(f for f in SPEED_FLAGS if f in flags)}"


def speed_key(dev, precision: str, config, stages: int) -> dict:
    """Everything that changes how fast a forward runs here."""
    import torch

    key = {
        "version": VERSION,
        "cpu": cpu_description(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(dev),
        "precision": precision,
        "config": list(config),
        "stages": int(stages),
    }
    if dev.type == "cuda":
        key["gpu"] = torch.cuda.get_device_name(dev)
    return key


def _entry_id(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _read(path: Path) -> dict:
    """The file's entries, or {} when it is missing, unreadable or not this format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if (
        not isinstance(data, dict)
        or data.get("version") != VERSION
        or not isinstance(data.get("entries"), dict)
    ):
        return {}
    return data["entries"]


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def lookup(key: dict, now: float | None = None) -> tuple[float, float] | None:
    """(fixed, per_pixel) seconds measured for `key` in the last MAX_AGE_DAYS, or None."""
    entry = _read(cache_file()).get(_entry_id(key))
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    fixed, per_pixel, measured = (_number(entry.get(k)) for k in ("fixed", "per_pixel", "measured"))
    if fixed is None or per_pixel is None or measured is None or fixed < 0 or per_pixel <= 0:
        return None
    age = (time.time() if now is None else now) - measured
    if not 0 <= age <= MAX_AGE_DAYS * 86400:
        return None
    return fixed, per_pixel


def store(key: dict, fixed: float, per_pixel: float, now: float | None = None) -> bool:
    """Remember a calibration; False (and nothing else) when the file cannot be written."""
    path = cache_file()
    now = time.time() if now is None else now
    try:
        entries = {k: v for k, v in _read(path).items() if isinstance(v, dict)}
        entries[_entry_id(key)] = {"key": key, "fixed": fixed, "per_pixel": per_pixel, "measured": now}
        newest = sorted(entries.items(), key=lambda kv: _number(kv[1].get("measured")) or 0.0, reverse=True)
        text = json.dumps({"version": VERSION, "entries": dict(newest[:MAX_ENTRIES])}, indent=1)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text + "\n")
    except (OSError, UserError, ValueError, TypeError):
        return False
    return True
