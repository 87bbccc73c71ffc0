"""The grounding validator: an answer may only show URLs, titles and numbers found in the cards.

Measured demo numbers are not checked here: they live in the demo section (`Answer.demo`), apart
from the claims, and are labelled as measurements on the person's own picture.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from agent.errors import AgentError

URL_RE = re.compile(r"https?://[^\s<>\"'\])]+", re.I)
# Number tokens, split exactly as knowledge's allowed_numbers() splits card text (1e-6 -> 1, 6).
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
# A quoted phrase of several capitalised words reads as a title of a work.
QUOTED_TITLE_RE = re.compile(r"[\"“]([A-Z][^\"”]{8,}?)[\"”]")


class GroundingError(AgentError):
    pass


@dataclass(frozen=True)
class Violation:
    where: str      # "claims[2]", "workflow[0]", "caveats[1]", "sources[3]", "task"
    kind: str       # "url" | "title" | "number" | "unlisted-url" | "unknown-source"
    value: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} {self.value!r} is not in the source cards"


def _strip_url_punct(url: str) -> str:
    return url.rstrip(".,;:!?")


def number_tokens(text: str) -> list[str]:
    """Number tokens in text, with URLs removed first (their digits are checked as URLs)."""
    return NUMBER_RE.findall(URL_RE.sub(" ", text))


def _number_allowed(token: str, allowed: set[str]) -> bool:
    if token in allowed:
        return True
    # "15,614,497" may be stored without separators, "0.50" as "0.5"
    if token.replace(",", "") in allowed:
        return True
    try:
        value = float(token.replace(",", ""))
    except ValueError:
        return False
    return any(_same_number(value, a) for a in allowed)


def _same_number(value: float, allowed_token: str) -> bool:
    try:
        return float(allowed_token.replace(",", "")) == value
    except ValueError:
        return False


def _texts(answer) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if answer.task is not None:
        out.append(("task", answer.task.label))
    out += [(f"workflow[{i}]", w.text) for i, w in enumerate(answer.workflow)]
    out += [(f"claims[{i}]", c.text) for i, c in enumerate(answer.claims)]
    out += [(f"caveats[{i}]", c) for i, c in enumerate(answer.caveats)]
    out += [(f"suggestions[{i}]", s) for i, s in enumerate(answer.suggestions)]
    return out


class _Allowed:
    """The kb's allow-lists, computed once per kb (they are sets built from every card)."""

    def __init__(self, kb) -> None:
        self.urls = {u.rstrip("/") for u in kb.allowed_urls()}
        self.titles = {t.strip().lower() for t in kb.allowed_titles()}
        self.numbers = set(kb.allowed_numbers())
        self.source_ids = set(kb.sources)


_CACHE: dict[int, tuple[object, _Allowed]] = {}


def _allowed(kb) -> _Allowed:
    cached = _CACHE.get(id(kb))
    if cached is None or cached[0] is not kb:   # the kb is kept alive, so its id is not reused
        cached = _CACHE[id(kb)] = (kb, _Allowed(kb))
    return cached[1]


def check_grounded(answer, kb) -> list[Violation]:
    """Every URL, quoted title and number the answer shows, and every source id, must come from the cards.

    Returns the violations (empty when grounded); the question echo is the person's own words
    and is checked only for URLs (compose redacts those).
    """
    allowed = _allowed(kb)
    violations: list[Violation] = []
    listed_urls = {s.url.rstrip("/") for s in answer.sources}

    for where, text in _texts(answer) + [("question", answer.question)]:
        for url in URL_RE.findall(text):
            url = _strip_url_punct(url).rstrip("/")
            if url not in allowed.urls:
                violations.append(Violation(where, "url", url))
            elif url not in listed_urls:
                violations.append(Violation(where, "unlisted-url", url))
        if where == "question":
            continue
        for token in number_tokens(text):
            if not _number_allowed(token, allowed.numbers):
                violations.append(Violation(where, "number", token))
        for title in QUOTED_TITLE_RE.findall(text):
            if len(title.split()) >= 3 and title.strip().lower() not in allowed.titles:
                violations.append(Violation(where, "title", title))

    for i, src in enumerate(answer.sources):
        if src.url.rstrip("/") not in allowed.urls:
            violations.append(Violation(f"sources[{i}]", "url", src.url))
        if src.title.strip().lower() not in allowed.titles:
            violations.append(Violation(f"sources[{i}]", "title", src.title))
        if src.id not in allowed.source_ids:
            violations.append(Violation(f"sources[{i}]", "unknown-source", src.id))
    for where, ids in ([(f"claims[{i}]", c.sources) for i, c in enumerate(answer.claims)]
                       + [(f"workflow[{i}]", w.sources) for i, w in enumerate(answer.workflow)]):
        for sid in ids:
            if sid not in allowed.source_ids:
                violations.append(Violation(where, "unknown-source", sid))
    return violations


def ensure_grounded(answer, kb) -> None:
    """Raise GroundingError naming the first problems if the answer is not grounded."""
    violations = check_grounded(answer, kb)
    if violations:
        shown = "; ".join(str(v) for v in violations[:3])
        more = f" (+{len(violations) - 3} more)" if len(violations) > 3 else ""
        raise GroundingError(f"refusing an ungrounded answer: {shown}{more}")


def redact_urls(text: str, kb) -> str:
    """Replace URLs that are not in the cards (e.g. in a question) so they are never echoed."""
    allowed = _allowed(kb)

    def repl(match: re.Match[str]) -> str:
        url = _strip_url_punct(match.group(0))
        tail = match.group(0)[len(url):]
        return (url if url.rstrip("/") in allowed.urls else "[unverified link removed]") + tail

    return URL_RE.sub(repl, text)
