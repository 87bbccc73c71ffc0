"""Which language a question is in: English unless its script or its words say otherwise.

Cheap first: a question with English function words and only Latin letters is English without
loading anything. Otherwise a script (the data's character classes) or the word frequencies of
the `wordfreq` library decide, among the languages the data lists.
"""

from __future__ import annotations

import re

from knowledge.lang.schema import Languages
from knowledge.text import STOPWORDS

_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)


def language_of(text: str, languages: Languages) -> str:
    for code, pattern in languages.scripts.items():
        found = re.findall(pattern, text)
        if len(found) >= 2 and len(found) >= 0.2 * max(1, len(re.findall(r"\S", text))):
            return code
    words = [w.lower() for w in _LETTERS.findall(text)]
    if not words:
        return "en"
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
