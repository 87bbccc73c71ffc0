"""Argument parsing shared by every command: one-line errors and the options several commands take."""

from __future__ import annotations

import argparse
import time

STARTED = time.perf_counter()  # the command's start (imported first thing): wall times count from here

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage block), pointing at --help.

    Sub-commands inherit it: add_subparsers makes parsers of the parent's class.
    """

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def non_negative_int(text: str) -> int:
    """argparse type for counts and sizes where 0 means "none" or "no limit"."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def add_weights_option(p: argparse.ArgumentParser, default_text: str = "the bundled default weights") -> None:
    p.add_argument(
        "--weights",
        metavar="NAME|PATH",
        help=f"bundled weights name, an official .pt/.pth or our .safetensors (default: {default_text})",
    )


def add_device_options(p: argparse.ArgumentParser, precision: bool = True) -> None:
    """--device (and --precision): auto picks CUDA when present, and the precision the hardware runs
    fastest (bf16 on CPUs with native bf16, fp16 on tensor-core GPUs, fp32 otherwise)."""
    p.add_argument(
        "--device",
        default="auto",
        choices=DEVICES,
        help="where MSSNet runs (default auto: the GPU if there is one)",
    )
    if precision:
        p.add_argument(
            "--precision",
            default="auto",
            choices=PRECISIONS,
            help="number format of the network (default auto: the fastest that keeps quality)",
        )
