"""Evidence search over the cards: BM25 now, BM25 + dense (reciprocal rank fusion) once loaded.

This module does not import langchain (about 0.5 s) or onnxruntime: a one-shot `explainer ask`
can use `EvidenceSearch` directly and start fast, and the MiniLM embedder (`knowledge.embed`,
about 0.4 s to load, no torch) joins when asked for. The langchain `BaseRetriever` is the thin
wrapper in `knowledge.retriever`.

Abstention: each query gets an evidence value in [0, 1] from the lexical match (and, once
loaded, the embedding similarity); below the threshold calibrated for the current mode by
`benchmarks/bench_retrieval.py --calibrate` (kept in `knowledge.settings`), the cards do not cover
the question.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

import numpy as np

from knowledge.dense import DenseIndex
from knowledge.embed import background
from knowledge.lexical import LexicalIndex, compact
from knowledge.settings import RETRIEVAL, RetrievalSettings
from knowledge.store import KnowledgeBase, load_knowledge
from knowledge.text import is_acronym_plural, leads_as_subject, tokens

log = logging.getLogger(__name__)

_NAME = re.compile(r"(?<![\w/.-])([A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*)")
_SCALE = re.compile(r"x\d+", re.I)  # "x4": a scale factor, not a name
# Everyday computing acronyms that say nothing about which system a question is about.
GENERIC_ACRONYMS = frozenset({"AI", "ML", "HD", "UHD", "GPU", "CPU", "RAM", "OK", "PC", "ID"})
_URLS = re.compile(r"https?://\S+|www\.\S+")


@dataclass(frozen=True)
class Evidence:
    fact_id: str
    source_id: str
    score: float  # fused relevance (RRF in hybrid mode, normalised BM25 alone)
    text: str
    kind: str = "fact"
    bm25: float = 0.0
    dense: float | None = None


@dataclass(frozen=True)
class Assessment:
    covered: bool
    best_score: float  # the evidence value compared with `threshold`
    evidence: list[Evidence]
    sources_ranked: list[str]
    mode: str = "bm25"
    threshold: float = 0.0
    tasks: list[str] = field(default_factory=list)  # task ids the wording points at
    named_sources: list[str] = field(default_factory=list)  # sources the question names
    unknown_names: list[str] = field(default_factory=list)  # proper names the cards never mention


class EvidenceSearch:
    """Hybrid fact search. `dense`: "auto" (use embeddings once `warm_up()` has loaded them),
    True (load them on first use, blocking), False (BM25 only)."""

    def __init__(
        self,
        kb: KnowledgeBase | None = None,
        k: int = 8,
        dense: bool | str = "auto",
        thresholds: dict[str, float] | None = None,
        settings: RetrievalSettings = RETRIEVAL,
    ):
        if dense not in ("auto", True, False):
            raise ValueError("dense must be 'auto', True or False")
        self.kb = kb or load_knowledge()
        self.k = k
        self.dense_mode = dense
        self.settings = settings
        self.thresholds = dict(settings.thresholds, **(thresholds or {}))
        self.lexical = LexicalIndex(self.kb)
        self._dense: DenseIndex | None = None
        self._dense_error: BaseException | None = None
        self._loader: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- embedding model life cycle -------------------------------------------------------
    def warm_up(self) -> threading.Thread | None:
        """Start loading the embedding model and card vectors in a background thread."""
        if self.dense_mode is False:
            return None
        with self._lock:
            if self._loader is None:
                self._loader = background(self._load_dense, "embeddings")
            return self._loader

    def _load_dense(self) -> None:
        try:
            self._dense = DenseIndex.load(self.kb)
        except Exception as exc:  # noqa: BLE001 - keep answering with BM25; report via dense_error
            self._dense_error = exc
            log.warning("paraphrase retrieval is off, answering with BM25 alone: %s", exc)

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        thread = self.warm_up()
        if thread is not None:
            thread.join(timeout)
        return self._dense is not None

    @property
    def dense_ready(self) -> bool:
        return self._dense is not None

    @property
    def dense_error(self) -> BaseException | None:
        return self._dense_error

    @property
    def mode(self) -> str:
        return "hybrid" if self._dense is not None else "bm25"

    # ---- queries ---------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None):
        return self.assess(query, k=k).evidence

    def assess(self, query: str, k: int | None = None) -> Assessment:
        k = k or self.k
        if self.dense_mode is True and self._dense is None and self._dense_error is None:
            self.wait_until_ready()
        lex = self.lexical
        q_tokens = lex.expand(query)
        bm25 = lex.scores(q_tokens) * self._task_prior(query)
        order_bm25 = np.argsort(-bm25, kind="stable")
        sims = self._dense.similarities(query) if self._dense is not None else None

        if sims is None:
            ranked = order_bm25
            top = bm25[order_bm25[0]] if len(bm25) else 0.0
            fused = bm25 / top if top > 0 else bm25
        else:
            fused = _rrf(
                [order_bm25, np.argsort(-sims, kind="stable")],
                [1.0, self.settings.dense_weight],
                self.settings.rrf_k,
            )
            ranked = np.argsort(-fused, kind="stable")

        evidence = [
            self._evidence(i, fused, bm25, sims) for i in ranked[:k] if bm25[i] > 0 or sims is not None
        ]
        named = lex.named_sources(query)
        unknown = self.unknown_names(query)
        value = self.evidence_value(query, q_tokens, bm25, sims, named, unknown)
        threshold = self.thresholds[self.mode]
        return Assessment(
            covered=value >= threshold,
            best_score=round(value, 4),
            evidence=evidence,
            sources_ranked=_rank_sources(named, [self.kb.facts[i].source for i in ranked if fused[i] > 0]),
            mode=self.mode,
            threshold=threshold,
            tasks=lex.matched_tasks(query),
            named_sources=named,
            unknown_names=unknown,
        )

    def rank_facts(self, query: str, sources: list[str] | None = None) -> list[tuple[float, object]]:
        """Facts by relevance to `query` (best first, score in [0, 1]), only of `sources` if given:
        BM25 with the task expansions (the facts' own words weigh most when the sources are known),
        plus the embedding similarity once it is loaded."""
        keep = np.array([sources is None or f.source in sources for f in self.kb.facts])

        def normalised(values: np.ndarray) -> np.ndarray:
            top = float(values[keep].max()) if keep.any() else 0.0
            return values / top if top > 0 else values

        score = normalised(self.lexical.scores(self.lexical.expand(query)))
        if sources is not None:
            score = 0.3 * score + 0.7 * normalised(self.lexical.precise_scores(query))
        if self._dense is not None:
            sims = self._dense.similarities(query)
            weight = self.settings.dense_weight
            score = (score + weight * self.settings.dense_evidence(sims)) / (1 + weight)
        ranked = [
            (float(score[i]), f)
            for i, f in enumerate(self.kb.facts)
            if sources is None or f.source in sources
        ]
        return sorted((r for r in ranked if r[0] > 0), key=lambda r: -r[0])

    def _task_prior(self, query: str) -> np.ndarray:
        """Favour facts of sources that actually do a task the question's wording points at."""
        doers = {
            c.source
            for tid in self.lexical.matched_tasks(query)[:2]
            for c in self.kb.capabilities_for(task_id=tid)
            if c.role != "related"
        }
        return np.array([self.settings.task_prior if f.source in doers else 1.0 for f in self.kb.facts])

    def evidence_value(self, query, q_tokens, bm25, sims, named, unknown) -> float:
        """One number in [0, 1]: how well the cards cover the question."""
        lex = self.lexical
        firm_tokens = lex.expand(query, firm_only=True)
        if len(firm_tokens) < len(q_tokens):  # judge coverage without what ambiguous aliases added
            firm = lex.scores(firm_tokens) * self._task_prior(query)
            match = lex.best_match_ratio(firm_tokens, float(firm.max()) if len(firm) else 0.0)
        else:
            match = lex.best_match_ratio(q_tokens, float(bm25.max()) if len(bm25) else 0.0)
        value = 0.8 * lex.coverage(query) + 0.2 * min(1.0, 2.0 * match)
        if sims is not None:
            value = 0.5 * value + 0.5 * float(self.settings.dense_evidence(sims.max()))
        if named:
            value = max(value, 0.75)  # the question is about one of the sources
        elif unknown:
            value *= self.settings.unknown_name_penalty
        return float(value)

    def unknown_names(self, query: str) -> list[str]:
        """Proper names (capitalised mid-sentence, acronyms, letter+digit) absent from every card."""
        text = _URLS.sub(" ", query)
        names = []
        for m in _NAME.finditer(text):
            word = m.group(1)
            before = text[: m.start()].rstrip()
            sentence_start = not before or before[-1] in ".?!:;\"'("
            looks_named = (
                any(c.isupper() for c in word[1:])
                or (any(c.isdigit() for c in word) and any(c.isalpha() for c in word))
                or (word[0].isupper() and not sentence_start)
                or (sentence_start and leads_as_subject(word, text[m.end() :]))
            )
            if not looks_named or word == "I":
                continue
            if word.upper() in GENERIC_ACRONYMS or is_acronym_plural(word):
                continue
            if any(c.isdigit() for c in word):
                # the digits are part of the name: H.265 is not "H", GPT-4 is not GPT-3
                if not _SCALE.fullmatch(word) and compact(word) not in self.lexical.versioned_names:
                    names.append(word)
                continue
            parts = [
                t
                for t in tokens(word, keep_stopwords=True)
                if (len(t) >= 3 or word.isupper()) and not t.isdigit()
            ]
            if any(t not in self.lexical.vocabulary for t in parts):
                names.append(word)
        return names

    def _evidence(self, i: int, fused, bm25, sims) -> Evidence:
        fact = self.kb.facts[i]
        return Evidence(
            fact_id=fact.id,
            source_id=fact.source,
            score=round(float(fused[i]), 5),
            text=fact.text,
            kind=fact.kind,
            bm25=round(float(bm25[i]), 4),
            dense=None if sims is None else round(float(sims[i]), 4),
        )


def _rrf(orders: list[np.ndarray], weights: list[float], k: int) -> np.ndarray:
    n = len(orders[0])
    fused = np.zeros(n)
    for order, weight in zip(orders, weights):
        ranks = np.empty(n)
        ranks[order] = np.arange(1, n + 1)
        fused += weight / (k + ranks)
    return fused


def _rank_sources(named: list[str], ranked_sources: list[str]) -> list[str]:
    """Sources the question names first, then by their best-ranked fact."""
    out: list[str] = []
    for sid in [*named, *ranked_sources]:
        if sid not in out:
            out.append(sid)
    return out
