"""Which language a question is in: English unless its script or its words say otherwise.

Cheap first: a question with English function words and only Latin letters is English without
loading anything. Otherwise a script (the data's character classes) or the word frequencies of
the `wordfreq` library decide, among the languages the data lists.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.lang.schema import Languages
from knowledge.text import STOPWORDS

_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)
GLOSSARY_SHARE = 0.3  # of a question's words, in one other language's glossary, to read it as that language


def language_of(text: str, languages: Languages) -> str:
    for code, pattern in languages.scripts.items():
        found = re.findall(pattern, text)
        if len(found) >= 2 and len(found) >= 0.2 * max(1, len(re.findall(r"\S", text))):
            return code
    words = [w.lower() for w in _LETTERS.findall(text)]
    if not words:
        return "en"
    glossed = _by_glossary(words, languages)
    if glossed:
        return glossed
    english = sum(w in STOPWORDS for w in words) / len(words)
    if english > languages.english_floor and all(w.isascii() for w in words):
        return "en"
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # the library is a declared dependency; without it, read as English
        return "en"
    # per language, the words clearly more frequent there than in English ("de" counts for several)
    votes: dict[str, int] = {code: 0 for code in languages.compare}
    for word in words:
        english = zipf_frequency(word, "en")
        for code in languages.compare:
            if zipf_frequency(word, code) > english + 0.5:
                votes[code] += 1
    code = max(votes, key=lambda c: votes[c])
    return code if votes[code] >= languages.min_share * len(words) else "en"


def _by_glossary(words: list[str], languages: Languages) -> str | None:
    """The language whose glossary (knowledge/lang/<code>/glossary.yml) holds most of the words,
    counting only words more frequent there than in English ("foto", "ampliar", "verschil"), when
    they are a fair share of the question."""
    counts: dict[str, int] = {}
    for code in languages.compare:
        entries = _entries(code)
        listed = [w for w in words if w in entries and len(w) > 2 and w not in STOPWORDS]
        if len(listed) < 2 or len(listed) < GLOSSARY_SHARE * len(words):
            continue  # (before the frequency tables, which take a while to load)
        try:
            from wordfreq import zipf_frequency
        except ImportError:
            return None
        counts[code] = sum(zipf_frequency(w, code) > zipf_frequency(w, "en") for w in listed)
    best = max(counts, key=lambda c: counts[c], default=None)
    if best is None or counts[best] < 2 or counts[best] < GLOSSARY_SHARE * len(words):
        return None
    return best


@lru_cache(maxsize=16)
def _entries(code: str) -> frozenset[str]:
    from knowledge.lang.glossary import glossary

    found = glossary(code)
    return frozenset(w for phrase in found.words for w in phrase.split()) if found else frozenset()
