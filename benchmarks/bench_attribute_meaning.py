"""How well the asked attribute is found by meaning (no cue), and where its threshold sits.

    ./run bench bench_attribute_meaning

Leave-one-out over the language data's attribute examples (knowledge/lang/en/attributes.yml):
each example, its sources' names put out of the way, is labelled by its nearest other examples
and fact questions (`FactIndex.nearest_label`, what `understand` does when no cue names an
attribute). Printed per cosine threshold: the share of examples that reach it (coverage) and the
share of those labelled right (precision). `UnderstandingSettings.attribute_min_cosine` is the
least threshold whose precision is at least TARGET_PRECISION.
"""

from __future__ import annotations

import sys

import numpy as np

TARGET_PRECISION = 0.9
THRESHOLDS = [round(0.5 + 0.025 * i, 3) for i in range(15)]


def main(argv: list[str]) -> int:
    from knowledge.embed import embedder
    from knowledge.fact_index import fact_index
    from knowledge.lang.language import language
    from knowledge.settings import UNDERSTANDING
    from knowledge.store import load_knowledge

    kb = load_knowledge()
    lang = language()
    index = fact_index(kb, lang)
    if index.dense() is None:
        print("the embedding model is not available", file=sys.stderr)
        return 1
    texts, labels = index.attribute_examples()
    vectors = embedder().encode_cached(texts)
    own = sum(len(a.examples) for a in lang.attributes.values())  # the data's examples come first
    settings = UNDERSTANDING
    results = []
    for i in range(own):
        keep = np.ones(len(texts), bool)
        keep[i] = False
        cos = vectors[keep] @ vectors[i]
        kept = [lab for lab, k in zip(labels, keep, strict=True) if k]
        order = np.argsort(-cos)[: settings.neighbours]
        votes: dict[str, float] = {}
        for j in order:
            weight = np.exp((cos[j] - cos[order[0]]) / settings.attribute_vote_softness)
            votes[kept[j]] = votes.get(kept[j], 0.0) + float(weight)
        label = max(votes, key=lambda k: votes[k])
        best = max(float(cos[j]) for j in order if kept[j] == label)
        results.append((label == labels[i], best, labels[i], label, texts[i]))
    right = np.array([r[0] for r in results])
    cosines = np.array([r[1] for r in results])
    print(f"{own} attribute examples, {len(texts) - own} fact questions beside them")
    print(f"accuracy at any cosine: {right.mean():.3f}")
    print("threshold  coverage  precision")
    chosen = None
    for t in THRESHOLDS:
        sel = cosines >= t
        precision = right[sel].mean() if sel.any() else float("nan")
        if chosen is None and precision >= TARGET_PRECISION:
            chosen = t
        print(f"{t:9.3f}  {sel.mean():8.3f}  {precision:9.3f}")
    print(f"least threshold with precision >= {TARGET_PRECISION}: {chosen}")
    print(f"settings: attribute_min_cosine = {settings.attribute_min_cosine}")
    if "--wrong" in argv:
        for ok, c, want, got, text in sorted(results, key=lambda r: -r[1]):
            if not ok:
                print(f"  {c:.3f} {want} -> {got}: {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
