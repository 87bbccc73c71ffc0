"""Fault injection: read-only and full filesystems, files that vanish, Ctrl-C at random moments,
out of memory, truncated weights, a corrupted embeddings cache, an unwritable HOME.

Every case asserts the same contract: one line on stderr, the right exit code, no traceback, no
partial file, and what was there before is intact. Read-only and full filesystems are real tmpfs
mounts where this process may mount (root in a container); elsewhere /proc stands in for a
read-only folder and ENOSPC is injected as the OSError the kernel would raise.
"""

from __future__ import annotations

import errno
import io
import os
import random
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "tests" / "data" / "tiny_official_checkpoint.pt")
QUESTION = "How does MSSNet keep fine detail?"
EARLIER = b"an earlier result the person keeps"


def _explainer():
    script = Path(sys.executable).with_name("explainer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]


def _env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    env.update(extra)
    return env


def run_cli(args, cwd=None, input=None, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        _explainer() + [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or ROOT,
        env=_env(**env),
        input=input,
    )


def assert_one_line_error(proc, code: int = 2, says: str = "") -> str:
    """Exit `code`, exactly one line on stderr (after any 'note:' lines), no traceback anywhere."""
    shown = proc.stdout + proc.stderr
    assert "Traceback" not in shown, shown
    assert proc.returncode == code, (proc.returncode, shown)
    lines = [ln for ln in proc.stderr.splitlines() if not ln.startswith("explainer: note:")]
    assert len(lines) == 1, proc.stderr
    assert says in lines[0], lines[0]
    return lines[0]


def leftovers(folder: Path) -> list[Path]:
    """Temp files of an interrupted write, or a demo/report staging folder."""
    return [
        p
        for p in folder.rglob("*")
        if p.name.endswith(".part") or p.name.startswith((".assets-new", ".explainer-probe"))
    ]


def photo(path: Path, size=(48, 40), seed=0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


# ---------------------------------------------------------------------------- filesystems
def _can_mount() -> bool:
    if os.geteuid() != 0 or not Path("/bin/mount").exists() and not Path("/usr/bin/mount").exists():
        return False
    probe = Path(f"/tmp/.explainer-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        ok = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True
            ).returncode
            == 0
        )
        if ok:
            subprocess.run(["umount", str(probe)], capture_output=True)
        return ok
    finally:
        probe.rmdir()


CAN_MOUNT = _can_mount()


@contextmanager
def tmpfs(folder: Path, size: str = "1m", read_only: bool = False, keep: dict[str, bytes] | None = None):
    """A real tmpfs at `folder` holding the files in `keep`, then made read-only if asked."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        for name, data in (keep or {}).items():
            (folder / name).write_bytes(data)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.fixture()
def read_only(tmp_path):
    """A read-only folder with an earlier result in it (`earlier.png`); /proc where we cannot mount."""
    if not CAN_MOUNT:
        yield Path("/proc")
        return
    with tmpfs(tmp_path / "RO", read_only=True, keep={"earlier.png": EARLIER}) as folder:
        yield folder


def _earlier_intact(folder: Path) -> None:
    if folder != Path("/proc"):
        assert (folder / "earlier.png").read_bytes() == EARLIER
        assert sorted(p.name for p in folder.iterdir()) == ["earlier.png"]


def test_restore_into_a_read_only_folder_stops_before_the_model(tmp_path, read_only):
    src = photo(tmp_path / "small.png")
    started = time.perf_counter()
    proc = run_cli(["restore", src, "--weights", TINY, "-o", read_only / "x.png"])
    line = assert_one_line_error(proc, 2, f"cannot write {read_only / 'x.png'}: ")
    assert "restored" not in proc.stdout
    if read_only != Path("/proc"):
        assert line.endswith("read-only file system")
    _earlier_intact(read_only)
    assert not leftovers(tmp_path)
    del started


@pytest.mark.parametrize(
    "target, says",
    [
        ("/proc/x.png", "cannot write /proc/x.png"),
        ("/proc/self/new-folder/x.png", "output folder does not exist"),
        ("/sys/x.png", "cannot write /sys/x.png"),
    ],
)
def test_restore_into_kernel_folders_is_one_line(tmp_path, target, says):
    src = photo(tmp_path / "small.png")
    proc = run_cli(["restore", src, "--weights", TINY, "-o", target])
    assert_one_line_error(proc, 2, says)


def test_report_into_a_read_only_folder(tmp_path, read_only):
    proc = run_cli(["report", QUESTION, "-o", read_only / "r.md"])
    assert_one_line_error(proc, 2, "cannot write")
    assert proc.stdout == ""
    _earlier_intact(read_only)


def test_ask_with_a_demo_into_a_read_only_folder_answers_nothing_first(tmp_path, read_only):
    src = photo(tmp_path / "p.png")
    proc = run_cli(["ask", QUESTION, "--image", src, "--weights", TINY, "--out", read_only / "demo"])
    assert_one_line_error(proc, 2, "cannot write")
    assert proc.stdout == ""  # checked before the answer, not after the model ran
    _earlier_intact(read_only)


def test_kb_import_into_a_read_only_folder(tmp_path, read_only):
    seed = Path("/work/shared/seed-prompt.txt")
    if not seed.exists():
        seed = next((ROOT / "knowledge").rglob("*seed*.txt"), None)
    if seed is None:
        pytest.skip("no seed prompt here")
    proc = run_cli(["kb", "import", seed, "--cards-dir", read_only / "cards"])
    assert_one_line_error(proc, 2, "cannot write")
    _earlier_intact(read_only)


def test_training_run_folder_is_checked_before_the_photos_load(tmp_path, read_only):
    proc = subprocess.run(
        [sys.executable, "-m", "models.training.train", "--run", str(read_only / "run"), "--steps", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=_env(),
    )
    assert_one_line_error(proc, 2, "cannot write")
    assert "photos" not in proc.stderr
    _earlier_intact(read_only)


def test_chat_save_into_a_read_only_folder_keeps_the_conversation(tmp_path, read_only):
    from agent.chat import Chat

    good = tmp_path / "conv.md"
    lines = [
        QUESTION,
        f"/save {read_only / 'conv.md'}",
        "/attach /proc/self/status",
        f"/save {good}",
        "/quit",
    ]
    stdout = io.StringIO()
    chat = Chat(
        out_dir=tmp_path / "out", stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout, dense=False
    )
    assert chat.run() == 0
    out = stdout.getvalue()
    assert "Traceback" not in out and f"error: cannot write {read_only / 'conv.md'}" in out
    assert "status: not an image format that can be read" in out  # /attach refuses it at once
    assert good.read_text(encoding="utf-8").startswith("# Conversation") and out.rstrip().endswith("bye")
    _earlier_intact(read_only)


@pytest.mark.skipif(not CAN_MOUNT, reason="needs a tmpfs mount (root)")
def test_a_full_filesystem_leaves_no_partial_file(tmp_path):
    src = photo(tmp_path / "big.png", size=(256, 256), seed=3)  # ~200 kB of noise: more than fits
    with tmpfs(tmp_path / "full", size="64k", keep={"earlier.png": EARLIER}) as full:
        proc = run_cli(["restore", src, "--weights", TINY, "-o", full / "x.png"])
        assert_one_line_error(proc, 2, f"cannot write {full / 'x.png'}: no space left on device")
        _earlier_intact(full)


def test_injected_enospc_while_writing_leaves_no_partial_file(tmp_path, monkeypatch, capsys):
    """The same full disk, injected where the kernel reports it (the flush before the rename)."""
    import common.files
    from agent.cli import main

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.png").write_bytes(EARLIER)
    monkeypatch.setattr(common.files.os, "fsync", full)
    for command in (
        ["restore", str(photo(tmp_path / "p.png")), "--weights", TINY, "-o", str(out / "x.png")],
        ["report", QUESTION, "-o", str(out / "r.md")],
    ):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no space left on device" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["earlier.png"]


def test_output_folder_vanishing_between_check_and_write(tmp_path, monkeypatch, capsys):
    """The folder is checked, the model runs, then someone removes the folder: one line, no file."""
    import shutil

    import models.engine
    from agent.cli import main

    out = tmp_path / "results"
    real = models.engine.restore

    def restore_then_remove(*args, **kwargs):
        result = real(*args, **kwargs)
        shutil.rmtree(out)
        return result

    monkeypatch.setattr(models.engine, "restore", restore_then_remove)
    assert main(["restore", str(photo(tmp_path / "p.png")), "--weights", TINY, "-o", f"{out}/"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"output folder does not exist: {out}" in err
    assert not out.exists() and not leftovers(tmp_path)


def test_an_unwritable_home_does_not_stop_answers(tmp_path):
    """No history, no caches: the answer still comes, exit 0, nothing on stderr."""
    home = "/proc/no-such-home"
    proc = run_cli(["ask", QUESTION], HOME=home, XDG_STATE_HOME="", XDG_CACHE_HOME="", EXPLAINER_CACHE="")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "MSSNet" in proc.stdout
    chat = run_cli(["chat"], input=f"{QUESTION}\n/quit\n", HOME=home, XDG_STATE_HOME="")
    assert chat.returncode == 0 and "Traceback" not in chat.stdout + chat.stderr and "bye" in chat.stdout


# ---------------------------------------------------------------------------- broken inputs
def test_truncated_safetensors_is_one_line_and_writes_nothing(tmp_path, one_torch_thread):
    from models.checkpoints import load_model, save_weights

    weights = tmp_path / "w.safetensors"
    save_weights(load_model(TINY).model, weights)
    data = weights.read_bytes()
    for cut in (len(data) // 2, 40, 7):
        weights.write_bytes(data[:cut])
        out = tmp_path / f"x{cut}.png"
        proc = run_cli(["restore", photo(tmp_path / "p.png"), "--weights", weights, "-o", out])
        assert_one_line_error(proc, 2, "w.safetensors")
        assert not out.exists() and not leftovers(tmp_path)


def test_a_corrupted_embeddings_cache_is_recomputed(tmp_path, monkeypatch):
    """Garbage, a truncated zip, or vectors of the wrong shape: read as 'no cache', then replaced."""
    from knowledge import embed
    from knowledge.dense import DenseIndex
    from knowledge.store import load_knowledge

    rows = {"a": np.ones(384, np.float32), "b": np.zeros(384, np.float32)}
    good = tmp_path / "good.npz"
    assert embed.write_cache(good, rows)
    assert list(embed.read_cache(good)) == ["a", "b"]
    wrong_shape = tmp_path / "shape.npz"
    np.savez(wrong_shape, keys=np.array(["a", "b"]), vectors=np.ones(3, np.float32))
    for name, data in (
        ("garbage", b"\x00garbage" * 10),
        ("truncated", good.read_bytes()[:60]),
        ("pickle", b"\x80\x04K\x01."),
    ):
        bad = tmp_path / f"{name}.npz"
        bad.write_bytes(data)
        assert embed.read_cache(bad) == {}, name
    assert embed.read_cache(wrong_shape) == {}

    try:
        model = embed.embedder()
    except embed.EmbeddingUnavailable:
        pytest.skip("the embedding model is not installed: the rest was checked")
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("EXPLAINER_CACHE", str(cache))
    path = cache / f"{embed.CACHE_PREFIX}{embed.MODEL_ID}-{model.settings.max_tokens}.npz"
    path.write_bytes(good.read_bytes()[:60])
    kb = load_knowledge()
    index = DenseIndex.load(kb, embed.Embedder(model._session, model._tokenizer, model.settings))
    assert not index.from_cache and len(embed.read_cache(path)) == len(kb.facts)


# ---------------------------------------------------------------------------- out of memory
def test_out_of_memory_on_the_first_tile_retries_smaller(tmp_path, monkeypatch, capsys, one_torch_thread):
    import torch

    from agent.cli import main
    from models.mssnet import MSSNet

    real_forward = MSSNet.forward
    calls = {"n": 0}

    def forward_that_runs_out_once(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_forward(self, *args, **kwargs)

    monkeypatch.setattr(MSSNet, "forward", forward_that_runs_out_once)
    out = tmp_path / "x.png"
    assert (
        main(["restore", str(photo(tmp_path / "p.png", size=(96, 80))), "--weights", TINY, "-o", str(out)])
        == 0
    )
    assert Image.open(out).size == (96, 80) and "Traceback" not in capsys.readouterr().err

    def forward_always_out(self, *args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 99 GB")

    monkeypatch.setattr(MSSNet, "forward", forward_always_out)
    out2 = tmp_path / "y.png"
    assert main(["restore", str(photo(tmp_path / "p.png")), "--weights", TINY, "-o", str(out2)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "out of memory even with" in err and not out2.exists()


# ---------------------------------------------------------------------------- Ctrl-C
# finished (0), stopped ("interrupted", 130), or -SIGINT when the signal lands in the instant
# between the end of the work and the process exit (a finished run, nothing half-done)
DONE_OR_STOPPED = (0, 130, -signal.SIGINT)


def _interrupt_at(cmd, delay: float, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(
        _explainer() + [str(a) for a in cmd],
        cwd=cwd,
        env=_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _valid_png(path: Path) -> bool:
    try:
        with Image.open(path) as im:
            im.load()
        return True
    except Exception:  # noqa: BLE001
        return False


def test_ctrl_c_at_random_points_of_a_batch_restore(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for n in range(4):
        photo(photos / f"p{n}.png", size=(160, 128), seed=n)
    rng = random.Random(13)
    for trial in range(3):
        out = tmp_path / f"out{trial}"
        out.mkdir()
        (out / "earlier.png").write_bytes(EARLIER)
        done = _interrupt_at(
            ["restore", photos, "--weights", TINY, "-o", out, "--tile", "64"], rng.uniform(0.3, 6.0), tmp_path
        )
        shown = done.stdout + done.stderr
        assert "Traceback" not in shown, shown
        assert done.returncode in DONE_OR_STOPPED, shown
        if done.returncode == 130:
            assert done.stderr.strip().splitlines()[-1] == "interrupted"
        assert (out / "earlier.png").read_bytes() == EARLIER
        assert not leftovers(out)
        assert all(_valid_png(p) for p in out.glob("*_restored.png"))  # whole files or none


def test_ctrl_c_at_random_points_of_a_report(tmp_path):
    folder = tmp_path / "rep"
    first = run_cli(
        [
            "report",
            QUESTION,
            "-o",
            folder / "report.md",
            "--image",
            photo(tmp_path / "p.png"),
            "--weights",
            TINY,
        ]
    )
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    rng = random.Random(7)
    for _ in range(3):
        done = _interrupt_at(
            [
                "report",
                QUESTION,
                "-o",
                folder / "report.md",
                "--force",
                "--image",
                photo(tmp_path / "q.png", size=(64, 48), seed=5),
                "--weights",
                TINY,
            ],
            rng.uniform(0.3, 5.0),
            tmp_path,
        )
        shown = done.stdout + done.stderr
        assert "Traceback" not in shown and done.returncode in DONE_OR_STOPPED, shown
        assert not leftovers(folder) and not list(folder.glob(".assets-new*"))
        now = {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        if done.returncode == 130:  # the earlier report and its images exactly as they were
            assert now == before
        elif now != before:  # or all of the new one
            assert set(now) == set(before) and all(
                _valid_png(folder / "assets" / n) for n in now if n.endswith(".png")
            )
            before = now


def test_a_device_or_pipe_is_never_replaced(tmp_path):
    """--force renames over an existing file; over /dev/null or a pipe it must refuse instead."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    proc = run_cli(["restore", photo(tmp_path / "p.png"), "--weights", TINY, "-o", fifo, "--force"])
    assert_one_line_error(proc, 2, "it is a device or pipe, not a file")
    os.mkfifo(tmp_path / "r.md")
    proc = run_cli(["report", QUESTION, "-o", tmp_path / "r.md", "--force"])
    assert_one_line_error(proc, 2, "it is a device or pipe, not a file")
    assert fifo.is_fifo() and (tmp_path / "r.md").is_fifo()


def test_a_ctrl_c_inside_a_finaliser_prints_no_traceback():
    """Ctrl-C can land inside a weakref callback, where Python prints 'Exception ignored' and a
    traceback and goes on (seen in the random test above): the run goes on quietly to its end."""
    code = (
        "import sys, time, weakref\n"
        "from common.errors import exit_code\n"
        "class A: pass\n"
        "def interrupt(ref): raise KeyboardInterrupt\n"
        "def run():\n"
        "    a = A(); r = weakref.ref(a, interrupt); del a\n"
        "    for _ in range(200): time.sleep(0.01)\n"
        "    return 0\n"
        "sys.exit(exit_code(run))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert done.returncode == 0
