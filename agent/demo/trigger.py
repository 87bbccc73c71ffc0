"""Whether a question concerns the attached picture, so the live demo runs on it.

One decision, read off the composed Answer only. The understanding layer says it directly with
`Answer.about_picture` ("it", "this", "my photo" mean the attached picture); until it does (None),
the rule is the one the commands used before: a covered question whose answer recommends a network
this program can run (or names no source at all).
"""

from __future__ import annotations

from typing import Any


def demo_wanted(answer: Any, question: str | None = None) -> bool:
    """True when the demo should run on the attached picture for this answer.

    Never for a refused (abstained) question. `answer.about_picture` decides when it is set; else
    today's fallback: any covered question, unless it recommends a source this program cannot run
    (that check is `demo_refusal`, which also says why)."""
    if answer.abstained:
        return False
    about = getattr(answer, "about_picture", None)
    if about is not None:
        return bool(about)
    return True
