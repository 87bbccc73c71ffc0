"""Which claim of the answer each demo measurement illustrates."""

from __future__ import annotations

import re
from typing import Any

# Which claims a measurement illustrates: the demo artefacts compose already places beside claims
# ("crops", "spectrum", "stages"), and for streamlining the words of a depth-reduction claim.
_TOPIC_ARTEFACTS = {"detail": ("spectrum", "crops"), "stages": ("stages",)}
_STREAMLINE_CLAIM = re.compile(r"entropy|lineari[sz]|rectifier|depth|streamlin", re.I)


def measured_beside_claims(answer: Any) -> list[dict]:
    """The demo's measurements, each with the claim it illustrates (index, text, sources) when the
    answer has one: shown in a separate "Measured on your picture" block, never inside a claim."""
    demo = getattr(answer, "demo", None)
    if demo is None:
        return []
    out: list[dict] = []
    for m in demo.measurements():
        index = None
        if m["topic"] in _TOPIC_ARTEFACTS:
            for name in _TOPIC_ARTEFACTS[m["topic"]]:
                index = next(
                    (i for i in sorted(answer.illustrations) if name in answer.illustrations[i]), None
                )
                if index is not None:
                    break
        elif m["topic"] == "streamline":
            index = next((i for i, c in enumerate(answer.claims) if _STREAMLINE_CLAIM.search(c.text)), None)
        claim = answer.claims[index] if index is not None else None
        repeated = bool(out) and index is not None and out[-1]["claim"] == index  # name a claim once per run
        out.append(
            {
                **m,
                "claim": index,
                "claim_text": _short(claim.text) if claim and not repeated else None,
                "sources": list(claim.sources) if claim else [],
            }
        )
    return out


def _short(text: str, limit: int = 90) -> str:
    text = re.sub(r"^Relevance to the question:\s*", "", text)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
