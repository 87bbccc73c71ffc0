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
class Ref:
    """Which item of an answer: a list field and an index ("claims", 2), or a single field ("task")."""

    field: str  # "claims" | "direct_answer" | "workflow" | "caveats" | "suggestions" | "sources" | "task" | "question"
    index: int | None = None

    def __str__(self) -> str:
        return self.field if self.index is None else f"{self.field}[{self.index}]"


@dataclass(frozen=True)
class Violation:
    where: Ref
    kind: str  # "url" | "title" | "number" | "unlisted-url" | "unknown-source"
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


def _texts(answer) -> list[tuple[Ref, str]]:
    out: list[tuple[Ref, str]] = []  # see _computed for the numbers a claim computed
    if answer.task is not None:
        out.append((Ref("task"), answer.task.label))
    for name in ("direct_answer", "workflow", "claims"):
        out += [(Ref(name, i), item.text) for i, item in enumerate(getattr(answer, name, []) or [])]
    for name in ("caveats", "not_covered", "suggestions"):
        out += [(Ref(name, i), text) for i, text in enumerate(getattr(answer, name, []) or [])]
    return out


def _computed(answer, where: Ref) -> set[str]:
    """Numbers a skill computed for this claim: allowed only where the claim also cites a fact."""
    if where.field not in ("direct_answer", "claims") or where.index is None:
        return set()
    item = getattr(answer, where.field)[where.index]
    return set(item.computed) if item.facts else set()


def check_grounded(answer, kb) -> list[Violation]:
    """Every URL, quoted title and number the answer shows, and every source id, must come from the cards.

    Returns the violations (empty when grounded); the question echo is the person's own words
    and is checked only for URLs (compose redacts those).
    """
    violations: list[Violation] = []
    listed_urls = {s.url.rstrip("/") for s in answer.sources}

    for where, text in _texts(answer) + [(Ref("question"), answer.question)]:
        for url in URL_RE.findall(text):
            url = _strip_url_punct(url).rstrip("/")
            if url not in kb.url_set:
                violations.append(Violation(where, "url", url))
            elif url not in listed_urls:
                violations.append(Violation(where, "unlisted-url", url))
        if where.field == "question":
            continue
        computed = _computed(answer, where)
        for token in number_tokens(text):
            if token not in computed and not _number_allowed(token, kb.number_set):
                violations.append(Violation(where, "number", token))
        for title in QUOTED_TITLE_RE.findall(text):
            if len(title.split()) >= 3 and title.strip().lower() not in kb.title_set:
                violations.append(Violation(where, "title", title))

    for i, src in enumerate(answer.sources):
        if src.url.rstrip("/") not in kb.url_set:
            violations.append(Violation(Ref("sources", i), "url", src.url))
        if src.title.strip().lower() not in kb.title_set:
            violations.append(Violation(Ref("sources", i), "title", src.title))
        if src.id not in kb.sources:
            violations.append(Violation(Ref("sources", i), "unknown-source", src.id))
    cited = [
        (Ref(name, i), item.sources)
        for name in ("direct_answer", "claims", "workflow")
        for i, item in enumerate(getattr(answer, name, []) or [])
    ]
    tool = kb.tool.id if getattr(kb, "tool", None) is not None else None
    for where, ids in cited:
        for sid in ids:
            if sid not in kb.sources and sid != tool:
                violations.append(Violation(where, "unknown-source", sid))
    return violations


def ensure_grounded(answer, kb) -> None:
    """Raise GroundingError naming the first problems if the answer is not grounded."""
    violations = check_grounded(answer, kb)
    if violations:
        shown = "; ".join(str(v) for v in violations[:3])
        more = f" (+{len(violations) - 3} more)" if len(violations) > 3 else ""
        raise GroundingError(f"refusing an ungrounded answer: {shown}{more}")


def unverified_urls(text: str, kb) -> list[str]:
    """URLs in `text` (a question) that no card holds."""
    urls = (_strip_url_punct(u) for u in URL_RE.findall(text))
    return [u for u in urls if u.rstrip("/") not in kb.url_set]


def redact_urls(text: str, kb) -> str:
    """Replace URLs that are not in the cards (e.g. in a question) so they are never echoed."""

    def repl(match: re.Match[str]) -> str:
        url = _strip_url_punct(match.group(0))
        tail = match.group(0)[len(url) :]
        return (url if url.rstrip("/") in kb.url_set else "[unverified link removed]") + tail

    return URL_RE.sub(repl, text)
