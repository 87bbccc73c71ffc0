"""Device and numeric precision choice: CUDA if present, reduced precision where the hardware runs it fast."""
from __future__ import annotations

import contextlib

import torch

from models.errors import ModelError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
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


def cpu_supports_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_supports_fp16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """'fp32' | 'bf16' | 'fp16'. auto: CPU -> bf16 with native bf16 units (AVX-512 BF16 / AMX)
    else fp32; CUDA -> fp16 on tensor-core GPUs (sm70+; as fast as bf16 on newer cards and with
    more mantissa), fp32 on older ones."""
    if precision not in PRECISIONS:
        raise ModelError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if device.type == "cuda":
        major, _minor = torch.cuda.get_device_capability(device)
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


def autocast(device: torch.device, precision: str):
    """Autocast context: convolutions run in the reduced type, the residual image adds stay fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[precision])


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text
                                              or "failed to allocate" in text)
