"""BM25 over the facts, with each fact's text expanded by its source name, tags and task aliases.

Expansion lets a question in everyday words ("make bigger", "fur came back") reach a fact written
in the sources' words ("super-resolution", "high-frequency"). No embeddings, no torch: instant.
"""

from __future__ import annotations

import re

import numpy as np
from rank_bm25 import BM25Okapi

from knowledge.store import KnowledgeBase
from knowledge.text import is_number, stemmed_text, tokens

# Words a person uses for what a tag is about (tags are our own vocabulary, not the sources').
TAG_WORDS = {
    "misconception:sampling": "sampling rounds steps iterations diffusion denoising few fast single pass",
    "high-frequency": "high frequency fine detail texture fur hair whiskers feathers sharp crisp",
    "relevance": "question answer relevant why matters support",
    "bibliography": "paper papers article publication github repository repo code link arxiv authors "
    "published venue cite citation reference source",
    "not-super-resolution": "bigger larger enlarge upscale resolution size",
    "workflow": "pipeline workflow steps input output process",
    "results": "score accuracy psnr ssim numbers performance benchmark",
    "parameters": "weights size count how many",
    "checkpoint": "saved file weights load",
    "stages": "stage cascade steps",
    "small-data": "few photos images pictures handful small dataset",
    "wildlife": "animal species nature bird leopard tiger frog owl deer insect",
    "loss": "objective loss function penalty error teach learn",
    "training": "train teach learn fit optimise schedule",
    "data": "dataset pairs examples collection",
}


_VERSIONED = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.+][A-Za-z0-9]+)*")


def _phrases(aliases) -> list[str]:
    return [p for p in (stemmed_text(a).strip() for a in aliases) if p]


def compact(name: str) -> str:
    """Lower-case letters and digits only: how a versioned name is compared ("GPT-4" -> "gpt4")."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


class LexicalIndex:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.fact_ids = [f.id for f in kb.facts]
        self.source_of = [f.source for f in kb.facts]
        texts = [self._document(f) for f in kb.facts]
        docs = [tokens(t) for t in texts]
        self.bm25 = BM25Okapi(docs)
        # the facts' own words only (text and the questions they answer), without the task aliases
        # and tag words above: ranks the facts of one source for a precise question
        self.precise = BM25Okapi([tokens(" ".join([f.text, *f.answers])) or ["_"] for f in kb.facts])
        self.vocabulary = {t for doc in docs for t in doc}
        # names with digits as the cards write them, separators dropped: "DINOv2", "H.265" -> "h265"
        self.versioned_names = {compact(w) for text in texts for w in _VERSIONED.findall(text)}
        self.max_idf = max(self.bm25.idf.values())
        self._task_phrases = {t.id: _phrases([t.id.replace("-", " "), *t.aliases]) for t in kb.tasks.values()}
        # without the ambiguous aliases ("compress" a zip archive): evidence of what the query is about
        self._firm_task_phrases = {
            t.id: _phrases([t.id.replace("-", " "), *(a for a in t.aliases if a not in t.ambiguous_aliases)])
            for t in kb.tasks.values()
        }

    def _document(self, fact) -> str:
        source = self.kb.sources[fact.source]
        parts = [fact.text, *fact.answers, source.name, source.id]
        for tag in fact.tags:
            if tag.startswith("task:"):
                task = self.kb.tasks[tag[5:]]
                parts += [task.label, *task.aliases]
            else:
                parts.append(TAG_WORDS.get(tag, tag.replace("-", " ").replace(":", " ")))
        return " ".join(parts)

    def matched_tasks(self, query: str, firm_only: bool = False) -> list[str]:
        """Tasks whose id, label or an alias appears in the query, most matches first. `firm_only`:
        ambiguous aliases do not count (they steer the ranking, but are no evidence of coverage)."""
        hay = stemmed_text(query)
        firm = [
            tid for tid, phrases in self._firm_task_phrases.items() if any(f" {p} " in hay for p in phrases)
        ]
        hits = []
        for task_id, phrases in (self._firm_task_phrases if firm_only else self._task_phrases).items():
            n = sum(f" {p} " in hay for p in phrases)
            # a task the wording names firmly outranks one only an ambiguous word points at
            # ("too few photos to train a classifier" is about the photos)
            if n and (task_id in firm or not firm):
                hits.append((n, task_id))
        return [tid for n, tid in sorted(hits, key=lambda h: -h[0])]

    def named_sources(self, query: str) -> list[str]:
        return self.kb.sources_named_in(query)

    def expand(self, query: str, firm_only: bool = False) -> list[str]:
        """Query tokens plus the labels of the tasks the query's wording points at."""
        extra = []
        for tid in self.matched_tasks(query, firm_only):
            task = self.kb.tasks[tid]
            extra.append(task.label + " " + task.id.replace("-", " "))
        return tokens(query) + tokens(" ".join(extra))

    def precise_scores(self, query: str) -> np.ndarray:
        toks = tokens(query)
        if not toks:
            return np.zeros(len(self.fact_ids))
        return np.asarray(self.precise.get_scores(toks), dtype=float)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        if not query_tokens:
            return np.zeros(len(self.fact_ids))
        return np.asarray(self.bm25.get_scores(query_tokens), dtype=float)

    def coverage(self, query: str) -> float:
        """IDF-weighted share of the query's content words that occur anywhere in the cards."""
        toks = [t for t in tokens(query) if not is_number(t)]  # "forty photos", "1000 by 750"
        if not toks:
            return 0.0
        weight = {
            t: (self.bm25.idf.get(t, self.max_idf) if t in self.vocabulary else self.max_idf) for t in toks
        }
        weight = {t: max(w, 0.1) for t, w in weight.items()}
        known = sum(w for t, w in weight.items() if t in self.vocabulary)
        return known / sum(weight.values())

    def best_match_ratio(self, query_tokens: list[str], best_score: float) -> float:
        """Best BM25 score over the most a single fact could score for these tokens (0..1)."""
        k1 = self.bm25.k1
        ceiling = sum(max(self.bm25.idf.get(t, 0.0), 0.0) * (k1 + 1) for t in query_tokens)
        return float(best_score / ceiling) if ceiling > 0 else 0.0
