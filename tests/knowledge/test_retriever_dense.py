"""Hybrid retrieval: all-MiniLM-L6-v2 embeddings loaded in the background, cached as .npz."""

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
    files = list(cache.glob("embeddings-*.npz"))
    assert len(files) == 1
    kb = load_knowledge()
    with np.load(files[0], allow_pickle=False) as data:
        assert list(data["ids"]) == [f.id for f in kb.facts]
        vectors = data["vectors"]
    assert vectors.shape == (len(kb.facts), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_second_load_reads_the_cache(hybrid, cache):
    from knowledge.dense import DenseIndex

    again = DenseIndex.load(load_knowledge(), cache)
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


def test_old_embedding_caches_are_pruned(tmp_path):
    import os

    from knowledge.dense import KEEP_CACHES, _write_cache

    vectors = np.ones((2, 4), np.float32)
    for i in range(5):
        stale = tmp_path / f"embeddings-old{i}.npz"
        assert _write_cache(stale, ["a", "b"], vectors)
        os.utime(stale, (1_000_000 + i, 1_000_000 + i))  # old{4} is the newest of them
    (tmp_path / "notes.txt").write_text("not a cache")
    current = tmp_path / "embeddings-current.npz"
    assert _write_cache(current, ["a", "b"], vectors)
    left = sorted(p.name for p in tmp_path.glob("embeddings-*.npz"))
    assert len(left) == KEEP_CACHES
    assert "embeddings-current.npz" in left and "embeddings-old4.npz" in left
    assert "embeddings-old0.npz" not in left and (tmp_path / "notes.txt").exists()
