"""Train in the background while the project is worked on: `python -m models.training.background`.

One process at nice 19 with one torch thread resumes the runs of ROTATION in turn, `--turn` steps
each (checkpoints every 100 steps, so a kill loses at most 100; a stop or SIGTERM finishes the
step and checkpoints), for as long as it is left running. Each run starts from the shipped weights
of its task (`--init`), keeps a moving average of its weights and RUN/best.pt, the average that
scored best on its validation crops (held-out training photos, never the evaluation photos).

  start    start it detached (nohup, own session); refuses when one is running
  run      the same in the foreground
  stop     SIGTERM, then wait until it has checkpointed and exited
  pause / resume   SIGSTOP / SIGCONT (for a timing; the suite needs no pause: see README)
  status   its state and the current best scores (also RUNS/scores.json)
  score    score weights (default: each run's shipped starting file, or --weights) on a run's
           validation crops, as its checkpoints are scored: the bar a checkpoint must clear to ship

Files: RUNS/<run>/{checkpoint.pt,best.pt,log.jsonl}, RUNS/trainer.log, RUNS/scores.json; the pid
file is at one place for every checkout (pid_file()), so any working copy can pause it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from common.cli import OneLineErrorParser
from common.files import atomic_write_text, state_folder
from models.errors import ModelError

MODULE = "models.training.background"
DEFAULT_TURN = 300
LOG_NAME = "trainer.log"
SCORES_NAME = "scores.json"


@dataclass(frozen=True)
class Run:
    name: str  # folder under RUNS
    preset: str  # models.training.train.PRESETS
    init: str | None  # the shipped weights it starts from


ROTATION = (
    Run("enlarge", "cpu-enlarge-ema", "mssnet-small-cpu-enlarge-long"),
    Run("deblur", "cpu-deblur-ema", "mssnet-small-cpu-deblur"),
    # the fur arm: the enlargement recipe plus a high-pass L1 term, the same steps as "enlarge"
    Run("enlarge-hf", "cpu-enlarge-ema-hf", "mssnet-small-cpu-enlarge-long"),
    # the frequency-weight arm: the enlargement recipe with the FFT-L1 weight at 0.3 (official 0.1)
    Run("enlarge-fft3", "cpu-enlarge-ema-fft3", "mssnet-small-cpu-enlarge-long"),
)


def default_runs() -> Path:
    """Where the runs live unless --runs says otherwise: not wherever the command happens to start."""
    return state_folder() / "background-runs"


def pid_file() -> Path:
    """$EXPLAINER_TRAINER_PID, else the user's state folder."""
    if os.environ.get("EXPLAINER_TRAINER_PID"):
        return Path(os.environ["EXPLAINER_TRAINER_PID"])
    return state_folder() / "background-trainer.pid"


