"""What the whole `explainer restore` command costs beyond `restore()` itself, on one photo.

    ./run bench bench_restore_command [--size 2000x1500] [--repeats 3]

Makes a JPEG photo of that size (skimage's chelsea, enlarged with bicubic), then times
- `restore()` in this process, warm (after a 64-px warm-up, as bench_engine times it), with the
  weights the command's rule picks for the photo;
- the command in fresh processes (`python -m agent.cli restore PHOTO -o OUT.png --force`), each
  run next to one of `restore()`, from before the process starts to its exit: start-up, imports,
  weights, reading, the time estimate, restoring, saving;
and prints each run, the medians and their ratio against the goal (the command at most 1.2×
`restore()`). The machine may be shared: compare the ratio within one run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.2  # the command's wall time over restore()'s


def make_photo(folder: Path, w: int, h: int) -> Path:
    from PIL import Image
    from skimage import data

    path = folder / f"photo_{w}x{h}.jpg"
    Image.fromarray(data.chelsea()).resize((w, h), Image.Resampling.BICUBIC).save(path, quality=95)
    return path


def prepare_restore(photo: Path):
    """A warm in-process `restore()` of the read photo with the weights the command's rule picks:
    returns a function that runs it once and returns its seconds, and the weights' name."""
    from models.checkpoints import load_model
    from models.engine import restore
    from models.imageio import load_image
    from models.weights_choice import choose_weights

    loaded = load_image(photo)
    model = load_model(choose_weights(None, None, 1, loaded.rgb).weights)
    restore(loaded.rgb[:64, :64], model)  # warm-up: oneDNN primitives, the heap

    def once() -> float:
        t0 = time.perf_counter()
        restore(loaded, model)
        return time.perf_counter() - t0

    return once, model.info.name


def command_once(photo: Path, out: Path) -> tuple[float, str]:
    """Wall seconds of one fresh `explainer restore` process, and what it printed."""
    command = [sys.executable, "-m", "agent.cli", "restore", str(photo), "-o", str(out), "--force"]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, done.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="2000x1500", help="WxH of the test photo")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    inside, command, said = [], [], ""
    with tempfile.TemporaryDirectory() as tmp:
        photo = make_photo(Path(tmp), w, h)
        restore_once, weights = prepare_restore(photo)
        for _ in range(args.repeats):  # interleaved, so a busy spell on the machine hits both
            seconds, said = command_once(photo, Path(tmp) / "restored.png")
            command.append(seconds)
            inside.append(restore_once())
    print(f"# bench_restore_command  {w}x{h} JPEG, weights {weights}, {args.repeats} runs each")
    print("restore() s (warm, in process):", " ".join(f"{t:.2f}" for t in inside))
    print("command s (fresh process, wall):", " ".join(f"{t:.2f}" for t in command))
    print("ratio per pair:", " ".join(f"{c / r:.2f}" for c, r in zip(command, inside)))
    for line in said.splitlines():
        if re.search(r"restore \d|wall time", line):
            print("  the command said:", line.split(" -> ")[-1] if "restored" in line else line)
    r, c = statistics.median(inside), statistics.median(command)
    verdict = "meets" if c / r <= GOAL else "misses"
    print(f"median restore() {r:.2f} s, command {c:.2f} s: ratio {c / r:.2f} ({verdict} the goal of {GOAL}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
