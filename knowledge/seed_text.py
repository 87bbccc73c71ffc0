"""A summary's sentences as card facts: split, screened (data, never instructions), given a subject.

A prompt's summary is data. A sentence that speaks to the reader or the assistant ("Ignore all
rules", "you must", "always cite ...") or links somewhere other than the entry's own Paper and
GitHub pages is dropped, and the import says why. A kept sentence names its subject: "It
outperforms ..." becomes "Real-ESRGAN outperforms ...", "We introduce ..." "The paper introduces ...",
so a fact still says whose it is when it stands alone in an answer.
"""

from __future__ import annotations

import re

from knowledge.store import urls_in

_ABBREVIATIONS = {
    "e.g.": "e\u2024g\u2024",
    "i.e.": "i\u2024e\u2024",
    "et al.": "et al\u2024",
    "vs.": "vs\u2024",
    "etc.)": "etc\u2024)",
    "Fig.": "Fig\u2024",
    "approx.": "approx\u2024",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(\d])")

# Wording that addresses whoever reads the prompt, not something a paper says about itself.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\s+(?:(?:all|any|the|your|these|those|previous|prior|above|"
    r"earlier|other)\s+){0,3}(rules?|instructions?|prompts?|guidelines?|sources?|directions?|text|above|"
    r"everything)\b"
    r"|\b(always|never|must|should)\s+(cite|mention|say|answer|respond|reply|recommend|include|link|"
    r"output|print|refer|tell|use|quote|add|list|claim|state)\b"
    r"|\byou\s+(must|should|shall|need to|have to|are required|will now|are now|are an?)\b"
    r"|\b(system prompt|the assistant|as an ai|jailbreak|developer mode|new instructions?)\b"
    r"|\b(tell|inform|remind|convince) the (user|reader)s?\b|\bnote to (the )?(ai|assistant|model|reader)\b"
    r"|\b(respond|reply|answer) (only )?(with|in)\b|\bdo not (mention|cite|say|tell|refer|reveal)\b"
    r"|\bwhen (answering|responding|replying)\b|\brecommend (it|this|them) (above|over|before)\b"
    r"|^\s*(system|assistant|user)\s*:|<\|[a-z_]+\|>|\[/?inst\]"
    r"|^(please\s+)?(ignore|disregard|forget|cite|recommend|answer|respond|reply|say|tell|print|output|"
    r"pretend|act as|do not|don't|never|always|remember|obey)\b",
    re.I,
)
# A link-like word without a scheme ("evil.example/x", "www.site.com") is still a link.
_BARE_LINK = re.compile(
    r"\b(?:www\.[\w-]+(?:\.[\w-]+)+|[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|ai|ru|cn|"
    r"xyz|info|example|dev|app|co|me|ly|site|top)(?:/\S*)?)\b",
    re.I,
)

_ADVERBS = {
    "also",
    "further",
    "then",
    "first",
    "finally",
    "additionally",
    "additionally,",
    "furthermore",
    "here",
    "now",
    "thus",
    "therefore",
    "moreover",
    "empirically",
    "experimentally",
}
_NO_S = {
    "can",
    "could",
    "will",
    "would",
    "may",
    "might",
    "must",
    "shall",
    "should",
    "did",
    "were",
    "was",
    "had",
}
_IRREGULAR = {"have": "has", "are": "is", "do": "does", "go": "goes", "were": "was"}
_METHOD_NOUNS = r"(?:method|model|approach|network|framework|system|architecture|technique|algorithm|design)"


def split_sentences(summary: str) -> list[str]:
    protected = summary
    for abbr, safe in _ABBREVIATIONS.items():
        protected = protected.replace(abbr, safe)
    restore = {safe: abbr for abbr, safe in _ABBREVIATIONS.items()}
    out = []
    for part in _SENTENCE_END.split(protected):
        for safe, abbr in restore.items():
            part = part.replace(safe, abbr)
        if part.strip():
            out.append(part.strip())
    return out


def instruction_reason(sentence: str) -> str | None:
    """Why a sentence reads as an instruction to the reader or the assistant, or None."""
    match = _INSTRUCTION.search(sentence)
    if match:
        return f"reads as an instruction, not a finding ({match.group(0).strip()!r})"
    return None


def _same_link(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def foreign_link(sentence: str, own_links: list[str]) -> str | None:
    """A link in the sentence that is not one of the entry's own (Paper, GitHub), or None."""
    for url in urls_in(sentence):
        if not any(_same_link(url, own) for own in own_links):
            return url
    stripped = re.sub(r"https?://\S+", " ", sentence)
    bare = _BARE_LINK.search(stripped)
    if bare and not re.fullmatch(r"(e\.g|i\.e|et al|etc)", bare.group(0), re.I):
        own_hosts = [re.sub(r"^https?://", "", u).lower() for u in own_links]
        if not any(
            bare.group(0).lower() in host or host.startswith(bare.group(0).lower()) for host in own_hosts
        ):
            return bare.group(0)
    return None


def _third_person(verb: str) -> str:
    lower = verb.lower()
    if lower in _IRREGULAR:
        return _IRREGULAR[lower]
    if lower in _NO_S or lower.endswith("ed"):
        return lower
    if re.search(r"(s|sh|ch|x|z|o)$", lower):
        return lower + "es"
    if re.search(r"[^aeiou]y$", lower):
        return lower[:-1] + "ies"
    return lower + "s"


def _we_clause(rest: str) -> str:
    """'also propose a ...' -> 'also proposes a ...' (adverbs kept, the first verb conjugated)."""
    words = rest.split(" ")
    for i, word in enumerate(words):
        if word.lower().strip(",") in _ADVERBS:
            continue
        if re.fullmatch(r"[A-Za-z]+", word):
            words[i] = _third_person(word)
        break
    return " ".join(words)


def name_subject(sentence: str, name: str | None) -> str:
    """Give a sentence its subject: the source's name (when it is short) or "the paper"."""
    subject = name if name and len(name.split()) <= 3 else None
    s = sentence
    m = re.match(
        r"^(?:In this (?:paper|work|study|article)|Here|In this work|To this end|To address this"
        r"(?: issue| problem)?),?\s+we\s+(.*)$",
        s,
        re.I,
    )
    if m:
        s = "The paper " + _we_clause(m.group(1))
    elif re.match(r"^We\s", s):
        s = "The paper " + _we_clause(s[3:])
    elif lead := re.match(
        rf"^(It|This {_METHOD_NOUNS}|The proposed {_METHOD_NOUNS}|Our {_METHOD_NOUNS})\s", s
    ):
        s = (subject or "The paper's method") + " " + s[lead.end() :]
    elif re.match(r"^(This|Our) (paper|work|study|article)\s", s):
        s = "The paper " + s.split(" ", 2)[2]
    elif re.match(r"^Our\s", s):
        s = "The paper's " + s[4:]
    # "we" and "our" inside the sentence: the authors speak; say so in the third person
    s = re.sub(r"\bwe\b", "the authors", s)
    s = re.sub(r"\b[Oo]ur\b", "the authors'", s)
    s = re.sub(r"(?<=\s)us\b", "the authors", s)
    return s
