"""Tuning values of the knowledge layer in one typed place (calibrated, not scattered constants)."""

from __future__ import annotations

from dataclasses import dataclass


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
    attribute_min_cosine: float = 0.55
    kind_min_cosine: float = 0.45
    # A part with no attribute is covered when its best fact scores at least this.
    covered_min_score: float = 0.45
    # How many ranked facts each part keeps.
    facts_per_part: int = 8


UNDERSTANDING = UnderstandingSettings()
