"""The live demo: helpers on real pixels, then a full run of MSSNet (the tiny reference checkpoint)."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.demo import degrade_for_self_test, most_detailed_box, run_demo, unique_dir
from agent.errors import AgentError
from tests.constants import ROOT

TINY_WEIGHTS = ROOT / "tests" / "data" / "tiny_official_checkpoint.pt"


def _textured(h=120, w=160):
    """Flat grey picture with one noisy (detailed) square at a known place."""
    rgb = np.full((h, w, 3), 0.5, dtype=np.float32)
    rng = np.random.default_rng(1)
    rgb[60:100, 100:140] = rng.random((40, 40, 3), dtype=np.float32)
    return rgb


def test_most_detailed_box_finds_the_texture():
    left, top, right, bottom = most_detailed_box(_textured(), size=32)
    assert right - left == 32 and bottom - top == 32
    assert 100 <= left and right <= 140 and 60 <= top and bottom <= 100


def test_self_test_degradation_removes_high_frequencies():
    from models import metrics
    rgb = _textured()
    soft = degrade_for_self_test(rgb)
    assert soft.shape == rgb.shape and soft.dtype == np.float32
    assert metrics.high_frequency_energy(soft).share < metrics.high_frequency_energy(rgb).share
    assert metrics.psnr(soft, rgb) < 40


def test_self_test_degradation_is_the_evaluations_x2():
    """The demo's self-test scores the weights on the degradation they were evaluated on."""
    torch = pytest.importorskip("torch")
    from models import metrics
    from models.training.degrade import eval_degradation
    rgb = _textured()
    evaluated = eval_degradation(torch.from_numpy(rgb).permute(2, 0, 1)[None], "x2")[0].permute(1, 2, 0).numpy()
    soft = degrade_for_self_test(rgb)
    assert metrics.psnr(soft, evaluated) > 45      # equal up to 8-bit rounding of the small image
    assert metrics.psnr(soft, rgb) < metrics.psnr(soft, evaluated) - 10


def test_unique_dir_never_reuses_a_folder(tmp_path):
    a = unique_dir(tmp_path, "demo-cat")
    b = unique_dir(tmp_path, "demo-cat")
    assert a != b and a.is_dir() and b.is_dir() and b.name == "demo-cat-2"


def test_missing_image_is_a_user_error(tmp_path):
    with pytest.raises(AgentError, match="no such image"):
        run_demo(tmp_path / "nope.png", tmp_path / "out", weights=str(TINY_WEIGHTS))


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    pytest.importorskip("models.engine")
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "pic.png"
    Image.fromarray((_textured() * 255).astype(np.uint8)).save(path)
    return run_demo(path, folder / "assets", weights=str(TINY_WEIGHTS), self_test=True,
                    device="cpu", precision="fp32")


def test_demo_writes_every_artefact(demo_report):
    files = demo_report.files
    for name in ("input", "restored", "before_crop", "after_crop", "reference_crop", "stages", "spectrum",
                 *(f"stage_{i}" for i in range(1, 7))):
        assert Path(files[name]).is_file(), name
    with Image.open(files["restored"]) as img:
        assert img.size == (160, 120)
    with Image.open(files["stage_1"]) as img:
        assert img.size in ((80, 60), (160, 120))   # res1_1: half resolution, or upsampled by the engine
    with Image.open(files["before_crop"]) as img:
        assert img.size[0] == img.size[1] > 0


def test_demo_numbers_and_stage_times(demo_report):
    names = [m.name for m in demo_report.metrics]
    assert names[:2] == ["Sharpness (Laplacian variance)", "High-frequency energy share"]
    assert "PSNR (dB)" in names and "SSIM" in names          # self-test gives a reference
    for row in demo_report.metrics:
        assert row.before is not None and np.isfinite(row.before) and np.isfinite(row.after)
    assert all(f"stage_{i}" in demo_report.timings for i in range(1, 7))
    assert demo_report.reference == "self-test"
    assert demo_report.stats.weights.sha256


def test_reference_needs_same_size(tmp_path):
    pytest.importorskip("models.engine")
    path = tmp_path / "p.png"
    Image.fromarray((_textured() * 255).astype(np.uint8)).save(path)
    with pytest.raises(AgentError, match="upscale 1"):
        run_demo(path, tmp_path / "o", weights=str(TINY_WEIGHTS), self_test=True, upscale=2)


def test_failed_demo_leaves_no_folder(tmp_path):
    from agent.demo import run_demo_in_new_dir
    from models.errors import ModelError
    path = tmp_path / "p.png"
    Image.fromarray((_textured() * 255).astype(np.uint8)).save(path)
    with pytest.raises(ModelError):
        run_demo_in_new_dir(path, tmp_path / "out", weights=str(tmp_path / "missing.pt"))
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("to_another_thread", [False, True])
def test_ctrl_c_as_the_demo_folder_is_made_leaves_no_folder(tmp_path, monkeypatch, to_another_thread):
    """A SIGINT arriving right after the mkdir (the chat's Ctrl-C race) still removes the folder,
    whichever thread the kernel hands it to (the chat has torch and loader threads)."""
    import os
    import signal
    import threading
    import time

    import agent.demo as demo
    real_unique_dir = demo.unique_dir
    idle = threading.Event()
    bystander = threading.Thread(target=idle.wait, daemon=True)
    bystander.start()

    def unique_dir_then_ctrl_c(base, stem):
        made = real_unique_dir(base, stem)
        if to_another_thread:
            signal.pthread_kill(bystander.ident, signal.SIGINT)
        else:
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)                       # the interpreter runs signal handlers here
        return made

    monkeypatch.setattr(demo, "unique_dir", unique_dir_then_ctrl_c)
    from PIL import Image
    Image.new("RGB", (32, 32), "grey").save(tmp_path / "p.png")   # inputs are checked before the folder
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            demo.run_demo_in_new_dir(tmp_path / "p.png", tmp_path / "out", weights=str(TINY_WEIGHTS))
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # the usual handler is back
    finally:
        signal.signal(signal.SIGINT, previous)
        idle.set()
    assert list((tmp_path / "out").iterdir()) == []


def test_the_demo_weights_follow_the_question_task():
    from agent.demo import weights_task

    assert weights_task("super-resolution") == "enlarge"
    assert weights_task("image-deblurring") == "deblur"
    assert weights_task("dataset-expansion") is None and weights_task(None) is None
