"""One handler per answer kind; a kind of the language data without a handler fails at import."""

from __future__ import annotations

from collections.abc import Callable

from agent.answer import Claim
from agent.answers.context import PartAnswer, PartContext, computed_claim
from knowledge.lang.language import Language, language
from knowledge.settings import UNDERSTANDING
from knowledge.skills import apply as apply_skills
from knowledge.store import KnowledgeBase
from knowledge.understand import Understanding


def _lead_one(ctx: PartContext, yes_no: bool = False) -> None:
    """The generic lead: computed results first, then the best fact of the part's subjects that
    states the asked attribute, else "the sources don't say"."""
    for computed in apply_skills(ctx.part, ctx.kb, ctx.lang):
        ctx.out.direct.append(computed_claim(computed))
        ctx.used.add(computed.cites)
        if computed.source in ctx.kb.sources:
            ctx.out.sources = list(dict.fromkeys([*ctx.out.sources, computed.source]))
    owners = ctx.owners()
    if not owners:
        return
    candidates = ctx.candidates(owners)
    stating = ctx.stating(candidates)
    if stating and (ctx.part.attribute or ctx.covered(stating[0])):
        ctx.lead(stating[0], yes_no=yes_no)
    elif ctx.part.attribute and ctx.part.subjects and ctx.part.subjects[0].how != "evidence":
        if not ctx.out.direct:
            ctx.not_said(owners[0])
    elif candidates and ctx.covered(candidates[0]) and not ctx.out.direct:
        ctx.lead(candidates[0], yes_no=yes_no)


def yes_no(ctx: PartContext) -> None:
    """A fact that settles a yes/no leads when the asked attribute's facts settle none and it
    ranks as high on the question's own words (the attribute's bonus aside)."""
    candidates = ctx.candidates()
    stating = ctx.stating(candidates)
    if ctx.part.attribute and stating and not any(r.fact.polarity for r in stating):
        polar = [r for r in candidates if r.fact.polarity and r.fact.kind != "not-known"]
        if polar and polar[0].score >= stating[0].score - UNDERSTANDING.attribute_bonus:
            for computed in apply_skills(ctx.part, ctx.kb, ctx.lang):
                ctx.out.direct.append(computed_claim(computed))
            ctx.lead(polar[0], yes_no=True, settles=True)
            return
    _lead_one(ctx, yes_no=True)


def plain(ctx: PartContext) -> None:
    _lead_one(ctx)


def comparison(ctx: PartContext) -> None:
    """Each side on the same attribute: one fact per named subject."""
    tasks = [s.id for s in ctx.part.subjects if s.kind == "task"]
    named = [s for s in ctx.part.subjects if s.kind == "source" and s.how == "named"]
    if len(tasks) >= 2 and not named:  # "deblurring versus super-resolution": what each task is
        for tid in tasks:
            task = ctx.kb.tasks[tid]
            doers = [c.source for c in ctx.kb.capabilities_for(task_id=tid)]
            text = ctx.lang.frame("compare-side", name=task.label, text=task.description)
            ctx.out.direct.append(Claim(text=text, sources=doers[:1], section="direct"))
        return
    owners = ctx.owners()
    if len(owners) < 2 and len(ctx.part.quantities.rows) >= 2:  # rows of one table side by side
        for computed in apply_skills(ctx.part, ctx.kb, ctx.lang):
            ctx.out.direct.append(computed_claim(computed))
        if ctx.out.direct:
            return
    if len(owners) < 2:
        _lead_one(ctx)
        return
    for owner in owners:
        candidates = ctx.candidates([owner])
        stating = ctx.stating(candidates) or candidates
        if stating:
            ctx.out.direct.append(ctx.claim(stating[0].fact))
        elif ctx.part.attribute:
            ctx.not_said(owner)


Handler = Callable[[PartContext], None]
HANDLERS: dict[str, Handler] = {
    "yes-no": yes_no,
    "number": plain,
    "list": plain,
    "mechanism": plain,
    "choice": plain,
    "comparison": comparison,
    "how-to": plain,
    "definition": plain,
    "overview": plain,
}


def _check(lang: Language) -> None:
    missing = [k for k in lang.kinds if k not in HANDLERS]
    if missing:
        raise RuntimeError(f"answer kinds without a handler: {', '.join(missing)}")


_check(language())


def answer_parts(
    understanding: Understanding, kb: KnowledgeBase, lang: Language | None = None
) -> list[PartAnswer]:
    lang = lang or language()
    used: set[str] = set()
    out = []
    for part in understanding.parts:
        answer = PartAnswer(part)
        listed = ", ".join(s.name for s in kb.sources.values())
        answer.not_covered = [lang.frame("not-among", name=n, listed=listed) for n in part.outside]
        if part.ambiguous:
            answer.not_covered.append(lang.frame("which-one", word="it", listed=listed))
        elif part.source_ids or part.about_picture:
            HANDLERS[part.kind](PartContext(part, kb, lang, used, answer))
        out.append(answer)
    return out


__all__ = ["Claim", "HANDLERS", "PartAnswer", "answer_parts"]
