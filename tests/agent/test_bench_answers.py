"""A fixed subset of benchmarks/questions/ (one or two per category): each answer says the point
asked in its first lines, cites the expected source, abstains when it should, and stays grounded.
The whole set runs as `./run bench bench_answers`."""

import statistics

import pytest

from benchmarks.bench_answers import BROAD_CATEGORIES, load_questions, run

SUBSET = [
    "photographers-03",
    "photographers-09",
    "mssnet-internals-01",
    "mssnet-internals-03",
    "mssnet-internals-18",
    "side-sources-04",
    "side-sources-13",
    "comparisons-01",
    "comparisons-05",
    "outside-models-01",
    "outside-models-02",
    "missing-numbers-01",
    "missing-numbers-02",
    "follow-ups-01",
    "follow-ups-08",
    "injections-01",
    "injections-08",
    "multi-part-01",
    "multi-part-03",
    "founding-01",
]


@pytest.fixture(scope="module")
def results():
    items = {i["id"]: i for i in load_questions()}
    return run([items[i] for i in SUBSET])


def test_the_question_set_is_large_and_complete():
    items = load_questions()
    assert len(items) >= 120
    assert len({i["id"] for i in items}) == len(items)
    for item in items:
        assert item.get("question") or item.get("turns"), item["id"]
        assert item.get("lead") or item.get("must") or item.get("must_not") or item.get("abstain"), item["id"]


@pytest.mark.parametrize("qid", SUBSET)
def test_subset_question_passes(results, qid):
    result = next(r for r in results if r.item["id"] == qid)
    assert result.passed, result.failures


def test_specific_answers_are_short_and_the_founding_one_complete(results):
    specific = [r.words for r in results if r.item["category"] not in BROAD_CATEGORIES]
    assert statistics.median(specific) < 200
    founding = next(r for r in results if r.item["id"] == "founding-01")
    assert founding.words > 400
