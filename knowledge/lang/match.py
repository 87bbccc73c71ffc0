"""Cue patterns (knowledge/lang/schema.py) compiled once and matched on stemmed words.

A pattern is a sequence of slots: a slot holds alternatives split by "|" (each one or more words,
"u-net" is two), "*" is a gap of zero to three words, and a leading "^" anchors the pattern at the
start of the part (after filler words).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.text import stem, words

GAP = 3


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


@dataclass(frozen=True)
class Cue:
    pattern: str
    anchored: bool
    slots: tuple[tuple[tuple[str, ...], ...] | None, ...]  # None is a gap

    @classmethod
    def compile(cls, pattern: str) -> Cue:
        parts = pattern.split()
        anchored = parts[0] == "^"
        slots: list[tuple[tuple[str, ...], ...] | None] = []
        for part in parts[1:] if anchored else parts:
            if part == "*":
                slots.append(None)
            else:
                slots.append(tuple(tuple(stems(alt)) for alt in part.split("|") if stems(alt)))
        return cls(pattern, anchored, tuple(slots))

    def match(self, toks: list[str], start: int = 0) -> int:
        """The number of words the pattern covers in `toks` (0: no match); anchored at `start`."""
        starts = [start] if self.anchored else range(start, len(toks))
        best = 0
        for i in starts:
            end = self._match_at(toks, i, 0)
            if end is not None:
                best = max(best, end - i)
        return best

    def _match_at(self, toks: list[str], i: int, slot: int) -> int | None:
        if slot == len(self.slots):
            return i
        alternatives = self.slots[slot]
        if alternatives is None:
            for skip in range(GAP + 1):
                end = self._match_at(toks, i + skip, slot + 1)
                if end is not None:
                    return end
            return None
        for alt in alternatives:
            if tuple(toks[i : i + len(alt)]) == alt:
                end = self._match_at(toks, i + len(alt), slot + 1)
                if end is not None:
                    return end
        return None


def skip_fillers(toks: list[str], fillers: list[list[str]]) -> int:
    """Index of the first word after any leading filler words ("so", "quick question")."""
    i = 0
    moved = True
    while moved:
        moved = False
        for filler in fillers:
            if filler and toks[i : i + len(filler)] == filler:
                i += len(filler)
                moved = True
    return i


def phrase_at(toks: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return bool(n) and any(toks[i : i + n] == phrase for i in range(len(toks) - n + 1))
