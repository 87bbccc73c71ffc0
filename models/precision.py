"""Device and numeric precision choice: CUDA if present, reduced precision where the hardware runs it fast."""

from __future__ import annotations

import contextlib
import os
from typing import TypeVar

import torch

from models.errors import ModelError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
M = TypeVar("M", bound=torch.nn.Module)
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError("--device cuda was asked for but no CUDA GPU is available (use --device cpu)")
    if not (name == "cpu" or name.startswith("cuda")):
        raise ModelError(f"unknown device {name!r}: use auto, cpu or cuda")
    return torch.device(name)


def channels_last(module: M, device: torch.device | str | None = None) -> M:
    """`module.to(device, memory_format=torch.channels_last)`, in place and returned (torch's type
    stubs for `Module.to` leave out `memory_format`, which it accepts)."""
    return module.to(device, memory_format=torch.channels_last)  # type: ignore[call-overload]


NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo names of the bf16 dot-product units


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (lscpu's), None where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def has_native_bf16(flags: set[str] | None) -> bool | None:
    """True/False from the flags; None when they are unknown."""
    return None if flags is None else any(f in flags for f in NATIVE_BF16_FLAGS)


def cpu_supports_bf16() -> bool:
    """oneDNN runs bf16 here *and* the CPU has native bf16 units: oneDNN also says yes on plain
    AVX-512, where bf16 is emulated and training in it measured 18x slower than fp32."""
    try:
        onednn = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
    return onednn and has_native_bf16(cpu_flags()) is not False


def cpu_supports_fp16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device, training: bool = False) -> str:
    """'fp32' | 'bf16' | 'fp16'. auto: CPU -> bf16 with native bf16 units (AVX-512 BF16 / AMX)
    else fp32 (emulated bf16 trains ~18x slower than fp32); CUDA -> fp16 on tensor-core GPUs
    (sm70+; as fast as bf16 on newer cards and with more mantissa), fp32 on older ones.
    training: CUDA auto -> bf16 where supported (fp16 gradients would need loss scaling), and
    fp16 is refused."""
    if precision not in PRECISIONS:
        raise ModelError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if training and precision == "fp16":
        raise ModelError(
            "training in fp16 needs loss scaling, which the trainer does not do: use bf16 or fp32"
        )
    if device.type == "cuda":
        major, _minor = torch.cuda.get_device_capability(device)
        if precision == "auto" and training:
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        if precision == "auto":
            return "fp16" if major >= 7 else "fp32"
        if precision == "bf16" and not torch.cuda.is_bf16_supported():
            raise ModelError("this GPU has no bf16 support; use --precision fp16 or fp32")
        return precision
    if precision == "auto":
        return "bf16" if cpu_supports_bf16() else "fp32"
    if precision == "fp16" and not cpu_supports_fp16():
        raise ModelError("this CPU has no fast fp16 path; use --precision bf16 or fp32")
    return precision


def precision_reason(precision: str, device: torch.device) -> str:
    """Why auto chose `precision` here, for the line a run prints at start."""
    if device.type == "cuda":
        return f"CUDA {torch.cuda.get_device_name(device)}"
    if precision == "bf16":
        return "CPU with native bf16 (AVX-512 BF16 / AMX)"
    return "CPU without native bf16 (no AVX-512 BF16 / AMX): bf16 would be emulated"


def default_threads(processes_per_machine: int = 1) -> int:
    """CPU threads for one process: the cores this process may run on, shared by the processes
    started on the same machine (torchrun's LOCAL_WORLD_SIZE)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, processes_per_machine))


def autocast(device: torch.device, precision: str):
    """Autocast context: convolutions run in the reduced type, the residual image adds stay fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[precision])


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text or "failed to allocate" in text
    )
