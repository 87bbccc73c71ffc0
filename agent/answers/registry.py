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
    if computed:  # a computed answer is followed by facts on the point it computed, not another reading's
        points = {f.attribute for f in (ctx.kb._by_id.get(r.cites) for r in computed) if f is not None}
        if ctx.part.attribute_by != "quantity":  # a number in the question implies a point only loosely
            points.add(ctx.part.attribute)
        stating = [r for r in stating if r.fact.attribute in points]
    best = max(candidates, key=lambda r: r.raw, default=None)
    s = UNDERSTANDING
    if stating and (ctx.part.attribute or ctx.covered(stating[0])):
        if best is not None and not computed and best.raw - stating[0].raw > s.attribute_margin:
            ctx.lead(best, yes_no=yes_no, settles=True)  # the words point elsewhere than the cue
        else:
            ctx.lead(stating[0], yes_no=yes_no)
    elif ctx.part.attribute and ctx.part.subjects and ctx.part.subjects[0].how != "evidence":
        if ctx.out.direct or ctx.said_before():
            pass  # a computed result, or an earlier part's answer, answers it
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
    """Yes or No opens only from a fact that settles the point (its polarity), else the fact alone;
    a question that names several sources ("is A's sampling like B's stages?") then gets each
    other named source's fact on the point."""
    _lead_one(ctx, yes_no=True)
    _what_the_tool_does(ctx)
    named = [s.id for s in ctx.part.subjects if s.kind == "source" and s.how == "named"]
    cited = {sid for c in ctx.out.direct for sid in c.sources}
    missing = [sid for sid in ctx.kb.in_text_order(ctx.part.text, named) if sid not in cited]
    if len(named) >= 2 and missing and cited & set(named):  # the lead answered for one of them
        _each_side(ctx, missing, say_missing=False)


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
    """Each side on the same attribute, in the order the question names them: computed rows of a
    table first (set against each other), then one fact per side stating the compared attribute,
    or "the sources don't say <it> for <side>" beside the other side's fact."""
    tasks = [s.id for s in ctx.part.subjects if s.kind == "task"]
    named = [s for s in ctx.part.subjects if s.kind == "source" and s.how == "named"]
    if len(tasks) >= 2 and not named:  # "deblurring versus super-resolution": what each task is
        for tid in tasks:
            task = ctx.kb.tasks[tid]
            doers = [c.source for c in ctx.kb.capabilities_for(task_id=tid)]
            text = ctx.lang.frame("compare-side", name=task.label, text=task.description)
            ctx.out.direct.append(Claim(text=text, sources=doers[:1], section="direct"))
        return
    owners = _sides_in_order(ctx, ctx.owners())
    # rows of one table side by side ("small vs large"), and how many times one is the other
    computed = apply_skills(ctx.part, ctx.kb, ctx.lang) if len(ctx.part.quantities.rows) >= 2 else []
    for result in computed:
        ctx.out.direct.append(computed_claim(result))
        ctx.used.add(result.cites)
        if result.source in ctx.kb.sources:
            ctx.out.sources = list(dict.fromkeys([*ctx.out.sources, result.source]))
    if len(owners) < 2:
        if not computed:
            _lead_one(ctx)
        return
    answered = {r.source for r in computed}
    _each_side(ctx, [o for o in owners if o not in answered])


def _sides_in_order(ctx: PartContext, sides: list[str]) -> list[str]:
    """The order the question names the sides in, those made for the job it names first ("should I
    use FeatSharp or MSSNet to sharpen a blurry photo?": MSSNet leads)."""
    tasks = {s.id for s in ctx.part.subjects if s.kind == "task" and s.how == "named"}
    serving = {c.source for c in ctx.kb.capabilities if c.task in tasks and c.role == "primary"}
    return sorted(ctx.kb.in_text_order(ctx.part.text, sides), key=lambda sid: sid not in serving)


