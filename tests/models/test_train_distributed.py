"""torchrun: two CPU processes (gloo) train like one process with the same global batch."""

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from models.training.data import dead_leaves
from models.training.train import CHECKPOINT_NAME, LOG_NAME, PRESETS, rank_seed, train
from tests.constants import ROOT

# the smoke recipe with a global batch of 4 (2 per process) in fp32, so the sums compare tightly
ARGS = [
    "--preset",
    "smoke",
    "--batch",
    "4",
    "--precision",
    "fp32",
    "--lr",
    "2e-3",
    "--fixed-batch",
    "--no-progress",
    "--threads",
    "1",
]
CFG = replace(PRESETS["smoke"], batch=4, precision="fp32", lr=2e-3)


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(3)
    for i in range(4):
        Image.fromarray(dead_leaves(128, rng)).save(folder / f"leaves{i}.png")
    return folder


def torchrun(nproc: int, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "models.training.train",
        *args,
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_two_processes_match_one_with_the_same_global_batch(tmp_path, photo_dir):
    torch.set_num_threads(1)
    single = train(
        replace(CFG, steps=3), tmp_path / "one", photo_dir, device="cpu", fixed_batch=True, progress=False
    )
    done = torchrun(2, *ARGS, "--photos", str(photo_dir), "--run-dir", str(tmp_path / "two"), "--steps", "3")
    assert "over 2 process(es), gloo" in done.stdout
    log = [json.loads(line) for line in (tmp_path / "two" / LOG_NAME).read_text().splitlines()]
    assert log[0]["processes"] == 2  # rank 0 alone writes the log
    two_losses = [e["loss"] for e in log if "loss" in e]
    one_losses = [e["loss"] for e in single.history if "loss" in e]
    assert len(two_losses) == len(one_losses) == 3
    assert two_losses == pytest.approx(one_losses, rel=1e-4)
    a = torch.load(tmp_path / "one" / CHECKPOINT_NAME, weights_only=True)
    b = torch.load(tmp_path / "two" / CHECKPOINT_NAME, weights_only=True)
    assert one_losses[-1] < one_losses[0]  # the steps really trained
    for key, value in a["model_state_dict"].items():
        torch.testing.assert_close(b["model_state_dict"][key], value, rtol=1e-4, atol=1e-5, msg=key)
    assert len(b["rng"]["ranks"]) == 2 and not torch.equal(*b["rng"]["ranks"])

    # resume the 2-process run in 1 process: it continues from step 3
    resumed = train(
        CFG, tmp_path / "two", photo_dir, device="cpu", resume=True, steps=5, fixed_batch=True, progress=False
    )
    assert resumed.step == 5 and resumed.history[0]["processes"] == 1


def test_each_rank_draws_its_own_data():
    seeds = {rank_seed(1234, r) for r in range(8)} | {rank_seed(1234, r, 100) for r in range(8)}
    assert len(seeds) == 16 and rank_seed(1234, 0) == 1234  # one process keeps the run's seed
