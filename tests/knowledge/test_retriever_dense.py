"""Hybrid retrieval: all-MiniLM-L6-v2 (onnxruntime) embeddings loaded in the background, cached as .npz."""

import numpy as np
import pytest

from knowledge.search import EvidenceSearch
from knowledge.store import load_knowledge
from tests.knowledge.test_retriever import OUT_OF_SCOPE, VISIBLE_QUESTIONS


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(scope="module")
def hybrid(cache):
    mp = pytest.MonkeyPatch()
    mp.setenv("EXPLAINER_CACHE", str(cache))
    search = EvidenceSearch(dense="auto")
    thread = search.warm_up()
    assert thread is not None and search.warm_up() is thread  # one loader, however often it is asked
    # BM25 answers at once while the model loads in the background
    assert search.assess("Can MSSNet make my image bigger?").covered
    assert search.wait_until_ready(timeout=180), search.dense_error
    yield search
    mp.undo()


def test_mode_switches_to_hybrid(hybrid):
    a = hybrid.assess("How many stages does MSSNet run at each scale?")
    assert a.mode == "hybrid" and a.threshold == hybrid.thresholds["hybrid"]
    assert all(e.dense is not None for e in a.evidence)
    assert a.evidence[0].fact_id == "mssnet.stages-per-scale"


def test_cache_file_is_plain_npz(hybrid, cache):
    files = list(cache.glob("vectors-*.npz"))
    assert len(files) == 1
    kb = load_knowledge()
    with np.load(files[0], allow_pickle=False) as data:
        assert len(data["keys"]) == len(kb.facts)
        vectors = data["vectors"]
    assert vectors.shape == (len(kb.facts), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_second_load_reads_the_cache(hybrid, cache, monkeypatch):
    from knowledge.dense import DenseIndex

    monkeypatch.setenv("EXPLAINER_CACHE", str(cache))
    again = DenseIndex.load(load_knowledge())
    assert again.from_cache
    assert np.allclose(again.vectors, hybrid._dense.vectors)
    # the query side embeds into the same space: a fact's own text finds that fact
    fact = load_knowledge().fact("easier.entropy-metric")
    assert again.fact_ids[int(np.argmax(again.similarities(fact.text)))] == fact.id


@pytest.mark.parametrize("item", VISIBLE_QUESTIONS, ids=lambda item: item["question"][:40])
def test_visible_questions_hybrid(hybrid, item):
    a = hybrid.assess(item["question"])
    assert a.covered == (not item.get("abstain", False)), a.best_score
    for sid in item.get("must_cite", []):
        assert sid in a.sources_ranked[:3]
        assert sid in [e.source_id for e in a.evidence[:3]]


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_abstains_hybrid(hybrid, question):
    assert not hybrid.assess(question).covered


def test_langchain_documents_carry_dense_scores(hybrid, cache, monkeypatch):
    from knowledge.retriever import EvidenceRetriever

    monkeypatch.setenv("EXPLAINER_CACHE", str(cache))
    retriever = EvidenceRetriever(k=3, dense=True)  # True: wait for the model on first use
    docs = retriever.invoke("Why split the picture into tiles before the frozen encoder?")
    assert retriever.mode == "hybrid"
    assert docs[0].metadata["source_id"] == "featsharp"
    assert all(d.metadata["dense"] is not None and d.metadata["mode"] == "hybrid" for d in docs)