def _each_side(ctx: PartContext, sides: list[str], say_missing: bool = True) -> None:
    """One fact per side on the compared point: its best-ranked fact stating the compared attribute
    (or another reading of the question); without one, a fact that fits the question's words
    strongly on its own, else "the sources don't say <it> for <side>" and what the side is for
    (`say_missing` False: nothing). When no side states it: "the sources don't compare A and B",
    then each side on one attribute they all state."""
    attribute = _compared_attribute(ctx, sides)
    readings = list(dict.fromkeys(a for a in (attribute, ctx.part.attribute, *ctx.part.alternatives) if a))
    if not any(f.attribute for o in sides for f in ctx.kb.facts_for(o)):
        attribute, readings = None, []  # cards without attributes (imported ones): by meaning alone
    ranked = {o: [r for r in ctx.candidates([o]) if "bibliography" not in r.fact.tags] for o in sides}
    stated = {
        o: [r for r in ranked[o] if r.fact.attribute in readings] if readings else ranked[o] for o in sides
    }
    if not say_missing:  # only the sides that state the point
        attribute = None
    if attribute and len(sides) >= 2 and not any(stated.values()):
        # neither states it: say so, then each side on one attribute both state, if any
        names = " and ".join(ctx.name(o) for o in sides)
        label = ctx.lang.attributes[attribute].label
        line = ctx.lang.frame("compare-unsaid", names=names, label=label)
        ctx.out.direct.append(Claim(text=line, section="direct", sources=sides))
        both = next(
            (
                r.fact.attribute
                for r in ranked[sides[0]]
                if all(any(x.fact.attribute == r.fact.attribute for x in ranked[o]) for o in sides)
            ),
            None,
        )
        for owner in sides:
            side = [r for r in ranked[owner] if r.fact.attribute == both] or ranked[owner]
            if side:
                ctx.out.direct.append(ctx.claim(side[0].fact))
        return
    for owner in sides:
        candidates = ctx.candidates([owner])
        stating = stated[owner]
        best = max(candidates, key=lambda r: r.raw, default=None)
        if stating:
            ctx.out.direct.append(ctx.claim(stating[0].fact))
        elif best is not None and best.raw >= UNDERSTANDING.strong_match:
            ctx.out.direct.append(ctx.claim(best.fact))
        elif attribute:
            ctx.not_said(owner, attribute, nearest=False)
            # then what that side is for, so the contrast still shows ("FeatSharp upsamples features")
            default = ctx.lang.kinds["comparison"].default_attribute
            own = [r for r in candidates if r.fact.attribute == default and r.fact.polarity != "no"]
            if own and attribute != default:
                ctx.out.direct.append(ctx.claim(own[0].fact))


def _compared_attribute(ctx: PartContext, sides: list[str]) -> str | None:
    """The one attribute every side is compared on: the asked one, or another reading of it that
    every side states; a side without it gets "the sources don't say" (none asked: each side's
    best fact)."""

    def everyone_states(attribute: str) -> bool:
        return all(any(r.fact.attribute == attribute for r in ctx.candidates([s])) for s in sides)

    readings = [a for a in (ctx.part.attribute, *ctx.part.alternatives) if a]
    for attribute in readings:
        if everyone_states(attribute):
            return attribute
    return ctx.part.attribute


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
        context = PartContext(part, kb, lang, used, answer)
        if part.ambiguous:
            answer.not_covered.append(lang.frame("which-one", word="it", listed=listed))
        elif part.source_ids or part.about_picture:
            HANDLERS[part.kind](context)
        if (
            not answer.direct
            and not answer.not_covered
            and part.attribute in lang.attributes
            and not context.said_before()
        ):
            # every asked point ends with an answer or an honest "the sources don't say"
            label = lang.attributes[part.attribute].label
            answer.not_covered.append(lang.frame("sources-dont-say", label=label))
        out.append(answer)
    return out


__all__ = ["Claim", "HANDLERS", "PartAnswer", "answer_parts"]
