"""Load MSSNet weights from anywhere they come from, and save ours.

Accepted: a bundled name (models/weights/manifest.json), our .safetensors, an official training
checkpoint (dict with `model_state_dict`), a bare state dict, DataParallel `module.` keys.
The config (wf, scale, vscale) is read off the tensor shapes, loading is strict, and pickles are
only ever opened with `weights_only=True`. Every failure is a one-line ModelError.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import zipfile
from pathlib import Path

import torch

from common.files import atomic_path, make_folder
from models.errors import ModelError
from models.formats import WEIGHTS_TASKS
from models.mssnet import MSSNet, config_name, count_parameters
from models.precision import resolve_device
from models.weights_info import LoadedModel, WeightsInfo

WEIGHTS_DIR = Path(__file__).parent / "weights"
MANIFEST_NAME = "manifest.json"
HOW_TO_ADD = (
    "train some with `explainer train`, or pass `--weights PATH` to an official "
    "MSSNet checkpoint (.pt/.pth) or to our .safetensors"
)
_STATE_DICT_KEYS = ("model_state_dict", "state_dict", "model", "params", "net")


def weights_dir() -> Path:
    """Where bundled weights live; MSSNET_WEIGHTS_DIR overrides it (tests, custom installs)."""
    return Path(os.environ.get("MSSNET_WEIGHTS_DIR") or WEIGHTS_DIR)


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------- manifest
def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST_NAME
    if not path.exists():
        return {"default": None, "weights": []}
    try:
        data = json.loads(path.read_text())
        entries = data.get("weights", [])
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and "name" in e and "file" in e for e in entries
        ):
            raise ValueError("each entry needs 'name' and 'file'")
    except (ValueError, AttributeError) as exc:
        raise ModelError(f"weights manifest {path} is malformed: {exc}") from None
    return {"default": data.get("default"), "weights": entries}


def bundled_weights() -> list[dict]:
    """The installed weight entries (empty when nothing is installed)."""
    return list(_read_manifest(weights_dir())["weights"])


TASKS = WEIGHTS_TASKS


def weights_for_task(task: str) -> tuple[str | None, str | None]:
    """(bundled weights name, note) for `task`: the default if it serves the task, else the first
    entry that lists it; when none does, the default with a note saying so (None when nothing is
    installed: load_model then explains)."""
    if task not in TASKS:
        raise ModelError(f"unknown task {task!r}: use {' or '.join(TASKS)}")
    manifest = _read_manifest(weights_dir())
    entries = manifest["weights"]
    serving = [e["name"] for e in entries if task in e.get("tasks", ())]
    if manifest["default"] in serving:
        return manifest["default"], None
    if serving:
        return serving[0], None
    fallback = manifest["default"] or (entries[0]["name"] if entries else None)
    if fallback is None:
        return None, None
    entry: dict = next((e for e in entries if e["name"] == fallback), {})
    trained = ", ".join(entry.get("tasks") or ["another task"])
    measured = f"; {entry['summary']}" if entry.get("summary") else ""
    return fallback, (
        f"no bundled weights are trained for {task} yet: using {fallback}, trained for {trained}{measured}"
    )


def _manifest_entry(name: str | None) -> dict:
    folder = weights_dir()
    manifest = _read_manifest(folder)
    entries = {e["name"]: e for e in manifest["weights"]}
    if name is None:
        name = manifest["default"] or (next(iter(entries)) if len(entries) == 1 else None)
        if name is None:
            raise ModelError(f"no MSSNet weights are installed; {HOW_TO_ADD}")
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none installed"
        raise ModelError(f"unknown weights {name!r} (bundled: {known}); {HOW_TO_ADD}")
    return entries[name]


# ---------------------------------------------------------------------------- reading files
_NOT_WEIGHTS = (  # leading bytes of files people pass by mistake
    ((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*"), "an image"),
    ((b"\x89HDF",), "an HDF5 (Keras) file"),
    ((b"{", b"["), "a JSON file"),
)


def sniff_weights_file(path: Path) -> str:
    """'safetensors' | 'pickle' (torch zip or legacy pickle); a one-line ModelError naming what
    the file is when it is not weights at all."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if not head:
        raise ModelError(f"{path.name}: the file is empty, not model weights")
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000:
        return "safetensors"  # an 8-byte header length, then the JSON header
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return "pickle"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        raise ModelError(f"{path.name}: this is an image, not model weights")
    for magics, kind in _NOT_WEIGHTS:
        if head.lstrip().startswith(magics):
            raise ModelError(f"{path.name}: this is {kind}, not model weights")
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        raise ModelError(f"{path.name}: this is a text file, not model weights")
    raise ModelError(f"{path.name}: not a PyTorch checkpoint or .safetensors file (unrecognised format)")


