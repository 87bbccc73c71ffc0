"""Every answerable fact (the sources' and this tool's) ranked by meaning for a question.

Each fact is indexed with its text, its source's name, its attribute's label and the short
questions it answers (`answers`): BM25 over all of that, plus MiniLM cosines against the fact and
each of its example questions (the best one counts). The language data's example questions are
embedded here too, for kinds and attributes no cue names.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
from rank_bm25 import BM25Okapi

from knowledge.embed import EmbeddingUnavailable, embedder
from knowledge.lang.language import Language
from knowledge.settings import UNDERSTANDING, UnderstandingSettings
from knowledge.store import KnowledgeBase
from knowledge.text import is_number, tokens

log = logging.getLogger(__name__)


class FactIndex:
    def __init__(self, kb: KnowledgeBase, lang: Language, settings: UnderstandingSettings = UNDERSTANDING):
        self.kb = kb
        self.lang = lang
        self.settings = settings
        # this tool's facts speak of the networks it runs: not when none of the loaded ones can run
        runs = any(kb.runnable(s) for s in kb.sources)
        self.facts = [*kb.facts, *(kb.tool_facts if runs else [])]
        docs = [tokens(self.document(f)) or ["_"] for f in self.facts]
        self.bm25 = BM25Okapi(docs)
        self._dense: tuple[np.ndarray, np.ndarray] | None = None  # vectors, row -> fact index
        self._examples: dict[str, tuple[np.ndarray, list[str]]] = {}
        self._lock = threading.Lock()
        self._dense_tried = False

    def owner_name(self, fact) -> str:
        return self.kb.described(fact.source).name

    def document(self, fact) -> str:
        label = self.lang.attributes[fact.attribute].label if fact.attribute in self.lang.attributes else ""
        return " ".join([fact.text, *fact.answers, self.owner_name(fact), label])

    def coverage(self, text: str) -> float:
        """IDF-weighted share of the text's content words that some indexed fact uses (a word no
        fact uses weighs as much as the rarest one): how much of a question the cards speak to."""
        toks = [t for t in tokens(text) if not is_number(t)]
        if not toks:
            return 0.0
        idf = self.bm25.idf
        rarest = max(idf.values()) if idf else 1.0
        weights = {t: max(idf.get(t, rarest), 0.1) for t in toks}
        return sum(w for t, w in weights.items() if t in idf) / sum(weights.values())

    # -- dense ---------------------------------------------------------------------------------
    def dense(self) -> tuple[np.ndarray, np.ndarray] | None:
        with self._lock:
            if not self._dense_tried:
                self._dense_tried = True
                try:
                    model = embedder()
                    texts, rows = [], []
                    for i, fact in enumerate(self.facts):
                        for text in [f"{self.owner_name(fact)}: {fact.text}", *fact.answers]:
                            texts.append(text)
                            rows.append(i)
                    self._dense = (model.encode_cached(texts), np.array(rows))
                except EmbeddingUnavailable as exc:
                    log.info("ranking facts by BM25 alone: %s", exc)
        return self._dense

    def embed(self, text: str) -> np.ndarray | None:
        if self.dense() is None:
            return None
        return embedder().encode([text])[0]

    # -- ranking -------------------------------------------------------------------------------
    def scores(self, query: str, vector: np.ndarray | None = None) -> np.ndarray:
        """One score in [0, 1] per fact of `self.facts`."""
        s = self.settings
        toks = tokens(query)
        bm25 = np.asarray(self.bm25.get_scores(toks), dtype=float) if toks else np.zeros(len(self.facts))
        top = bm25.max() if len(bm25) else 0.0
        score = bm25 / top if top > 0 else bm25
        dense = self.dense()
        if dense is not None and vector is not None:
            vectors, rows = dense
            cos = vectors @ vector
            best = np.full(len(self.facts), -1.0)
            np.maximum.at(best, rows, cos)
            evidence = np.clip((best - s.dense_floor) / (s.dense_ceiling - s.dense_floor), 0.0, 1.0)
            score = (1 - s.dense_weight) * score + s.dense_weight * evidence
        return score

    # -- nearest example question (kinds, attributes) ----------------------------------------------
    def attribute_vector(self, text: str, vector: np.ndarray | None) -> np.ndarray | None:
        """The text's vector with the sources' names put out of the way: what is asked, not of
        whom ("Is the PReLU in MSSNet per-channel?" is near other questions about MSSNet)."""
        masked = self._masked(text)
        if vector is None or masked == text:
            return vector
        return embedder().encode([masked])[0]

    def nearest_label(self, what: str, vector: np.ndarray | None) -> tuple[str | None, float]:
        """The kind or attribute (`what`) whose example questions are nearest, by a vote of the
        nearest neighbours; with the best cosine."""
        labels = self.nearest_labels(what, vector)
        return labels[0] if labels else (None, 0.0)

    def nearest_labels(self, what: str, vector: np.ndarray | None) -> list[tuple[str, float]]:
        """The kinds or attributes (`what`) among the nearest example questions, the vote's winner
        first, each with its best cosine. Attributes vote softly (each neighbour by how close it
        comes to the nearest one), kinds by the sum of the cosines."""
        if vector is None:
            return []
        table = self._example_table(what)
        if table is None:
            return []
        vectors, labels = table
        cos = vectors @ vector
        order = np.argsort(-cos)[: self.settings.neighbours]
        votes: dict[str, float] = {}
        best: dict[str, float] = {}
        soft = self.settings.attribute_vote_softness
        for i in order:
            weight = float(np.exp((cos[i] - cos[order[0]]) / soft)) if what == "attribute" else float(cos[i])
            votes[labels[i]] = votes.get(labels[i], 0.0) + weight
            best[labels[i]] = max(best.get(labels[i], -1.0), float(cos[i]))
        return [(label, best[label]) for label in sorted(votes, key=lambda k: -votes[k])]

    def attribute_examples(self) -> tuple[list[str], list[str]]:
        """The questions that teach attributes by meaning, names put out of the way: the language
        data's examples, and each fact's own questions (`answers`) under the attribute it states."""
        texts, labels = [], []
        for item in self.lang.attributes.values():
            texts += item.examples
            labels += [item.id] * len(item.examples)
        for fact in self.facts:
            if fact.attribute in self.lang.attributes:
                texts += fact.answers
                labels += [fact.attribute] * len(fact.answers)
        return [self._masked(t) for t in texts], labels

    def _masked(self, text: str) -> str:
        referents = self.lang.referents
        return self.kb.without_names(text, referents.name_placeholder, referents.name_possessive)

    def _example_table(self, what: str) -> tuple[np.ndarray, list[str]] | None:
        if what not in self._examples:
            if what == "attribute":
                texts, labels = self.attribute_examples()
            else:
                texts = [e for k in self.lang.kinds.values() for e in k.examples]
                labels = [k.id for k in self.lang.kinds.values() for _ in k.examples]
            if self.dense() is None or not texts:
                return None
            self._examples[what] = (embedder().encode_cached(texts), labels)
        return self._examples[what]


_indexes: dict[tuple[str, int], FactIndex] = {}


def fact_index(kb: KnowledgeBase, lang: Language) -> FactIndex:
    key = (kb.digest, id(lang))
    if key not in _indexes:
        _indexes[key] = FactIndex(kb, lang)
    return _indexes[key]
