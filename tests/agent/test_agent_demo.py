"""The live demo: helpers on real pixels, then a full run of MSSNet (the tiny reference checkpoint)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.demo.folders import unique_dir
from agent.demo.measure import most_detailed_box
from agent.demo.run import degrade_for_self_test, run_demo
from agent.errors import AgentError
from models.errors import ModelError
from tests.constants import ROOT

TINY_WEIGHTS = ROOT / "tests" / "data" / "tiny_official_checkpoint.pt"


def _textured(h=120, w=160):
    """Flat grey picture with one noisy (detailed) square at a known place."""
    rgb = np.full((h, w, 3), 0.5, dtype=np.float32)
    rng = np.random.default_rng(1)
    top, left, side = h // 2, (5 * w) // 8, min(h, w) // 3
    rgb[top : top + side, left : left + side] = rng.random((side, side, 3), dtype=np.float32)
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
    evaluated = (
        eval_degradation(torch.from_numpy(rgb).permute(2, 0, 1)[None], "x2")[0].permute(1, 2, 0).numpy()
    )
    soft = degrade_for_self_test(rgb)
    assert metrics.psnr(soft, evaluated) > 45  # equal up to 8-bit rounding of the small image
    assert metrics.psnr(soft, rgb) < metrics.psnr(soft, evaluated) - 10


def test_unique_dir_never_reuses_a_folder(tmp_path):
    a = unique_dir(tmp_path, "demo-cat")
    b = unique_dir(tmp_path, "demo-cat")
    assert a != b and a.is_dir() and b.is_dir() and b.name == "demo-cat-2"


def test_missing_image_is_a_user_error(tmp_path):
    with pytest.raises(ModelError, match="no such image file"):
        run_demo(tmp_path / "nope.png", tmp_path / "out", weights=str(TINY_WEIGHTS))


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    pytest.importorskip("models.engine")
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "pic.png"
    Image.fromarray((_textured() * 255).astype(np.uint8)).save(path)
    return run_demo(
        path, folder / "assets", weights=str(TINY_WEIGHTS), self_test=True, device="cpu", precision="fp32"
    )


def test_demo_writes_every_artefact(demo_report):
    files = demo_report.files
    for name in (
        "input",
        "restored",
        "before_crop",
        "after_crop",
        "reference_crop",
        "stages",
        "spectrum",
        *(f"stage_{i}" for i in range(1, 7)),
    ):
        assert Path(files[name]).is_file(), name
    with Image.open(files["restored"]) as img:
        assert img.size == (160, 120)
    with Image.open(files["stage_1"]) as img:
        assert img.size in ((80, 60), (160, 120))  # res1_1: half resolution, or upsampled by the engine
    with Image.open(files["before_crop"]) as img:
        assert img.size[0] == img.size[1] > 0


def test_demo_numbers_and_stage_times(demo_report):
    names = [m.name for m in demo_report.metrics]
    assert names[:2] == ["Sharpness (Laplacian variance)", "High-frequency energy share"]
    assert "PSNR (dB)" in names and "SSIM" in names  # self-test gives a reference
    for row in demo_report.metrics:
        assert row.before is not None and np.isfinite(row.before) and np.isfinite(row.after)
    assert set(demo_report.stage_timing.median) == {f"stage_{i}" for i in range(1, 7)}
    assert demo_report.reference == "self-test"
    assert demo_report.stats.weights.sha256


def test_reference_must_be_the_output_size_checked_before_any_work(tmp_path):
    """The enlargement workflow: the reference is the sharp original at the ×N output size. A wrong
    size is refused before the weights load (the weights path does not even exist) or a folder is made."""
    small, sharp = tmp_path / "small.png", tmp_path / "sharp.png"
    Image.fromarray((_textured(60, 80) * 255).astype(np.uint8)).save(small)
    Image.fromarray((_textured(100, 100) * 255).astype(np.uint8)).save(sharp)
    with pytest.raises(AgentError, match=r"100x100 but the result will be 160x120 \(the picture x2\)"):
        run_demo(small, tmp_path / "out", weights=str(tmp_path / "missing.pt"), upscale=2, reference=sharp)
    assert not (tmp_path / "out").exists()
    with pytest.raises(AgentError, match="not both"):
        run_demo(
            small, tmp_path / "out", weights=str(TINY_WEIGHTS), upscale=2, reference=sharp, self_test=True
        )


def test_self_test_degradation_follows_the_upscale_factor():
    torch = pytest.importorskip("torch")
    from models import metrics
    from models.training.degrade import eval_degradation

    rgb = _textured()
    x3 = eval_degradation(torch.from_numpy(rgb).permute(2, 0, 1)[None], "x3")[0].permute(1, 2, 0).numpy()
    assert np.array_equal(degrade_for_self_test(rgb, 3), x3)
    assert metrics.psnr(degrade_for_self_test(rgb, 4), rgb) < metrics.psnr(degrade_for_self_test(rgb, 2), rgb)


@pytest.fixture(scope="module")
def enlarged_report(tmp_path_factory, one_torch_thread):
    """The founding case: a small picture enlarged ×2 and scored against its sharp original."""
    pytest.importorskip("models.engine")
    folder = tmp_path_factory.mktemp("enlarge")
    sharp = _textured(96, 128)
    Image.fromarray((sharp * 255 + 0.5).astype(np.uint8)).save(folder / "sharp.png")
    Image.fromarray((sharp * 255 + 0.5).astype(np.uint8)).resize((64, 48), Image.Resampling.BICUBIC).save(
        folder / "small.png"
    )
    return run_demo(
        folder / "small.png",
        folder / "assets",
        weights=str(TINY_WEIGHTS),
        upscale=2,
        reference=folder / "sharp.png",
        device="cpu",
        precision="fp32",
        streamline=True,
    )


def test_enlargement_is_scored_bicubic_vs_mssnet(enlarged_report):
    rep = enlarged_report
    assert (rep.before_label, rep.after_label, rep.factor) == ("Bicubic ×2", "MSSNet", 2)
    rows = {m.name: m for m in rep.metrics}
    assert np.isfinite(rows["PSNR (dB)"].before) and np.isfinite(rows["SSIM"].after)
    assert rep.stats.output_size == (128, 96)
    d = rep.detail
    assert d.input_energy < d.reference_energy  # bicubic lost high-frequency energy ...
    assert d.recovered_share == pytest.approx(
        (d.output_energy - d.input_energy) / (d.reference_energy - d.input_energy)
    )
    assert f"{d.recovered_share:.0%}" in d.summary  # ... and the plain-words line says how much came back
    with Image.open(rep.files["enlarged_bicubic"]) as img:
        assert img.size == (128, 96)


def test_early_exit_table_has_six_cumulative_stages(enlarged_report):
    rows = enlarged_report.early_exit
    assert [r.stage for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(b.seconds >= a.seconds for a, b in zip(rows, rows[1:]))
    assert rows[-1].time_share == pytest.approx(1.0)
    assert all(r.psnr is not None and np.isfinite(r.psnr) for r in rows)
    assert rows[-1].psnr == pytest.approx(
        {m.name: m for m in enlarged_report.metrics}["PSNR (dB)"].after, abs=1e-6
    )
    assert "stages would save" in enlarged_report.early_exit_summary
    with Image.open(enlarged_report.files["early_exit"]) as img:
        assert img.format == "PNG"


def test_streamline_in_the_demo_ranks_all_87_sites(enlarged_report):
    result = enlarged_report.streamline
    assert len(result.sites) == 87
    assert [s.mean_entropy for s in result.sites] == sorted(s.mean_entropy for s in result.sites)
    assert [r.k for r in result.sweep] == [0, 1, 2, 4, 8, 16, 32, 64, 87]
    assert (
        result.sweep[0].psnr_vs_full is None
    )  # zero sites linearised: the network itself, no stand-in number
    text = " ".join(enlarged_report.streamline_summary)
    assert result.sites[0].name in text and "5×5" in text and "crop" in text
    assert Path(enlarged_report.files["streamline"]).is_file()


def test_demo_json_has_no_nan_and_names_the_weights(enlarged_report):
    import json

    data = enlarged_report.to_dict(relative_to=enlarged_report.out_dir)
    text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    assert data["weights"]["sha256"] and data["weights"]["provisional"] is False  # a test file: no model card
    assert "no model card" in data["weights_line"]
    assert set(data["stage_times"]) == {f"stage_{i}" for i in range(1, 7)}
    assert data["file_labels"]["zoom_strip"].startswith("zoom strip ×3") and data["weights_reason"]
    assert data["files"]["early_exit"] == "early_exit.png"
    assert len(data["early_exit"]) == 6 and data["streamline"]["sweep"][0]["k"] == 0
    assert "Bicubic ×2" in text


def test_tiny_picture_is_too_small_to_measure_never_nan(tmp_path, one_torch_thread):
    import json

    path = tmp_path / "tiny.png"
    Image.fromarray((_textured(8, 8) * 255).astype(np.uint8)).save(path)
    rep = run_demo(
        path,
        tmp_path / "o",
        weights=str(TINY_WEIGHTS),
        self_test=True,
        device="cpu",
        precision="fp32",
        streamline=True,
    )
    rows = {m.name: m for m in rep.metrics}
    assert rows["SSIM"].after_text == "too small to measure"
    assert rows["High-frequency energy share"].before_text == "too small to measure"
    assert "too small to measure" in rep.detail.summary
    json.dumps(rep.to_dict(), allow_nan=False)


def test_reference_rounded_down_by_the_shrink_is_cropped(tmp_path, one_torch_thread):
    sharp = _textured(61, 81)
    Image.fromarray((sharp * 255).astype(np.uint8)).save(tmp_path / "sharp.png")
    Image.fromarray((sharp[:60, :80] * 255).astype(np.uint8)).resize((40, 30)).save(tmp_path / "small.png")
    rep = run_demo(
        tmp_path / "small.png",
        tmp_path / "o",
        weights=str(TINY_WEIGHTS),
        upscale=2,
        reference=tmp_path / "sharp.png",
        device="cpu",
        precision="fp32",
    )
    assert "cropped" in rep.note and rep.stats.output_size == (80, 60)


def test_streamlining_questions_are_recognised():
    from agent.compose import answer_question
    from agent.demo.trigger import asks_about_streamlining

    def asks(question: str) -> bool:
        return asks_about_streamlining(answer_question(question, picture=True))

    assert asks("How does AI streamline its steps to keep high-frequency detail?")
    assert asks("Which layers can EASIER linearise?")
    assert asks("Would removing layers make it faster on this photo?")
    assert not asks("Is there an easier way to sharpen my cat photo?")


def test_the_question_s_factor_is_the_demo_s_when_none_is_given():
    from agent.compose import answer_question
    from agent.demo.trigger import question_factor

    assert question_factor(answer_question("Can you make it twice as big?", picture=True)) == 2
    assert question_factor(answer_question("Enlarge this photo x4 please", picture=True)) == 4
    assert question_factor(answer_question("Can MSSNet do 4x?", picture=False)) is None


def test_failed_demo_leaves_no_folder(tmp_path):
    from agent.demo.run import run_demo_in_new_dir
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

    import agent.demo.folders as folders
    import agent.demo.run as demo

    real_unique_dir = folders.unique_dir
    idle = threading.Event()
    bystander = threading.Thread(target=idle.wait, daemon=True)
    bystander.start()

    def unique_dir_then_ctrl_c(base, stem):
        made = real_unique_dir(base, stem)
        if to_another_thread:
            signal.pthread_kill(bystander.ident, signal.SIGINT)
        else:
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the interpreter runs signal handlers here
        return made

    monkeypatch.setattr(folders, "unique_dir", unique_dir_then_ctrl_c)
    from PIL import Image

    Image.new("RGB", (32, 32), "grey").save(tmp_path / "p.png")  # inputs are checked before the folder
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            demo.run_demo_in_new_dir(tmp_path / "p.png", tmp_path / "out", weights=str(TINY_WEIGHTS))
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the usual handler is back
    finally:
        signal.signal(signal.SIGINT, previous)
        idle.set()
    assert list((tmp_path / "out").iterdir()) == []


def test_the_question_task_is_a_hint_for_the_weights():
    from models.weights_choice import question_task

    assert question_task("super-resolution") == "enlarge"
    assert question_task("image-deblurring") == "deblur"
    assert question_task("dataset-expansion") is None and question_task(None) is None


def test_deblur_self_test_blurs_with_the_motion_evaluation_not_an_enlargement(tmp_path):
    """A shaky-photo question's self-test scores the deblurring weights on their own degradation."""
    torch = pytest.importorskip("torch")
    from models.training.degrade import eval_degradation

    rgb = _textured()
    motion = eval_degradation(torch.from_numpy(rgb).permute(2, 0, 1)[None], "motion")[0].permute(1, 2, 0)
    assert np.array_equal(degrade_for_self_test(rgb, task="deblur"), motion.clamp(0, 1).numpy())
    path = tmp_path / "pic.png"
    Image.fromarray((rgb * 255).astype(np.uint8)).save(path)
    report = run_demo(
        path,
        tmp_path / "out",
        weights=str(TINY_WEIGHTS),
        self_test=True,
        card_task="image-deblurring",
        device="cpu",
        precision="fp32",
    )
    assert report.reference == "self-test" and report.factor == 1
    assert report.before_label == "Blurred" and "13-pixel straight camera motion" in report.note
    assert "enlarged" not in report.note and "enlarged_bicubic" not in report.files


