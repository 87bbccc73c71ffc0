"""Dense fact vectors: each fact with its source's name, embedded by `knowledge.embed` (MiniLM on
onnxruntime, no torch) and cached on disk by content."""

from __future__ import annotations

import numpy as np

from knowledge.embed import Embedder, embedder
from knowledge.store import KnowledgeBase


def dense_text(kb: KnowledgeBase, fact) -> str:
    """What gets embedded: the fact in plain words, prefixed by its source's name."""
    return f"{kb.sources[fact.source].name}: {fact.text}"


class DenseIndex:
    """Unit-norm fact vectors plus the embedder that puts queries into the same space."""

    def __init__(self, model: Embedder, fact_ids: list[str], vectors: np.ndarray, from_cache: bool):
        self.model = model
        self.fact_ids = fact_ids
        self.vectors = vectors
        self.from_cache = from_cache

    @classmethod
    def load(cls, kb: KnowledgeBase, model: Embedder | None = None) -> DenseIndex:
        """Raises `knowledge.embed.EmbeddingUnavailable` when the model cannot load."""
        model = model or embedder()
        computed = model.computed
        vectors = model.encode_cached([dense_text(kb, f) for f in kb.facts])
        return cls(model, [f.id for f in kb.facts], vectors, from_cache=model.computed == computed)

    def similarities(self, query: str) -> np.ndarray:
        return self.vectors @ self.embed(query)

    def embed(self, query: str) -> np.ndarray:
        return self.model.encode([query])[0]
