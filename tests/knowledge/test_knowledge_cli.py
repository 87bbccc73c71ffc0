"""`explainer kb list | show | import` (run through knowledge.kb_cli, the module agent/cli.py mounts)."""

import argparse
import subprocess
import sys

from knowledge import kb_cli
from tests.constants import ROOT

SEED = ROOT / "knowledge" / "seed-prompt.txt"


def run(capsys, *argv):
    code = kb_cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_parser_mounts_under_kb():
    parser = argparse.ArgumentParser()
    kb_cli.add_parser(parser.add_subparsers(dest="verb"))
    args = parser.parse_args(["kb", "import", "x.txt", "--cards-dir", "d", "--force"])
    assert args.run is kb_cli.run_import and args.force and args.cards_dir == "d"
    assert parser.parse_args(["kb", "show", "mssnet"]).run is kb_cli.run_show


def test_list(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for needle in [
        "mssnet",
        "featsharp",
        "datacrafter",
        "easier",
        "https://github.com/kky7/MSSNet",
        "super-resolution",
        "mssnet (with-preprocessing)",
    ]:
        assert needle in out, needle


def test_show_source_fact_and_task(capsys):
    code, out, _ = run(capsys, "show", "mssnet")
    assert code == 0
    assert "Workflow:" in out and "[preprocess 2]" in out and "Not known:" in out
    assert out.index("[input 1]") < out.index("[model 1]") < out.index("[output 1]")
    code, out, _ = run(capsys, "show", "mssnet.fft-loss")
    assert code == 0 and "origin: CODE: train/loss_L1_fft.py" in out
    code, out, _ = run(capsys, "show", "dataset-expansion")
    assert code == 0 and "rare species" in out and "datacrafter (primary)" in out


def test_show_unknown_id_is_one_line_error(capsys):
    code, out, err = run(capsys, "show", "restormer")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "no source, fact or task with id 'restormer'" in err


def test_import_then_list_and_refuse_overwrite(capsys, tmp_path):
    target = tmp_path / "imported"
    code, out, _ = run(capsys, "import", str(SEED), "--cards-dir", str(target))
    assert code == 0 and "Imported 4 sources" in out
    assert sorted(p.name for p in target.iterdir()) == [
        "capabilities.json",
        "datacrafter.json",
        "easier.json",
        "featsharp.json",
        "mssnet.json",
        "prompt.json",
    ]
    code, out, _ = run(capsys, "list", "--cards-dir", str(target))
    assert code == 0 and "Deblur-MSSNet-GoPro" in out
    code, _, err = run(capsys, "import", str(SEED), "--cards-dir", str(target))
    assert code == 2 and "already exists" in err and "--force" in err
    code, _, _ = run(capsys, "import", str(SEED), "--cards-dir", str(target), "--force")
    assert code == 0


def test_import_default_directory_is_next_to_the_user(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "import", str(SEED))
    assert code == 0 and (tmp_path / "cards-seed-prompt" / "mssnet.json").exists()


def test_import_malformed_names_line(capsys, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(
        SEED.read_text().replace(
            "GitHub: https://github.com/hnu-vis/datacrafter", "GitHub: hnu-vis/datacrafter"
        )
    )
    code, _, err = run(capsys, "import", str(bad), "--cards-dir", str(tmp_path / "out"))
    assert code == 2 and "line 26:" in err and "URL" in err
    assert not (tmp_path / "out").exists()


def test_module_runs_without_torch(tmp_path):
    """The kb verbs never pull in torch or the embedding model."""
    code = (
        "import sys; from knowledge import kb_cli; rc = kb_cli.main(['list']); "
        "bad = [m for m in ('torch', 'sentence_transformers', 'langchain_core') if m in sys.modules]; "
        "print('HEAVY', bad); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout


def test_through_the_explainer_command(tmp_path):
    """The same verbs as mounted by agent/cli.py, in a fresh process: exit codes, one-line errors, no torch."""
    code = (
        "import sys; from agent.cli import main; rc = main(sys.argv[1:]); "
        "print('HEAVY', [m for m in ('torch', 'sentence_transformers') if m in sys.modules]); sys.exit(rc)"
    )
    ok = subprocess.run(
        [sys.executable, "-c", code, "kb", "show", "mssnet.multiple-of-16"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "multiples of 16" in ok.stdout and "HEAVY []" in ok.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "kb",
            "import",
            str(tmp_path / "missing.txt"),
            "--cards-dir",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("explainer: error: cannot read seed prompt") and bad.stderr.count("\n") == 1


def test_dry_run_prints_the_plan_and_every_warning_and_writes_nothing(capsys, tmp_path):
    target = tmp_path / "never"
    code, out, err = run(capsys, "import", str(SEED), "--cards-dir", str(target), "--dry-run")
    assert code == 0 and not target.exists()
    assert "Dry run: nothing written" in out and "mssnet.json" in out and "prompt.json" in out
    assert "task: feature-upsampling" in out and "confidence" in out and "featsharp.summary-1:" in out
    assert "warning: line 20: no 'GitHub:' line" in err and "line 20: no 'GitHub:' line" in out


def test_show_names_role_and_task_confidence(capsys, tmp_path):
    target = tmp_path / "cards"
    assert run(capsys, "import", str(SEED), "--cards-dir", str(target))[0] == 0
    code, out, _ = run(capsys, "show", "featsharp", "--cards-dir", str(target))
    assert code == 0 and "[featsharp, related paper]" in out
    assert "feature-upsampling (primary, confidence 0." in out and "linked by the words:" in out
    code, out, _ = run(capsys, "list", "--cards-dir", str(target))
    assert "Question: I upscaled a low-res animal picture" in out and "mssnet       recommended" in out


def test_with_packaged_makes_a_mixed_set(capsys, tmp_path):
    seed = tmp_path / "x4.txt"
    seed.write_text(
        'A user has asked the following question:\n"Which model makes photos four times bigger?"\n\n'
        "### Recommended AI Models:\nModel: Real-ESRGAN: Practical Restoration\n"
        "Paper: https://arxiv.org/abs/2107.10833\nGitHub: https://github.com/xinntao/Real-ESRGAN\n"
        "Summary: It restores 4x enlarged images of real scenes.\n"
    )
    target = tmp_path / "mixed"
    code, out, _ = run(capsys, "import", str(seed), "--cards-dir", str(target), "--with-packaged")
    assert code == 0, out
    code, out, _ = run(capsys, "list", "--cards-dir", str(target))
    assert code == 0 and "real-esrgan" in out and "mssnet" in out and "Question: Which model makes" in out
    assert (
        "Super-resolution (upscaling): mssnet (with-preprocessing)" in out and "real-esrgan (primary" in out
    )
    assert "mssnet       related" in out and "real-esrgan  recommended" in out  # the imported prompt's choice
