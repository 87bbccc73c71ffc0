"""The torch-free MiniLM embedder: the real ONNX model, its vectors, and its disk cache."""

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge.embed import CACHE_PREFIX, Embedder, EmbeddingUnavailable, embedder, read_cache
from knowledge.errors import KnowledgeError

ROOT = Path(__file__).resolve().parents[2]

# a question in people's words and the same point as a card might word it
PARAPHRASES = [
    ("How long does it take to process one photo?", "What is the runtime per image?"),
    ("Can it make my picture bigger?", "Does the model enlarge images?"),
    ("Who wrote the paper?", "Which authors published the article?"),
    ("My photo is blurry because my hand shook.", "Camera shake during the exposure causes motion blur."),
    ("Can I use it in a commercial product?", "What licence is the code released under?"),
    ("How much memory does it need?", "RAM usage of the network"),
]


@pytest.fixture(scope="module")
def model() -> Embedder:
    return embedder()


def fresh(model: Embedder) -> Embedder:
    """The same loaded model without the in-memory caches: what a new process would see."""
    return Embedder(model._session, model._tokenizer, model.settings)


def test_vectors_are_unit_float32_rows(model):
    vectors = model.encode(["MSSNet removes motion blur.", "", "x" * 5000])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.encode([]).shape == (0, 384)


def test_a_sentence_is_its_own_nearest_neighbour(model):
    sentence = "The encoder is frozen and the upsampler is trained on its features."
    one, again = model.encode([sentence, sentence])
    assert float(one @ again) == pytest.approx(1.0, abs=1e-5)


def test_batching_does_not_change_a_vector(model):
    """Padding to the longest text of a batch must not leak into the mean."""
    short = "Deblur a photo."
    alone = model.encode([short])[0]
    with_long = model.encode([short, "a much longer sentence " * 20])[0]
    assert float(alone @ with_long) == pytest.approx(1.0, abs=1e-4)


def test_paraphrases_are_each_others_nearest(model):
    questions = model.encode([q for q, _ in PARAPHRASES])
    statements = model.encode([s for _, s in PARAPHRASES])
    similarity = questions @ statements.T
    assert list(similarity.argmax(axis=1)) == list(range(len(PARAPHRASES)))
    assert list(similarity.argmax(axis=0)) == list(range(len(PARAPHRASES)))
    assert similarity[2, 2] > 0.5 and similarity[2, 0] < 0.2  # related vs unrelated sentences


def test_the_cache_round_trips_through_disk(model, tmp_path):
    texts = ["MSSNet has three scales.", "FeatSharp sharpens features.", "MSSNet has three scales."]
    first = fresh(model)
    vectors = first.encode_cached(texts, tmp_path)
    assert first.computed == 2  # the repeated text once
    assert np.allclose(vectors, model.encode(texts), atol=1e-6)
    (path,) = tmp_path.glob(f"{CACHE_PREFIX}*.npz")
    assert len(read_cache(path)) == 2

    second = fresh(model)  # another process: reads the file, embeds nothing
    assert np.array_equal(second.encode_cached(texts, tmp_path), vectors)
    assert second.computed == 0
    changed = [texts[0], "FeatSharp sharpens features!"]  # keyed by content: one new text
    second.encode_cached(changed, tmp_path)
    assert second.computed == 1


def test_a_corrupt_cache_is_ignored_and_rebuilt(model, tmp_path, caplog):
    texts = ["a photo of a cat", "a blurred street at night"]
    fresh(model).encode_cached(texts, tmp_path)
    (path,) = tmp_path.glob(f"{CACHE_PREFIX}*.npz")
    good = path.read_bytes()
    for name, data in (
        ("garbage", b"\x00garbage" * 10),
        ("truncated", good[:60]),
        ("pickle", b"\x80\x04K\x01."),
    ):
        path.write_bytes(data)
        again = fresh(model)
        with caplog.at_level(logging.WARNING, logger="knowledge.embed"):
            vectors = again.encode_cached(texts, tmp_path)
        assert "unreadable" in caplog.text, name
        caplog.clear()
        assert again.computed == 2 and np.allclose(vectors, model.encode(texts), atol=1e-6)
        assert len(read_cache(path)) == 2, name  # rewritten whole


def test_vectors_of_the_wrong_shape_are_not_read(tmp_path, caplog):
    path = tmp_path / "v.npz"
    np.savez(path, keys=np.array(["a", "b"]), vectors=np.ones((2, 4), np.float32))
    with caplog.at_level(logging.WARNING, logger="knowledge.embed"):
        assert read_cache(path) == {}
    assert "unreadable" in caplog.text


def test_the_cache_keeps_its_newest_rows_and_drops_the_old_format(model, tmp_path):
    from dataclasses import replace

    (tmp_path / "embeddings-0123abcd.npz").write_bytes(b"an old per-card-version cache")
    small = Embedder(model._session, model._tokenizer, replace(model.settings, cache_rows=3))
    small.encode_cached(["one", "two"], tmp_path)
    small.encode_cached(["three", "four"], tmp_path)
    (path,) = tmp_path.glob(f"{CACHE_PREFIX}*.npz")
    assert len(read_cache(path)) == 3  # the oldest row went
    assert not list(tmp_path.glob("embeddings-*.npz"))
    assert small.encode_cached(["a", "b", "c", "d"], tmp_path).shape == (4, 384)  # a call bigger than the cap


def test_importing_and_embedding_never_imports_torch():
    code = (
        "import sys, knowledge.embed as e; e.embedder().encode(['deblur my photo']); "
        "print([m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_a_missing_runtime_is_a_knowledge_error_and_search_falls_back_to_bm25():
    assert issubclass(EmbeddingUnavailable, KnowledgeError)
    code = (
        "import sys; sys.modules['onnxruntime'] = None\n"
        "from knowledge.embed import embedder, EmbeddingUnavailable\n"
        "try:\n    embedder()\nexcept EmbeddingUnavailable as exc:\n    print('unavailable:', exc)\n"
        "from knowledge.search import EvidenceSearch\n"
        "a = EvidenceSearch(dense=True).assess('How many stages does MSSNet run at each scale?')\n"
        "print(a.mode, a.covered)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("unavailable: the embedding model is not installed (onnxruntime)")
    assert lines[1] == "bm25 True"


def test_exiting_while_the_model_loads_is_a_clean_exit():
    """A preload still inside onnxruntime at interpreter exit once aborted the process (-6)."""
    code = "import knowledge.embed as e; e.preload(); print('bye')"
    for _ in range(3):
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "bye\n", "")