def running_pid() -> int | None:
    """The trainer's pid when the pid file names a live background trainer (not a reused pid)."""
    try:
        pid = int(pid_file().read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if MODULE.encode() in cmdline else None


def _state(pid: int) -> str:
    """'paused' when stopped by a signal, else 'running'."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return "gone"
    return "paused" if fields[0] in ("T", "t") else "running"


# ---------------------------------------------------------------- scores


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a kill
            continue
    return entries


def run_summary(run_dir: Path, kinds: tuple[str, ...]) -> dict:
    """From a run's log: the step, CPU time, the validations (moving average and raw weights, scored
    as checkpoints are chosen), the best one, and the step-to-step spread of both."""
    from models.training.train import selection_score

    entries = read_log(run_dir / "log.jsonl")
    vals = [e for e in entries if "val_psnr" in e]
    # a resumed session validates again at its first stop: keep the last validation of each step
    by_step = {e["step"]: e for e in vals}
    curve = []
    for step in sorted(by_step):
        e = by_step[step]
        point = {"step": step, "ema": round(selection_score(e, kinds), 4)}
        raw = {k[4:]: v for k, v in e.items() if k.startswith("raw_")}
        if raw:
            point["raw"] = round(selection_score(raw, kinds), 4)
        for key in ("val_x2_hf_recovered", "val_x2_hf_overshoot"):
            if key in e:
                point[key[4:]] = e[key]
        curve.append(point)
    steps = [e for e in entries if "loss" in e]
    out: dict = {
        "step": steps[-1]["step"] if steps else 0,
        "cpu_s": steps[-1].get("cpu_s") if steps else 0,
        "validations": curve,
    }
    if curve:
        out["best"] = max(curve, key=lambda p: p["ema"])
        for key in ("ema", "raw"):
            series = [p[key] for p in curve if key in p]
            jumps = [abs(b - a) for a, b in zip(series, series[1:])]
            if jumps:
                out[f"spread_{key}"] = {
                    "max": round(max(jumps), 4),
                    "mean": round(sum(jumps) / len(jumps), 4),
                }
    return out


def write_scores(runs: Path, rotation: tuple[Run, ...] = ROTATION, presets: dict | None = None) -> dict:
    """RUNS/scores.json: run_summary of every run of the rotation that has started."""
    from models.training.train import PRESETS

    presets = presets or PRESETS
    scores = {
        r.name: {"preset": r.preset, **run_summary(runs / r.name, presets[r.preset].val_kinds)}
        for r in rotation
        if (runs / r.name).exists()
    }
    atomic_write_text(runs / SCORES_NAME, json.dumps(scores, indent=1) + "\n")
    return scores


# ---------------------------------------------------------------- the trainer loop


def run_forever(
    runs: Path,
    turn: int = DEFAULT_TURN,
    photo_dir: str | None = None,
    max_hours: float | None = None,
    rotation: tuple[Run, ...] = ROTATION,
    presets: dict | None = None,
    photos=None,
    say=print,
) -> int:
    """Resume each run of `rotation` for `turn` steps in turn until stopped (SIGTERM/SIGINT),
    `max_hours` have passed or every run has reached its steps. Returns the number of turns."""
    import torch

    from models.training import train as T
    from models.training.data import find_photos, load_photo_pool

    presets = presets or T.PRESETS
    torch.set_num_threads(1)
    stop = {"now": False}

    def on_signal(signum, _frame):
        stop["now"] = True
        say(f"signal {signum}: stopping after this step")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    begin = time.monotonic()
    first = presets[rotation[0].preset]
    if photos is None:
        photos = load_photo_pool(find_photos(photo_dir or T.default_photo_dir()), first.photo_max_side)
    # every run's recipe holds out the same photos and draws the same dead leaves: build them once
    pools = T.build_pools(first, None, "cpu", photos)
    turns = 0
    while not stop["now"]:
        progressed = False
        for r in rotation:
            if stop["now"] or (max_hours is not None and time.monotonic() - begin > 3600 * max_hours):
                stop["now"] = True
                break
            run_dir = runs / r.name
            resume = (run_dir / T.CHECKPOINT_NAME).exists()
            cfg = replace(presets[r.preset], init_weights=r.init)
            done = T.load_checkpoint(run_dir / T.CHECKPOINT_NAME)["all_step"] if resume else 0
            if done >= cfg.steps:
                continue
            say(f"{time.strftime('%H:%M:%S')} {r.name}: {'resume' if resume else f'start from {r.init}'}")
            result = T.train(
                cfg,
                run_dir,
                photos=photos,
                resume=resume,
                steps=cfg.steps,  # the preset's total: a later version may lengthen the schedule
                progress=False,
                session_steps=turn,
                should_stop=lambda: stop["now"],
                announce=say,
                pools=pools,
            )
            turns += 1
            progressed = progressed or result.step > done
            scores = write_scores(runs, rotation, presets)
            best = scores.get(r.name, {}).get("best")
            say(
                f"{time.strftime('%H:%M:%S')} {r.name}: step {result.step}, loss {result.last_loss:.4f}, "
                f"{result.samples_per_s:.1f} samples/s; best {best}"
            )
        if not progressed:
            break
    return turns


def score_weights(weights: str | None, preset: str, photo_dir: str | None = None, photos=None) -> dict:
    """Validate `weights` (name, .safetensors or a RUN/*.pt; None: the bundled default) on the
    validation crops of `preset` (the held-out training photos), as the trainer validates its
    checkpoints; adds "score"."""
    import torch

    from models.checkpoints import load_model
    from models.precision import channels_last, resolve_precision
    from models.training import train as T
    from models.training.data import find_photos, load_photo_pool, validation_pairs

    cfg = T.PRESETS[preset]
    if photos is None:
        photos = load_photo_pool(find_photos(photo_dir or T.default_photo_dir()), cfg.photo_max_side)
    _, val_pool, _ = T.build_pools(replace(cfg, leaves_fraction=0.0), None, "cpu", photos)
    degraded, sharp = validation_pairs(
        val_pool, cfg.val_count, cfg.val_crop, cfg.seed + 1, kinds=cfg.val_kinds
    )
    model = channels_last(load_model(weights).model)
    precision = resolve_precision(cfg.precision, torch.device("cpu"), training=True)  # as the trainer
    val = T.validate(model, degraded, sharp, cfg, precision=precision)
    return {**val, "score": round(T.selection_score(val, cfg.val_kinds), 4)}


def _score(args) -> int:
    runs = [r for r in ROTATION if args.run in (None, r.name)]
    if not runs:
        raise ModelError(f"no run {args.run!r}; choose from {', '.join(r.name for r in ROTATION)}")
    for r in runs:
        weights = args.weights or r.init
        print(
            f"{r.name} ({r.preset}) · {weights}: {json.dumps(score_weights(weights, r.preset, args.photos))}"
        )
    return 0


def _start(args) -> int:
    if (pid := running_pid()) is not None:
        raise ModelError(f"a background trainer is running already (pid {pid}); stop it first")
    runs = Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    command = ["nice", "-n", "19", sys.executable, "-m", MODULE, "run", "--runs", str(runs.resolve())]
    command += ["--turn", str(args.turn)]
    for name in args.only or ():
        command += ["--only", name]
    if args.photos:
        command += ["--photos", args.photos]
    if args.max_hours:
        command += ["--max-hours", str(args.max_hours)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with open(runs / LOG_NAME, "a") as log:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, env=env
        )
    print(f"background trainer started: pid {proc.pid}, log {runs / LOG_NAME}")
    return 0


def _run(args) -> int:
    path = pid_file()
    if (pid := running_pid()) is not None and pid != os.getpid():
        raise ModelError(f"a background trainer is running already (pid {pid})")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, f"{os.getpid()}\n")
    if os.nice(0) < 19:
        os.nice(19 - os.nice(0))
    try:  # with autogroup scheduling, nice only ranks within a session: lower the whole group too
        Path("/proc/self/autogroup").write_text("19")
    except OSError:
        pass

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        rotation = tuple(r for r in ROTATION if not args.only or r.name in args.only)
        run_forever(Path(args.runs), args.turn, args.photos, args.max_hours, rotation, say=say)
    finally:
        if running_pid() == os.getpid():
            path.unlink(missing_ok=True)
        say(f"{time.strftime('%H:%M:%S')} background trainer stopped")
    return 0


def _signal(sig: int, verb: str, wait: bool = False) -> int:
    pid = running_pid()
    if pid is None:
        print("no background trainer is running")
        return 0
    if sig == signal.SIGTERM:
        os.kill(pid, signal.SIGCONT)  # a paused trainer must run to checkpoint and exit
    os.kill(pid, sig)
    while wait and Path(f"/proc/{pid}").exists():
        time.sleep(1)
    print(f"background trainer (pid {pid}) {verb}")
    return 0


def _status(args) -> int:
    pid = running_pid()
    print(f"background trainer: {f'{_state(pid)}, pid {pid}' if pid else 'not running'}")
    runs = Path(args.runs)
    if runs.exists():
        for name, s in write_scores(runs).items():
            best = s.get("best")
            print(
                f"  {name}: step {s['step']}, {s['cpu_s']} CPU-s"
                + (f"; best validation gain {best['ema']:+.3f} dB at step {best['step']}" if best else "")
            )
    return 0


def main(argv=None, prog: str = f"python -m {MODULE}") -> int:
    ap = OneLineErrorParser(prog=prog, description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=("start", "run", "stop", "pause", "resume", "status", "score"))
    ap.add_argument(
        "--runs",
        default=str(default_runs()),
        help="folder of the runs (default: ~/.local/state/restoration-explainer/background-runs)",
    )
    ap.add_argument("--turn", type=int, default=DEFAULT_TURN, help="steps per run before the next one's turn")
    ap.add_argument("--photos", help="training photo folder (default as train)")
    ap.add_argument("--max-hours", type=float, help="stop after this long")
    ap.add_argument(
        "--only",
        action="append",
        choices=[r.name for r in ROTATION],
        help="start/run: train only this run (repeatable; the others wait, untouched)",
    )
    ap.add_argument("--weights", help="score: these weights instead of each run's starting file")
    ap.add_argument("--run", help="score: only this run")
    args = ap.parse_args(argv)
    if args.turn < 1:
        raise ModelError("--turn must be at least 1")
    if args.command == "start":
        return _start(args)
    if args.command == "run":
        return _run(args)
    if args.command == "score":
        return _score(args)
    if args.command == "stop":
        return _signal(signal.SIGTERM, "stopped", wait=True)
    if args.command == "pause":
        return _signal(signal.SIGSTOP, "paused")
    if args.command == "resume":
        return _signal(signal.SIGCONT, "resumed")
    return _status(args)


if __name__ == "__main__":
    from models.errors import run_module_cli

    run_module_cli(main, "background")
