"""What an answer shows beside its claims: each source's links, the links a claim's text carries,
which demo artefact illustrates which claim; and the last gate that drops anything ungrounded."""

from __future__ import annotations

from agent.answer import Answer, SourceRef
from agent.grounding import check_grounded


def source_refs(kb, source_ids) -> list[SourceRef]:
    """One entry per URL shown: each source's paper and code links (its best link if neither)."""
    refs: list[SourceRef] = []
    for sid in dict.fromkeys(source_ids):
        src = kb.sources.get(sid)
        if src is None:
            continue
        urls = [u for u in (src.links.paper, src.links.code) if u] or [u for u in src.urls()[:1]]
        refs += [SourceRef(id=sid, title=src.title, url=u) for u in urls]
    return refs


def list_shown_urls(answer: Answer, kb) -> None:
    """A card text may carry a link (e.g. "code at https://..."): list it under its source."""
    from agent.grounding import URL_RE

    owner = {u.rstrip("/"): sid for sid, src in kb.sources.items() for u in src.urls()}
    listed = {s.url.rstrip("/") for s in answer.sources}
    texts = [c.text for c in answer.direct_answer + answer.claims] + [w.text for w in answer.workflow]
    texts += answer.caveats
    for url in (u.rstrip(".,;:!?") for t in texts for u in URL_RE.findall(t)):
        sid = owner.get(url.rstrip("/"))
        if sid is not None and url.rstrip("/") not in listed:
            answer.sources.append(SourceRef(id=sid, title=kb.sources[sid].title, url=url))
            listed.add(url.rstrip("/"))


# artefact -> words that make a claim about it; each artefact sits beside its best few claims
_ARTEFACT_WORDS = {
    "stages": ("stage", "coarse", "scale"),
    "spectrum": ("frequen", "spectrum", "fft", "fourier"),
    "crops": ("fur", "texture", "detail", "sharp", "restor"),
}
MAX_CLAIMS_PER_ARTEFACT = 2


def illustrations(answer: Answer) -> dict[int, list[str]]:
    """Which demo artefact shows each claim on the person's own picture (the demo model's claims only)."""
    out: dict[int, list[str]] = {}
    # only claims the claim list shows: the task section and the direct answers are rendered apart
    hidden = {c.text for c in answer.direct_answer}
    for name, words in _ARTEFACT_WORDS.items():
        scored = []
        for i, claim in enumerate(answer.claims):
            if answer.recommended not in claim.sources:  # the demo ran the recommended model
                continue
            if claim.text in hidden or (claim.section in ("task", "comparison") and not answer.abstained):
                continue
            text = claim.text.lower()
            hits = sum(text.count(w) for w in words)
            if hits:
                scored.append((-hits, i))
        for _, i in sorted(scored)[:MAX_CLAIMS_PER_ARTEFACT]:
            out.setdefault(i, []).append(name)
    return out


def drop_ungrounded(answer: Answer, kb) -> None:
    """Last gate: remove any item the validator refuses (it cannot come from the cards)."""
    bad = check_grounded(answer, kb)
    if not bad:
        return
    drop = {(v.where.field, v.where.index) for v in bad}
    for name in ("direct_answer", "claims", "workflow", "caveats", "not_covered", "suggestions", "sources"):
        items = getattr(answer, name)
        setattr(answer, name, [x for i, x in enumerate(items) if (name, i) not in drop])
    if answer.task is not None and ("task", None) in drop:
        answer.task = None
