"""Loading official/bare/prefixed/safetensors weights, bundled manifest, and one-line refusals."""

import json
import os
import pickle

import numpy as np
import pytest
import torch

from models.checkpoints import bundled_weights, file_sha256, load_model, save_weights
from models.errors import ModelError
from tests.constants import DATA

pytestmark = pytest.mark.usefixtures("one_torch_thread")
OFFICIAL = DATA / "tiny_official_checkpoint.pt"


def _check_reference(model, tag="tiny", atol=1e-5):
    io = np.load(DATA / f"{tag}_io.npz")
    with torch.no_grad():
        out = model(torch.from_numpy(io["input"]))
    return (out - torch.from_numpy(io["output"])).abs().max().item() < atol


def test_official_training_checkpoints_load_with_inferred_config():
    for tag, cfg in (("tiny", (8, 4, 4)), ("tiny2", (12, 6, 10))):
        model, info = load_model(DATA / f"{tag}_official_checkpoint.pt")
        assert model.config == cfg
        assert not model.training
        assert not hasattr(model, "weights_info")  # the description sits beside the module
        assert info.config == cfg and info.config_name is None
        assert info.sha256 == file_sha256(DATA / f"{tag}_official_checkpoint.pt")
        assert info.params == sum(p.numel() for p in model.parameters())
        assert _check_reference(model, tag)


def test_bare_and_module_prefixed_state_dicts(tmp_path):
    state = torch.load(OFFICIAL, weights_only=True)["model_state_dict"]
    torch.save(state, tmp_path / "bare.pth")
    torch.save({"model_state_dict": {"module." + k: v for k, v in state.items()}}, tmp_path / "dp.pt")
    for name in ("bare.pth", "dp.pt"):
        assert _check_reference(load_model(tmp_path / name).model)


def test_safetensors_roundtrip_fp32_and_fp16(tmp_path):
    model = load_model(OFFICIAL).model
    sha = save_weights(model, tmp_path / "w32.safetensors", dtype=torch.float32, metadata={"note": "x"})
    assert sha == file_sha256(tmp_path / "w32.safetensors")
    again = load_model(tmp_path / "w32.safetensors").model
    assert _check_reference(again)
    from safetensors import safe_open

    with safe_open(str(tmp_path / "w32.safetensors"), "pt") as fh:
        assert len(list(fh.keys())) == 328
        assert json.loads(fh.metadata()["config"]) == [8, 4, 4]
        assert fh.metadata()["note"] == "x"
    save_weights(model.state_dict(), tmp_path / "w16.safetensors")  # default fp16
    half = load_model(tmp_path / "w16.safetensors").model
    assert _check_reference(half, atol=5e-3)


