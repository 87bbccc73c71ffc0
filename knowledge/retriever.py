"""LangChain retriever over the source cards: a thin BaseRetriever around `EvidenceSearch`.

Importing this module imports langchain-core (about 0.5 s). Code that must start fast (a one-shot
`explainer ask`) can use `knowledge.search.EvidenceSearch`, which has the same search/assess API.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from knowledge.search import Assessment, Evidence, EvidenceSearch
from knowledge.store import KnowledgeBase


class EvidenceRetriever(BaseRetriever):
    """BM25 + all-MiniLM-L6-v2 fused by reciprocal rank; BM25 alone until `warm_up()` has loaded
    the embeddings. Each Document carries metadata score, fact_id, source_id and kind."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    k: int = 8
    _search: EvidenceSearch = PrivateAttr()

    def __init__(
        self, kb: KnowledgeBase | None = None, k: int = 8, dense: bool | str = "auto", **kwargs: Any
    ):
        super().__init__(k=k, **kwargs)
        self._search = EvidenceSearch(kb=kb, k=k, dense=dense)

    @property
    def kb(self) -> KnowledgeBase:
        return self._search.kb

    @property
    def engine(self) -> EvidenceSearch:
        return self._search

    @property
    def mode(self) -> str:
        return self._search.mode

    def warm_up(self):
        return self._search.warm_up()

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        return self._search.wait_until_ready(timeout)

    def search(self, query: str, k: int | None = None) -> list[Evidence]:
        return self._search.search(query, k=k or self.k)

    def rank_facts(self, query: str, sources: list[str] | None = None):
        return self._search.rank_facts(query, sources)

    def assess(self, query: str, k: int | None = None) -> Assessment:
        return self._search.assess(query, k=k or self.k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        assessment = self._search.assess(query, k=self.k)
        return [to_document(e, assessment) for e in assessment.evidence]


def to_document(evidence: Evidence, assessment: Assessment) -> Document:
    return Document(
        page_content=evidence.text,
        metadata={
            "score": evidence.score,
            "fact_id": evidence.fact_id,
            "source_id": evidence.source_id,
            "kind": evidence.kind,
            "bm25": evidence.bm25,
            "dense": evidence.dense,
            "mode": assessment.mode,
            "covered": assessment.covered,
        },
    )