def _read_pickle(path: Path) -> object:
    import re
    import warnings

    try:
        with warnings.catch_warnings():  # protocol warnings are noise here; failures are reported
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        wanted = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if wanted:
            raise ModelError(
                f"{path.name}: refused to unpickle: it asks to import {wanted.group(1)} "
                f"(a pickle that would run code); only tensors are accepted"
            ) from None
        raise ModelError(f"{path.name}: not a PyTorch checkpoint (an unrecognised pickle)") from None
    except RuntimeError as exc:
        if "magic number" in str(exc):
            raise ModelError(f"{path.name}: not a PyTorch checkpoint (unrecognised file format)") from None
        raise ModelError(
            f"{path.name}: not a readable PyTorch checkpoint (truncated or corrupt?): "
            f"{str(exc).strip().splitlines()[0].split('. ')[0][:120]}"
        ) from None
    except (EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ModelError(
            f"{path.name}: not a readable PyTorch checkpoint (truncated or corrupt?): "
            f"{(str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]}"
        ) from None


def _read_safetensors(path: Path) -> tuple[dict, dict]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for corrupt headers
        first = str(exc).strip().split("\n")[0][:160]
        raise ModelError(
            f"{path.name}: not a readable .safetensors file (truncated or corrupt?): {first}"
        ) from None
    return tensors, meta


def _extract_state_dict(obj: object, source: str) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in _STATE_DICT_KEYS:
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj:
        raise ModelError(
            f"{source}: no model weights found (expected a state dict or a "
            f"checkpoint with 'model_state_dict')"
        )
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise ModelError(f"{source}: no tensors found; this is not a model checkpoint")
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
    return tensors


def infer_config(state: dict[str, torch.Tensor], source: str = "weights") -> tuple[int, int, int]:
    """(wf, scale, vscale) from the first conv and the two encoder down-projections."""
    needed = ("shallow_feat1.0.weight", "E1_1.down12.down.1.weight", "E1_1.down23.down.1.weight")
    missing = [k for k in needed if k not in state]
    if missing:
        sample = ", ".join(sorted(state)[:3])
        raise ModelError(f"{source}: not MSSNet weights (no {missing[0]!r}; keys look like {sample})")
    wf = state[needed[0]].shape[0]
    w2 = state[needed[1]].shape[0]
    w3 = state[needed[2]].shape[0]
    return int(wf), int(w2 - wf), int(w3 - w2)


def model_from_state_dict(
    state: dict[str, torch.Tensor], source: str = "weights", shortcuts: bool = True
) -> MSSNet:
    config = infer_config(state, source)
    model = MSSNet(*config, shortcuts=shortcuts)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        expected = model.state_dict()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            parts.append(f"{len(wrong)} with the wrong shape (e.g. {wrong[0]})")
        detail = "; ".join(parts) or str(exc).split("\n")[0]
        raise ModelError(f"{source}: weights do not fit MSSNet{config}: {detail}") from None
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ModelError(f"{source}: weights contain NaN or Inf (e.g. {bad[0]})")
    return model


def _load_file(path: Path, shortcuts: bool) -> tuple[MSSNet, dict]:
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    meta: dict = {}
    if path.suffix == ".safetensors" or sniff_weights_file(path) == "safetensors":
        state, meta = _read_safetensors(path)
    else:
        state = _extract_state_dict(_read_pickle(path), path.name)
    return model_from_state_dict(state, path.name, shortcuts), meta


def load_model(
    name_or_path: str | os.PathLike | None = None, device: str = "cpu", *, shortcuts: bool = True
) -> LoadedModel:
    """An MSSNet in eval mode beside its frozen `WeightsInfo`: `model, info = load_model(...)`.
    `shortcuts=False` builds it to run the official code's literal operations (see MSSNet)."""
    entry = None
    if name_or_path is not None and Path(name_or_path).exists():
        path = Path(name_or_path)
    elif name_or_path is not None and _looks_like_path(str(name_or_path)):
        raise ModelError(f"weights file not found: {name_or_path}")
    else:
        entry = _manifest_entry(None if name_or_path is None else str(name_or_path))
        path = weights_dir() / entry["file"]
        if not path.is_file():
            raise ModelError(
                f"bundled weights {entry['name']!r} are listed but {path.name} is missing; {HOW_TO_ADD}"
            )
    sha = file_sha256(path)
    if entry is not None and entry.get("sha256") and entry["sha256"] != sha:
        raise ModelError(
            f"bundled weights {entry['name']!r} failed the SHA-256 check "
            f"({path.name} is {sha[:12]}..., manifest says {entry['sha256'][:12]}...)"
        )
    model, _meta = _load_file(path, shortcuts)
    card = weights_dir() / entry["card"] if entry and entry.get("card") else None
    info = WeightsInfo(
        name=entry["name"] if entry else path.stem,
        path=str(path),
        sha256=sha,
        config=model.config,
        config_name=config_name(model.config),
        params=count_parameters(model),
        provisional=bool(entry and entry.get("provisional")),
        card=str(card) if card else None,
        summary=entry.get("summary") if entry else None,
    )
    return LoadedModel(model.eval().to(resolve_device(device)), info)


def _looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or Path(text).suffix in (".pt", ".pth", ".safetensors", ".ckpt")


# ---------------------------------------------------------------------------- saving
def save_weights(
    model_or_state_dict,
    path: str | os.PathLike,
    dtype: torch.dtype = torch.float16,
    metadata: dict | None = None,
) -> str:
    """Write our .safetensors (official key layout, config in the metadata); returns its SHA-256."""
    from safetensors.torch import save_file

    state = (
        model_or_state_dict.state_dict()
        if isinstance(model_or_state_dict, torch.nn.Module)
        else dict(model_or_state_dict)
    )
    state = {k[len("module.") :] if k.startswith("module.") else k: v for k, v in state.items()}
    config = infer_config(state)
    # safetensors refuses shared storage: the shared PReLU slope is stored once per key, as in
    # the official checkpoints.
    tensors = {k: v.detach().to("cpu", dtype).contiguous().clone() for k, v in state.items()}
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta.update(
        {"format": "mssnet", "config": json.dumps(list(config)), "config_name": str(config_name(config))}
    )
    path = make_folder(Path(path).parent) / Path(path).name
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return file_sha256(path)
