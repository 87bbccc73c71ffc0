"""Tuning values of the knowledge layer in one typed place (calibrated, not scattered constants).

`UNDERSTANDING` tunes the understanding layer; `RETRIEVAL` holds what
`benchmarks/bench_retrieval.py --calibrate` measures for `EvidenceSearch`; `EMBEDDING` how the
MiniLM embedder runs. Frozen: a caller that wants other values makes a copy with
`dataclasses.replace`, it never edits the shared one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class UnderstandingSettings:
    # Fact ranking: BM25 (normalised to the best fact) and MiniLM cosine mapped onto [0, 1]
    # between `dense_floor` (unrelated sentences sit near 0.1) and `dense_ceiling` (paraphrases).
    dense_weight: float = 0.6
    dense_floor: float = 0.15
    dense_ceiling: float = 0.65
    # A fact that states the asked attribute moves up by this much before renormalising.
    attribute_bonus: float = 0.35
    # Kind and attribute by nearest examples: how many neighbours vote, and the least cosine that
    # decides an attribute when no cue names one.
    neighbours: int = 5
    # Attribute neighbours vote by exp((cosine - nearest cosine) / softness): the nearest example
    # weighs most, a crowd of middling ones cannot outvote it.
    attribute_vote_softness: float = 0.05
    # attribute_min_cosine: `./run bench bench_attribute_meaning` (leave-one-out over the attribute
    # examples, names put aside, fact questions beside them): the least cosine at which at least 90%
    # of the examples are labelled right, 0.725 (90.8% right, 70% reach it; 2026-12-07).
    attribute_min_cosine: float = 0.725
    kind_min_cosine: float = 0.45
    # A part with no attribute is covered when its best fact scores at least this.
    covered_min_score: float = 0.45
    # Several sources state the asked attribute: the best-ranked one owns it ("Why does it need
    # multiples of 16?") when its fact leads the others' by this much.
    owner_margin: float = 0.15
    # The asked attribute is a prior: a fact of the same subjects whose own score (without the
    # bonus) beats the best attribute-stating fact by more than this leads instead.
    attribute_margin: float = 0.2
    # With no fact stating the asked attribute, a fact scoring this on its own still answers
    # (else "the sources don't say").
    strong_match: float = 0.9
    # A conversation's question with at most this many content words continues the one before.
    follow_up_words: int = 4
    # How many ranked facts each part keeps.
    facts_per_part: int = 8


UNDERSTANDING = UnderstandingSettings()


@dataclass(frozen=True)
class RetrievalSettings:
    # the usual reciprocal-rank-fusion constant: damps the weight of the very top ranks
    rrf_k: int = 60
    # MiniLM ranks these short technical facts less reliably than BM25 with expansions: on the dev
    # questions a dense weight of 0.5 or 0.75 gave top-1 0.927 against 0.902 at 1.0.
    dense_weight: float = 0.75
    # cosine of unrelated MiniLM sentences sits near `dense_floor`, of a paraphrase above
    # floor + span: similarities are mapped linearly from that band onto [0, 1]
    dense_floor: float = 0.1
    dense_span: float = 0.5
    # evidence value below which the cards do not cover a question, per mode: calibrated on the
    # questions of benchmarks/retrieval_questions.jsonl by `./run bench bench_retrieval --calibrate`
    # (best abstention F1, widest margin). hybrid: re-calibrated for the ONNX MiniLM on 2026-12-02
    # (F1 0.980, leave-one-out 0.943); bm25 kept from 2026-11-26 (now 0.960 at 0.413, 0.962 at 0.469)
    thresholds: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({"bm25": 0.413, "hybrid": 0.432})
    )
    # a proper name the cards never mention (SDXL, Canberra, GPT-4) points outside the sources
    unknown_name_penalty: float = 0.5
    # BM25 weight for facts of a source that performs the task the wording names
    task_prior: float = 1.25

    def dense_evidence(self, similarity: np.ndarray | float) -> np.ndarray:
        """A cosine (or an array of them) as evidence in [0, 1]."""
        return np.clip((similarity - self.dense_floor) / self.dense_span, 0.0, 1.0)


@dataclass(frozen=True)
class EmbeddingSettings:
    # sentence-transformers' max_seq_length for all-MiniLM-L6-v2 (the tokenizer file says 128)
    max_tokens: int = 256
    batch_size: int = 32
    # onnxruntime intra-op threads: on this busy 2-core machine one thread was faster for a query
    # (10 ms against 19 ms) and for a batch of 700 texts (8.6 s against 15.5 s)
    threads: int = 1
    # rows kept in the on-disk vector cache (384 float32 each: 5000 rows are about 7.7 MB)
    cache_rows: int = 5000


RETRIEVAL = RetrievalSettings()
EMBEDDING = EmbeddingSettings()
