"""The restore estimate's calibration cache: a warm cache runs no forward, any change of setting
misses, and a corrupt, unwritable or stale cache is ignored (the patches are timed again)."""

import json
import os

import pytest

from models import speed_cache
from models.checkpoints import load_model
from models.engine import estimate
from tests.constants import DATA

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SIZE = (2000, 1500)


@pytest.fixture(scope="module")
def tiny():
    return load_model(DATA / "tiny_official_checkpoint.pt")


@pytest.fixture()
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return tmp_path / "restoration-explainer" / speed_cache.FILE_NAME


@pytest.fixture()
def forwards(tiny):
    """Counts the real network's forwards."""
    calls = []
    handle = tiny.model.register_forward_pre_hook(lambda *_: calls.append(1))
    yield calls
    handle.remove()


def test_a_warm_cache_runs_no_forward_and_gives_the_same_estimate(tiny, state, forwards):
    first = estimate(tiny, SIZE, stages=2, precision="fp32")
    assert not first.cached and len(forwards) == 3 and state.is_file()  # warm-up + two patches
    assert first.how == "timed on two small patches"
    second = estimate(tiny, SIZE, stages=2, precision="fp32")
    assert second.cached and len(forwards) == 3 and second.seconds == first.seconds
    assert second.how == "timed on two small patches earlier on this machine"
    bigger = estimate(tiny, (4000, 3000), stages=2, precision="fp32")  # the same calibration, scaled
    assert bigger.cached and bigger.seconds > second.seconds and len(forwards) == 3
    entry = next(iter(json.loads(state.read_text())["entries"].values()))
    assert set(entry["key"]) >= {"cpu", "torch", "threads", "device", "precision", "config", "stages"}
    assert estimate(tiny, SIZE, stages=2, precision="fp32", cache=False).cached is False
    assert len(forwards) == 6  # cache=False always times


def test_another_setting_misses(tiny, state, forwards, monkeypatch):
    estimate(tiny, SIZE, stages=2, precision="fp32")
    assert not estimate(tiny, SIZE, stages=1, precision="fp32").cached  # other stages
    assert len(forwards) == 6
    key = speed_cache.speed_key(__import__("torch").device("cpu"), "fp32", tiny.model.config, 2)
    assert speed_cache.lookup(key) is not None
    for other in ({"precision": "bf16"}, {"config": [8, 8, 8]}, {"threads": 99}, {"torch": "0.0"}):
        assert speed_cache.lookup({**key, **other}) is None, other
    monkeypatch.setattr(speed_cache, "cpu_description", lambda: "Another CPU | avx2 fma")
    assert not estimate(tiny, SIZE, stages=2, precision="fp32").cached  # another machine
    assert len(forwards) == 9
    assert len(json.loads(state.read_text())["entries"]) == 3  # all kept side by side


def test_a_stale_or_corrupt_cache_is_timed_again(tiny, state, forwards):
    estimate(tiny, SIZE, stages=1, precision="fp32")
    data = json.loads(state.read_text())
    for entry in data["entries"].values():
        entry["measured"] -= (speed_cache.MAX_AGE_DAYS + 1) * 86400
    state.write_text(json.dumps(data))
    assert not estimate(tiny, SIZE, stages=1, precision="fp32").cached  # too old: measured again
    assert estimate(tiny, SIZE, stages=1, precision="fp32").cached
    for junk in (b"{not json", b"\xff\xfe", b"[]", b'{"version": 1, "entries": {"x": 3}}', b""):
        state.write_bytes(junk)
        assert not estimate(tiny, SIZE, stages=1, precision="fp32").cached, junk
    data = json.loads(state.read_text())  # rewritten whole after the last miss
    for entry in data["entries"].values():
        entry["per_pixel"] = "fast"
    state.write_text(json.dumps(data))
    assert not estimate(tiny, SIZE, stages=1, precision="fp32").cached


def test_an_unwritable_or_unreadable_cache_is_ignored(tiny, monkeypatch, forwards, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", "/proc/no-such-state")  # cannot be created
    assert not estimate(tiny, SIZE, stages=1, precision="fp32").cached
    assert not estimate(tiny, SIZE, stages=1, precision="fp32").cached
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(speed_cache, "atomic_write_text", refuse)
    assert not estimate(tiny, SIZE, stages=1, precision="fp32").cached
    monkeypatch.undo()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert estimate(tiny, SIZE, stages=1, precision="fp32").cached is False  # written now
    path = tmp_path / "restoration-explainer" / speed_cache.FILE_NAME
    assert path.is_file()
    if os.geteuid() != 0:  # root reads anything
        path.chmod(0)
        assert not estimate(tiny, SIZE, stages=1, precision="fp32").cached
        path.chmod(0o644)
    monkeypatch.setattr(speed_cache, "cache_file", lambda: tmp_path)  # a folder, not a file
    assert not estimate(tiny, SIZE, stages=1, precision="fp32").cached
    assert len(forwards) == 3 * (5 + (os.geteuid() != 0))
