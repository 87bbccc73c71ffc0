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


def asks_about_streamlining(answer: Any) -> bool:
    """The question asks about making the network's steps fewer or simpler (then the demo also runs
    the EASIER sweep): an attribute, a premise ("so few sampling rounds") or a task the language
    data names for it, as the question was understood."""
    from knowledge.lang.language import language

    understood = getattr(answer, "understood", None)
    if understood is None:
        return False
    referents = language().referents
    attributes = set(referents.streamline_attributes)
    read = {p.attribute for p in understood.parts} | {a for p in understood.parts for a in p.alternatives}
    return bool(read & attributes or understood.premises or understood.task in referents.streamline_tasks)


def question_factor(answer: Any) -> int | None:
    """The enlargement factor the question asks for ("twice as big", "x4"), 2 to 4, when it is
    about the attached picture: the demo's --upscale when the person gave none."""
    understood = getattr(answer, "understood", None)
    if understood is None or not understood.about_picture:
        return None
    factors = [f for p in understood.parts for f in p.quantities.factors if 2 <= f <= 4]
    return factors[0] if factors else None
