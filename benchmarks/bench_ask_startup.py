"""How fast `explainer ask` prints the founding answer from a cold process start.

Runs the console script several times as fresh subprocesses (stdout piped, so the plain-text
renderer is used), reports each wall time, the median against the 1.5 s budget, and the ratio
to a bare `python -c pass` measured in the same run (the machine is shared, so ratios are the
stable number). Also checks that torch is never imported on that path.

    ./run bench bench_ask_startup [--runs 7] [--format terminal|markdown|json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from agent.main_job import FOUNDING_QUESTION as FOUNDING

BUDGET_S = 1.5


def explainer_command() -> list[str]:
    script = Path(sys.executable).with_name("explainer")
    if script.exists():
        return [str(script)]
    found = shutil.which("explainer")
    return [found] if found else [sys.executable, "-m", "agent.cli"]


def time_run(cmd: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--format", default="terminal", choices=("terminal", "markdown", "json"))
    args = parser.parse_args(argv)

    env = dict(os.environ, NO_COLOR="1")
    ask = explainer_command() + ["ask", FOUNDING, "--format", args.format]
    baseline = [sys.executable, "-c", "pass"]

    time_run(ask, env)  # first run fills the OS file cache and writes .pyc files; not counted
    ask_times, base_times, output = [], [], ""
    for _ in range(args.runs):
        base_times.append(time_run(baseline, env)[0])
        elapsed, output = time_run(ask, env)
        ask_times.append(elapsed)

    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agent.cli", "ask", FOUNDING, "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    if probe.returncode != 0:
        raise SystemExit(f"import-time probe failed:\n{probe.stderr[-2000:]}")
    imported = {
        line.split("|")[-1].strip().split(".")[0] for line in probe.stderr.splitlines() if "|" in line
    }
    heavy = sorted(imported & {"torch", "sentence_transformers", "langchain_core", "transformers"})

    med, base = statistics.median(ask_times), statistics.median(base_times)
    print(f"explainer ask (founding question, --format {args.format}), {args.runs} cold runs")
    print("  runs (s):        " + " ".join(f"{t:.3f}" for t in ask_times))
    print(
        f"  median:          {med:.3f} s   (budget {BUDGET_S:.1f} s: {'OK' if med <= BUDGET_S else 'OVER'})"
    )
    print(f"  min / max:       {min(ask_times):.3f} / {max(ask_times):.3f} s")
    print(f"  python -c pass:  {base:.3f} s median  -> ask is {med / base:.1f}x a bare interpreter start")
    print(f"  answer size:     {len(output.splitlines())} lines, {len(output)} characters")
    print(
        f"  heavy imports:   {', '.join(heavy) if heavy else 'none (no torch, no embeddings, no langchain)'}"
    )
    return 0 if med <= BUDGET_S and not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
