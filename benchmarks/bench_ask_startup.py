"""How fast `explainer ask` prints the founding answer from a cold process start.

Runs the console script several times as fresh subprocesses (stdout piped, so the plain-text
renderer is used), reports each wall time, the median against the 1 s budget, and the ratio
to a bare `python -c pass` measured in the same run (the machine is shared, so ratios are the
stable number). Also checks that torch is never imported on that path and that the MiniLM
embedder (onnxruntime) is, i.e. that `ask` ranks with the BM25 + dense hybrid; and times the
embedder alone in fresh processes: its load, one query, and the card texts (each fact with its
source's name, and every example question of the facts) without and with the vector cache.

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

BUDGET_S = 1.0

# run in a fresh interpreter: the embedder's cold numbers, as JSON on the last line
EMBED_PROBE = """
import json, statistics, sys, tempfile, time
t0 = time.perf_counter()
from knowledge.embed import embedder
model = embedder()
load = time.perf_counter() - t0
from knowledge.dense import dense_text
from knowledge.store import load_knowledge
kb = load_knowledge()
texts = [dense_text(kb, f) for f in kb.facts] + [q for f in kb.facts for q in f.answers]
query = []
for question in ("How long does MSSNet take on a 1080p photo?", "Can it make my photo bigger?") * 3:
    t = time.perf_counter(); model.encode([question]); query.append(time.perf_counter() - t)
cache = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
t = time.perf_counter(); model.encode_cached(texts, cache); batch = time.perf_counter() - t
print(json.dumps(dict(load=load, query=statistics.median(query), texts=len(texts), batch=batch,
                      computed=model.computed, cache=cache)))
"""


def embed_probe(env: dict, cache: str | None = None) -> dict:
    import json

    done = subprocess.run(
        [sys.executable, "-c", EMBED_PROBE, *([cache] if cache else [])],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"embedder probe failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    hybrid = "onnxruntime" in imported

    uncached = embed_probe(env)  # a new, empty cache folder: every text goes through the model
    cached = embed_probe(env, uncached["cache"])  # a new process reading the folder just written

    med, base = statistics.median(ask_times), statistics.median(base_times)
    print(f"explainer ask (founding question, --format {args.format}), {args.runs} cold runs")
    print("  runs (s):        " + " ".join(f"{t:.3f}" for t in ask_times))
    print(
        f"  median:          {med:.3f} s   (budget {BUDGET_S:.1f} s: {'OK' if med <= BUDGET_S else 'OVER'})"
    )
    print(f"  min / max:       {min(ask_times):.3f} / {max(ask_times):.3f} s")
    print(f"  python -c pass:  {base:.3f} s median  -> ask is {med / base:.1f}x a bare interpreter start")
    print(f"  answer size:     {len(output.splitlines())} lines, {len(output)} characters")
    print(f"  heavy imports:   {', '.join(heavy) if heavy else 'none (no torch, no langchain)'}")
    print(
        f"  ranking:         {'BM25 + MiniLM (onnxruntime loaded)' if hybrid else 'BM25 alone (no embedder)'}"
    )
    print("MiniLM embedder (int8 ONNX on onnxruntime), fresh processes")
    print(f"  model load:      {uncached['load']:.3f} s (imports, session, tokenizer)")
    print(f"  one query:       {uncached['query'] * 1000:.1f} ms median of 6")
    print(
        f"  {uncached['texts']} card texts:  {uncached['batch']:.2f} s uncached ({uncached['computed']} embedded), "
        f"{cached['batch'] * 1000:.0f} ms cached ({cached['computed']} embedded)"
    )
    return 0 if med <= BUDGET_S and not heavy and hybrid else 1


if __name__ == "__main__":
    sys.exit(main())
