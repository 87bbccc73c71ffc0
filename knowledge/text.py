"""Tokenising, light stemming and alias matching shared by the index and the queries."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[a-z0-9]+")
_URL = re.compile(r"https?://\S+")

# Function words and question scaffolding: they say nothing about which source answers.
STOPWORDS = frozenset(
    """
a an the and or but if then than so of to in on at by for with from into onto over under about as
is are was were be been being am do does did doing done have has had having i me my mine we our us
you your he she it its they them their this that these those there here what which who whom whose
when where why how can could would should will shall may might must not no yes also just only very
really quite much many more most some any each every all both either neither such own same other
another again further once too still even ever s t get gets got getting use used using uses want wants
need needs please tell explain show give me let know like way ways thing things something anything
one ones able actually best right turn basically exactly kind sort lot lots bit work works working worked
help helps good great nice bad say said think go going come look see try find day today tomorrow
person someone everyone stuff maybe okay ok hi hello thanks thank
""".split()
)

# Suffixes stripped so "upscaled", "upscaling" and "upscale" meet; the same rule runs on both sides.
_SUFFIXES = (
    "ations",
    "ation",
    "ions",
    "ion",
    "ings",
    "ing",
    "edly",
    "ers",
    "er",
    "ed",
    "ies",
    "es",
    "s",
    "ly",
)


def stem(token: str) -> str:
    if len(token) <= 4 or not token.isalpha():
        return token
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            token = token[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if token.endswith("e") and len(token) > 4:
        token = token[:-1]  # upscale / upscaled / upscaling -> upscal
    if len(token) > 4 and token[-1] == token[-2] and token[-1] not in "aeiouls":
        token = token[:-1]  # blurr(ed) -> blur
    return token


_NUMBER_WORDS = frozenset(
    """
zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds
thousand thousands million dozen dozens couple half
""".split()
)


def is_number(token: str) -> bool:
    """Digits ("750", "14x14" counts too) or a number word: counts, not topics."""
    return token[:1].isdigit() or token in _NUMBER_WORDS or stem(token) in _NUMBER_WORDS


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words, URLs removed (a URL names no topic)."""
    return _TOKEN.findall(_URL.sub(" ", text.lower()))


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    return [stem(w) for w in words(text) if keep_stopwords or w not in STOPWORDS]


def stemmed_text(text: str) -> str:
    """All words stemmed, space-padded, so ' make bigg ' style phrases match whole words only."""
    return " " + " ".join(stem(w) for w in words(text)) + " "


def phrase_in(phrase: str, text: str) -> bool:
    """Whole-word, stem-tolerant match of a multi-word phrase ("make bigger") inside text."""
    needle = stemmed_text(phrase).strip()
    return bool(needle) and f" {needle} " in stemmed_text(text)


# An acronym with a plural s ("AIs", "CNNs", "GPUs", "LLMs") names a kind of thing, never one model.
_ACRONYM_PLURAL = re.compile(r"[A-Z]{2,}s")


def is_acronym_plural(word: str) -> bool:
    return bool(_ACRONYM_PLURAL.fullmatch(word))


# A sentence's first word is capitalised anyway; it is still a name when a verb follows it as its
# subject ("Midjourney can ...", "Photoshop is ..."), and the cards never use the word.
_SUBJECT_VERB = re.compile(
    r"\s*(?:can|could|is|was|does|did|will|would|has|had|should|may|might|seems?|claims?|"
    r"upscales|enlarges|sharpens|fixes|makes|gives|works|says)\b",
    re.I,
)


def leads_as_subject(word: str, rest: str) -> bool:
    """`word` opens a sentence and `rest` (what follows it) starts with a verb it is the subject of."""
    return word[:1].isupper() and word.lower() not in STOPWORDS and bool(_SUBJECT_VERB.match(rest))