def test_demo_progress_shows_the_time_left_for_a_big_picture(tmp_path, monkeypatch):
    import io

    from rich.console import Console

    import agent.demo.run as demo
    import models.formats

    monkeypatch.setattr(
        models.formats, "ESTIMATE_FROM_PIXELS", 0
    )  # the tiny weights are fast: estimate anyway
    path = tmp_path / "pic.png"
    Image.fromarray((_textured() * 255).astype(np.uint8)).save(path)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    demo.run_demo(
        path, tmp_path / "out", weights=str(TINY_WEIGHTS), device="cpu", precision="fp32", console=console
    )
    assert "MSSNet restoring" in screen.getvalue() and " left" in screen.getvalue()


def test_stage_times_swamped_by_their_spread_are_not_printed(tmp_path):
    """A cumulative time smaller than its own spread between runs is noise: the column stays empty
    and the table says why, instead of printing '0.030 ± 0.350'."""
    from agent.demo.result import DemoResult, StageExit, StageTiming
    from agent.demo.tables import NOISE, early_exit_table

    timing = StageTiming(
        median={f"stage_{k}": 0.03 * k for k in range(1, 7)},
        spread={f"stage_{k}": 0.7 if k == 1 else 0.01 for k in range(1, 7)},
        repeats=5,
        crop=(64, 64),
    )
    rows = [StageExit(k, f"s{k}", 0.03 * k, 0.7 if k == 1 else 0.01, k / 6, None) for k in range(1, 7)]
    demo = DemoResult(image_name="x.png", out_dir=tmp_path, stage_timing=timing, early_exit=rows)
    table = early_exit_table(demo)
    assert table is not None
    assert any(NOISE in n for n in table.notes)
    assert not any("±" in cell for row in table.rows for cell in row)