def _error(path):
    with pytest.raises(ModelError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_refuses_bad_files_with_one_line_messages(tmp_path):
    (tmp_path / "random.pt").write_bytes(pickle.dumps({"a": [1, 2, 3]}))
    assert "not a PyTorch checkpoint" in _error(tmp_path / "random.pt")
    (tmp_path / "noise.pth").write_bytes(np.random.default_rng(0).bytes(4096))
    assert "not a PyTorch checkpoint" in _error(tmp_path / "noise.pth")

    torch.save({"fc.weight": torch.zeros(2, 2), "conv1.weight": torch.zeros(1)}, tmp_path / "other.pt")
    assert "not MSSNet weights" in _error(tmp_path / "other.pt")

    data = OFFICIAL.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    assert "truncated or corrupt" in _error(tmp_path / "trunc.pt")

    save_weights(load_model(OFFICIAL).model, tmp_path / "w.safetensors")
    st = (tmp_path / "w.safetensors").read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(st[: len(st) // 2])
    assert "truncated or corrupt" in _error(tmp_path / "trunc.safetensors")

    state = torch.load(OFFICIAL, weights_only=True)["model_state_dict"]
    del state["tail3_3.weight"]
    torch.save(state, tmp_path / "partial.pt")
    assert "1 missing (e.g. tail3_3.weight)" in _error(tmp_path / "partial.pt")

    torch.save({"epoch": 3, "note": "hello"}, tmp_path / "notensors.pt")
    assert "no model weights" in _error(tmp_path / "notensors.pt") or "no tensors" in _error(
        tmp_path / "notensors.pt"
    )

    assert "not found" in _error(tmp_path / "missing.pt")


@pytest.mark.parametrize(
    "name, content, says",
    [
        ("weights.json", b'{"wf": 20}\n', "this is a JSON file, not model weights"),
        ("empty.pt", b"", "the file is empty"),
        ("notes.pth", b"trained for 3 epochs\n", "this is a text file"),
        ("photo.pt", b"\x89PNG\r\n\x1a\n" + bytes(64), "this is an image"),
        ("photo.ckpt", b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(64), "this is an image"),
        ("model.h5", b"\x89HDF\r\n\x1a\n" + bytes(64), "HDF5 (Keras)"),
    ],
)
def test_files_that_are_not_weights_are_named_for_what_they_are(tmp_path, name, content, says):
    (tmp_path / name).write_bytes(content)
    message = _error(tmp_path / name)
    assert says in message and "\n" not in message and "pickle" not in message


def test_safetensors_is_recognised_whatever_its_extension(tmp_path):
    save_weights(load_model(OFFICIAL).model, tmp_path / "w.safetensors")
    (tmp_path / "w.safetensors").rename(tmp_path / "downloaded.bin")
    model = load_model(tmp_path / "downloaded.bin").model
    assert model.config == load_model(OFFICIAL).model.config


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned-by-pickle",))


def test_pickle_that_runs_code_is_refused_and_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"model_state_dict": {"x": torch.zeros(1)}, "payload": _Evil()}, tmp_path / "evil.pt")
    message = _error(tmp_path / "evil.pt")
    assert "refused to unpickle" in message and "system" in message
    assert not (tmp_path / "pwned-by-pickle").exists()


def test_manifest_names_default_and_sha_check(tmp_path, monkeypatch):
    monkeypatch.setenv("MSSNET_WEIGHTS_DIR", str(tmp_path))
    assert bundled_weights() == []
    message = _error(None)
    assert "no MSSNet weights are installed" in message and "--weights PATH" in message

    sha = save_weights(load_model(OFFICIAL).model, tmp_path / "tiny.safetensors", dtype=torch.float32)
    entry = {
        "name": "tiny-ref",
        "file": "tiny.safetensors",
        "sha256": sha,
        "config": [8, 4, 4],
        "card": "x.md",
    }
    (tmp_path / "manifest.json").write_text(json.dumps({"default": "tiny-ref", "weights": [entry]}))
    assert [e["name"] for e in bundled_weights()] == ["tiny-ref"]
    for arg in (None, "tiny-ref"):
        model, info = load_model(arg)
        assert info.name == "tiny-ref" and info.sha256 == sha
        assert _check_reference(model)
    assert "unknown weights 'nope'" in _error("nope")

    entry["sha256"] = "0" * 64
    (tmp_path / "manifest.json").write_text(json.dumps({"default": "tiny-ref", "weights": [entry]}))
    assert "SHA-256" in _error(None)

    (tmp_path / "manifest.json").write_text("{not json")
    assert "malformed" in _error(None)


def test_the_weights_registry_says_which_file_serves_which_task():
    from models.checkpoints import TASKS, bundled_weights, weights_for_task

    entries = {e["name"]: e for e in bundled_weights()}
    assert all(set(e["tasks"]) <= set(TASKS) for e in entries.values())
    name, note = weights_for_task("enlarge")
    assert "enlarge" in entries[name]["tasks"] and note is None
    name, note = weights_for_task("deblur")
    if "deblur" in entries[name]["tasks"]:
        assert note is None
    else:  # no deblur file shipped yet: the default, and a note that says so
        assert "no bundled weights are trained for deblur" in note and name in note
    with pytest.raises(ModelError, match="unknown task"):
        weights_for_task("denoise")


def test_every_shipped_file_has_a_card_with_its_sha256_evaluation_and_data_licences():
    from models.checkpoints import bundled_weights, weights_dir

    folder = weights_dir()
    for entry in bundled_weights():
        card = (folder / entry["card"]).read_text(encoding="utf-8")
        assert entry["sha256"] in card, entry["name"]
        assert file_sha256(folder / entry["file"]) == entry["sha256"], entry["name"]
        assert "| **mean** | x2 |" in card and "| **mean** | motion |" in card, entry["name"]
        assert "## Training" in card and "Command" in card, entry["name"]
        for package in ("lomiri-wallpapers-16.04", "mate-backgrounds", "plasma-workspace-wallpapers"):
            assert package in card, (entry["name"], package)
