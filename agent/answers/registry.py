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
    """The generic lead: computed results first; then the best fact of the part's subjects that
    states the asked attribute, unless another of their facts fits the question's own words clearly
    better (the attribute is a prior, not a filter: a cue word can mislead); with no fact stating
    it, a fact that fits strongly on its own, else "the sources don't say"."""
    computed = apply_skills(ctx.part, ctx.kb, ctx.lang)
    for result in computed:
        claim = computed_claim(result)
        cited = ctx.kb._by_id.get(result.cites)
        settles = (
            cited is not None
            and bool(cited.polarity)
            and cited.attribute == ctx.part.attribute
            and cited.source in ctx.owners()  # about the subject asked, not another one's yes
        )
        if yes_no and cited is not None and settles and not ctx.out.direct and not ctx.part.opposite:
            # "can you make it twice as big?": the computed size is the yes, from the fact it applies
            frame = "answer-yes" if cited.polarity == "yes" else "answer-no"
            claim = claim.model_copy(update={"text": ctx.lang.frame(frame, text=claim.text)})
        ctx.out.direct.append(claim)
        ctx.used.add(result.cites)
        if result.source in ctx.kb.sources:
            ctx.out.sources = list(dict.fromkeys([*ctx.out.sources, result.source]))
    owners = ctx.owners()
    if not owners:
        return
    candidates = ctx.candidates(owners)
    stating = ctx.stating(candidates)
    if computed and stating and stating[0].fact.attribute != ctx.part.attribute:
        stating = []  # a computed answer is followed by the asked point's facts, not another reading's
    best = max(candidates, key=lambda r: r.raw, default=None)
    s = UNDERSTANDING
    if stating and (ctx.part.attribute or ctx.covered(stating[0])):
        if best is not None and not computed and best.raw - stating[0].raw > s.attribute_margin:
            ctx.lead(best, yes_no=yes_no, settles=True)  # the words point elsewhere than the cue
        else:
            ctx.lead(stating[0], yes_no=yes_no)
    elif ctx.part.attribute and ctx.part.subjects and ctx.part.subjects[0].how != "evidence":
        if ctx.out.direct:
            pass  # a computed result answers it
        elif (
            best is not None
            and best.raw >= s.strong_match
            and any(
                f.attribute == ctx.part.attribute
                for f in ctx.kb.facts  # none states "the best": none settles it
            )
        ):
            ctx.lead(best, yes_no=yes_no, settles=True)
        else:
            ctx.not_said(owners[0])
    elif candidates and ctx.covered(candidates[0]) and not ctx.out.direct:
        ctx.lead(candidates[0], yes_no=yes_no)
    if not ctx.out.direct:
        _capability(ctx)


def _capability(ctx: PartContext) -> None:
    """The person named a job and a source serves it: say how, from the capability's own words."""
    tasks = [s.id for s in ctx.part.subjects if s.kind == "task"]
    chosen = [s.id for s in ctx.part.subjects if s.how in ("task", "loose-task")]
    for cap in ctx.kb.capabilities:
        if cap.task in tasks and cap.source in chosen:
            task = ctx.kb.tasks[cap.task].label.lower()
            name = ctx.kb.sources[cap.source].name
            frame = f"capability-{cap.role}"
            text = ctx.lang.frame(frame, name=name, task=task, input=cap.input, output=cap.output)
            ctx.out.direct.append(Claim(text=text, sources=[cap.source], section="direct"))
            ctx.out.sources = list(dict.fromkeys([*ctx.out.sources, cap.source]))
            return


def yes_no(ctx: PartContext) -> None:
    """Yes or No opens only from a fact that settles the point (its polarity), else the fact alone."""
    _lead_one(ctx, yes_no=True)
    _what_the_tool_does(ctx)


def _what_the_tool_does(ctx: PartContext) -> None:
    """A source's "no" on the asked point ("MSSNet does not enlarge"), followed by this tool's
    "yes" on the same point where it has one (it enlarges first, then runs MSSNet)."""
    if not ctx.out.direct or not ctx.out.direct[-1].facts or ctx.kb.tool is None or ctx.part.opposite:
        return  # (asked the other way round, "the same size?", the no is what they hoped for)
    cited = ctx.out.direct[-1].facts[0]
    lead = next((r.fact for r in ctx.part.facts if r.fact.id == cited), None)  # a table cites no fact
    if lead is None or lead.polarity != "no" or lead.source == ctx.kb.tool.id:
        return
    tool = [
        r
        for r in ctx.part.facts
        if r.fact.source == ctx.kb.tool.id
        and r.fact.polarity == "yes"
        and r.fact.attribute == lead.attribute
        and r.fact.id not in ctx.used
    ]
    if tool:
        ctx.out.direct.append(ctx.claim(tool[0].fact))


def plain(ctx: PartContext) -> None:
    _lead_one(ctx)


def choice(ctx: PartContext) -> None:
    """Which one: the lead, then the other sources' facts that rule them out on the asked point
    (a "no" on the same attribute: MSSNet keeps the size when the question is enlarging)."""
    _lead_one(ctx)
    if not ctx.out.direct or not ctx.part.attribute:
        return
    chosen = set(ctx.owners())
    ruled_out = [
        r
        for r in ctx.part.facts
        if r.fact.source in ctx.kb.sources
        and r.fact.source not in chosen
        and r.fact.attribute == ctx.part.attribute
        and r.fact.polarity == "no"
        and r.fact.id not in ctx.used
    ]
    for r in ruled_out[:2]:
        ctx.out.support.append(r.fact)
        ctx.used.add(r.fact.id)
    _what_the_tool_does(ctx)


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
    sides = {o: ctx.stating(ctx.candidates([o])) for o in owners}
    if ctx.part.attribute and not any(sides.values()):  # neither states it: say so, then each side
        names = " and ".join(ctx.name(o) for o in owners)  # on one attribute both state, if any
        label = ctx.lang.attributes[ctx.part.attribute].label
        ctx.out.direct.append(
            Claim(
                text=ctx.lang.frame("compare-unsaid", names=names, label=label),
                section="direct",
                sources=owners,
            )
        )
        ranked = [[r for r in ctx.candidates([o]) if "bibliography" not in r.fact.tags] for o in owners]
        both = next(
            (
                r.fact.attribute
                for r in ranked[0]
                if all(any(x.fact.attribute == r.fact.attribute for x in side) for side in ranked)
            ),
            None,
        )
        sides = {
            o: [r for r in side if r.fact.attribute == both] or side
            for o, side in zip(owners, ranked, strict=True)
        }
    for owner in owners:
        if sides[owner]:  # each side on the same attribute; a side that does not state it says so
            ctx.out.direct.append(ctx.claim(sides[owner][0].fact))
        elif ctx.part.attribute:
            ctx.not_said(owner)


Handler = Callable[[PartContext], None]
HANDLERS: dict[str, Handler] = {
    "yes-no": yes_no,
    "number": plain,
    "list": plain,
    "mechanism": plain,
    "choice": choice,
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
        if not answer.direct and not answer.not_covered and part.attribute in lang.attributes:
            # every asked point ends with an answer or an honest "the sources don't say"
            label = lang.attributes[part.attribute].label
            answer.not_covered.append(lang.frame("sources-dont-say", label=label))
        out.append(answer)
    return out


__all__ = ["Claim", "HANDLERS", "PartAnswer", "answer_parts"]
