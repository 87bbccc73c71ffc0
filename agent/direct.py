"""The direct answer: for each part of the question, the card fact that answers it, said first.

FAQ-style: a part's kind (who wrote it, yes/no, a number, a licence, a comparison, ...) and subject
(a source, a task, a name no card has) pick the facts to search, BM25 (plus embeddings once loaded)
ranks them, and a few fixed words frame the best one ("No — ...", "The sources don't give ...").
Every sentence is a card fact or built from card fields, so grounding holds by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.analysis import PRONOUN, QuestionAnalysis, QuestionPart, fact_shows_attribute
from agent.answer import Claim
from knowledge.text import tokens

ROLE_ORDER = {"primary": 0, "with-preprocessing": 1, "related": 2}
ROLE_PHRASE = {
    "primary": "is made for this task",
    "with-preprocessing": "serves this task after a preprocessing step",
    "related": "is related to this task",
}
MAX_SUPPORT = 2  # facts under a narrow answer's direct answer, per part
SUPPORT_RATIO = 0.5  # ... each at least this share of the best fact's score
_NEGATION = r"\b(?:no|not|never|without|neither|nor|cannot|can't|doesn't|isn't)\b(?:\W+\w+){0,3}?\W+"
_PURPOSE = re.compile(r"\b(used for|good for|useful for|purpose|applications?|use cases?)\b", re.I)
_STEP_WORDS = re.compile(r"\b(step|steps|workflow|pipeline|process|processed|comes? out)\b", re.I)
_CODE_WORDS = re.compile(r"\b(code|repo|repository|github|source code)\b", re.I)
_AVAILABILITY_TAGS = ("weights", "license", "code", "checkpoint")
# Tags whose facts answer the question the cards were written for, not a specific one.
_FOUNDING_TAGS = ("relevance",)
# What a specific question asks about a source -> the card tags of the facts that say it: these
# lead over the source's summary ("Which networks was EASIER tested on?" is its models, not its task).
_ASKED_FACETS: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (
        re.compile(
            r"\b(tested|evaluated|benchmarked|experiments?)\b|\bwhich (networks|models|architectures|"
            r"backbones|datasets|classifiers)\b",
            re.I,
        ),
        frozenset({"models", "datasets", "evaluation"}),
    ),
    (
        re.compile(
            r"\b(decides?|chooses?|picks?|selects?)\b|\bwhich \w+ (to \w+ )?(first|next)\b|\bin what order\b|"
            r"\bcriteri(on|a)\b|\brule\b|\bprocedure\b",
            re.I,
        ),
        frozenset({"procedure"}),
    ),
    (
        re.compile(
            r"\b(small|base|large)\b.*\b(small|base|large)\b|\bconfigurations?\b|\bvariants?\b|"
            r"\b(sizes|versions) of\b",
            re.I,
        ),
        frozenset({"configs"}),
    ),
)
TASK_FACT_WEIGHT = 1.5  # a fact about the task the part's words name, for the source that serves it
FACET_FLOOR = 0.25  # ... if its score is at least this share of the best fact's


@dataclass
class PartAnswer:
    part: QuestionPart
    direct: list[Claim] = field(default_factory=list)
    support: list = field(default_factory=list)  # card facts backing the direct answer
    caveats: list = field(default_factory=list)  # not-known / does-not facts in play
    not_covered: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the sources this part is answered from

    @property
    def answered(self) -> bool:
        return bool(self.direct)


def answer_parts(analysis: QuestionAnalysis, kb, retriever) -> list[PartAnswer]:
    used: set[str] = set()
    return [_answer_part(part, analysis, kb, retriever, used) for part in analysis.parts]


def outside_names(part: QuestionPart) -> list[str]:
    """The part's unknown names, adjacent ones joined ("Topaz Gigapixel")."""
    spans: list[str] = []
    words = re.findall(r"[\w.+-]+", part.text)
    i = 0
    while i < len(words):
        if words[i].strip(".") in part.outside:
            j = i
            while j + 1 < len(words) and words[j + 1].strip(".") in part.outside:
                j += 1
            spans.append(" ".join(w.strip(".") for w in words[i : j + 1]))
            i = j + 1
        else:
            i += 1
    return list(dict.fromkeys(spans)) or list(part.outside)


def not_among_line(name: str, kb) -> str:
    """'X is not among the sources (A, B, ...)': the name only when it carries no number the cards lack."""
    listed = ", ".join(s.name for s in kb.sources.values())
    if re.search(r"\d", name) and not all(n in kb.number_set for n in re.findall(r"\d+(?:[.,]\d+)*", name)):
        name = "The model you name"
    return f"{name} is not among the sources ({listed}), so they say nothing about it."


def _answer_part(part: QuestionPart, analysis: QuestionAnalysis, kb, retriever, used: set[str]) -> PartAnswer:
    out = PartAnswer(part)
    out.not_covered = [not_among_line(n, kb) for n in outside_names(part)]
    about_outside = (
        part.outside
        and not part.sources
        and (analysis.unknown_subject and analysis.unknown_subject in part.text or not part.task_id)
    )
    if about_outside:
        return out  # the part is about something no card has
    if not part.sources and not part.task_id and not analysis.named_sources and PRONOUN.search(part.text):
        names = ", ".join(s.name for s in kb.sources.values())
        out.not_covered.append(f"It is not clear which source \u201cit\u201d means here: name one ({names}).")
        return out
    if (
        part.kind == "how-do-i"
        and not part.sources
        and not part.task_id
        and analysis.task_reason == "evidence"
    ):
        missing = _job_words_no_card_has(part, kb)
        if missing:  # "remove noise from a night photo": no source does that job
            words = " or ".join(f"\u201c{w}\u201d" for w in missing)
            out.not_covered.append(f"None of the sources covers this job: no card describes {words}.")
            return out
    if part.attribute and part.kind not in ("compare", "choice"):
        _attribute(out, kb, retriever, used)
    elif part.kind == "published":
        _published(out, kb, retriever, used)
    elif part.kind == "licence":
        _availability(out, kb, retriever, used)
    elif part.kind == "compare":
        _compare(out, analysis, kb, retriever, used)
    elif part.kind in ("choice", "how-do-i") and len(part.sources) == 1:
        _best_fact(out, kb, retriever, used)  # "Which networks was EASIER tested on?"
    elif part.kind in ("choice", "how-do-i") or (
        not part.sources
        and (part.task_id or analysis.task_id and len(analysis.parts) == 1)
        and (not part.topic or part.kind in ("what-is", "how-does-it-work"))
    ):
        _choose(out, analysis, kb, retriever, used)
    else:
        _best_fact(out, kb, retriever, used)
    return out


# Words of a "how do I" that say where the job happens, not what the job is.
_NOT_THE_JOB = frozenset(
    "photo photos image images picture pictures pic pics shot shots snapshot snapshots remove "
    "reduce rid fix get make turn convert change improve clean help my".split()
)


def _job_words_no_card_has(part: QuestionPart, kb) -> list[str]:
    """The job's own words that no card fact says except to deny them ("no noise"), when they are
    most of the job: a job the task was guessed for from the evidence alone, which no source does."""
    job = [w for w in part.topic if w not in _NOT_THE_JOB and len(w) > 3]
    if not job:
        return []
    # a "not known" fact names the job only to say the sources lack it
    facts = [(f.text, set(tokens(f.text))) for f in kb.facts if f.kind != "not-known"]

    def said(word: str) -> bool:
        stems = set(tokens(word))
        denied = _NEGATION + re.escape(word[:4])
        return any(stems <= words and not re.search(denied, text, re.I) for text, words in facts)

    unsaid = [w for w in job if not said(w)]
    return unsaid if 2 * len(unsaid) > len(job) else []


# -- subjects --------------------------------------------------------------------------------------


def subject_sources(part: QuestionPart, kb, retriever) -> list[str]:
    """The sources a part is about: named (or inherited), else who does its task, else the evidence."""
    if part.sources:
        return part.sources
    if part.task_id:
        caps = sorted(kb.capabilities_for(task_id=part.task_id), key=lambda c: ROLE_ORDER[c.role])
        if caps:
            return [caps[0].source]
    ranked = _rank(retriever, kb, part.query, None)
    return [ranked[0][1].source] if ranked else []


def _rank(retriever, kb, query: str, sources: list[str] | None):
    rank = getattr(retriever, "rank_facts", None)
    if rank is None:  # a retriever without per-fact ranking: a fresh BM25 search
        from knowledge.search import EvidenceSearch

        rank = EvidenceSearch(kb=kb, dense=False).rank_facts
    return rank(query, sources)


def whose(fact, kb) -> str:
    """The fact's text, saying whose it is when the text does not ("Cost: ..." -> "FeatSharp — Cost: ...")."""
    name = kb.sources[fact.source].name
    if name.lower() in fact.text.lower():
        return fact.text
    labelled = re.match(r"[A-Z][a-z]+(?: [a-z]+)?: ", fact.text)
    return f"{name} — {fact.text}" if labelled else f"{name}: {fact.text}"


_named = whose


def _claim(fact, kb, prefix: str = "") -> Claim:
    return Claim(text=prefix + _named(fact, kb), sources=[fact.source], facts=[fact.id], section="direct")


def _add_support(out: PartAnswer, ranked, used: set[str], top: float, kb) -> None:
    for score, fact in ranked:
        if len(out.support) >= MAX_SUPPORT or score < SUPPORT_RATIO * top:
            break
        if fact.id in used or any(t in fact.tags for t in _FOUNDING_TAGS) or fact.workflow:
            continue
        if fact.kind == "not-known":
            if not out.caveats:
                out.caveats.append(fact)
                used.add(fact.id)
            continue
        out.support.append(fact)
        used.add(fact.id)


def _take(out: PartAnswer, ranked, used: set[str], kb, prefix: str = "") -> None:
    """The best unused fact becomes the direct answer; the next good ones support it."""
    for i, (score, fact) in enumerate(ranked):
        if fact.id in used:
            continue
        out.direct.append(_claim(fact, kb, prefix(fact) if callable(prefix) else prefix))
        used.add(fact.id)
        out.sources = list(dict.fromkeys([*out.sources, fact.source]))
        _add_support(out, ranked[i + 1 :], used, score, kb)
        return


# -- by kind ---------------------------------------------------------------------------------------


def _best_fact(out: PartAnswer, kb, retriever, used: set[str]) -> None:
    part = out.part
    sources = subject_sources(part, kb, retriever)
    if not sources:
        return
    out.sources = sources[:1]
    query = part.query
    purpose = _PURPOSE.search(part.text)
    if purpose:
        query += " applications uses"
    if (not part.topic or purpose) and part.kind in ("what-is", "how-does-it-work"):
        ranked = _rank(retriever, kb, query, sources[:1]) if purpose else []
        if ranked and ranked[0][0] >= 0.5 and "applications" in ranked[0][1].tags:
            _take(out, ranked, used, kb)
            return
        overview = _task_fact(kb, sources[0])  # "What does FeatSharp do?"
        if overview is not None and overview.id not in used:
            out.direct.append(_claim(overview, kb))
            used.add(overview.id)
            return
    ranked = _reweigh(_rank(retriever, kb, query, sources[:1]), part)
    if not ranked:  # no word in common ("evaluated" vs "evaluation"): the facts with the asked facet
        facets = _asked_facets(part)
        ranked = [(1.0, f) for f in kb.facts_for(sources[0]) if facets & set(f.tags) and not f.workflow]
    prefix = (lambda f: "No — " if _says_no(f, part) else "") if part.kind == "yes-no" else ""
    _take(out, ranked, used, kb, prefix)


def _reweigh(ranked, part: QuestionPart):
    """Kind-specific preferences: numbers for a how-many, does-not facts for a yes/no, never the
    founding question's relevance notes for a specific one."""

    def weight(score, fact):
        w = score
        if any(t in fact.tags for t in _FOUNDING_TAGS):
            w *= 0.5
        if part.kind == "number" and re.search(r"\d", fact.text):
            w *= 1.3
        if fact.workflow and not _STEP_WORDS.search(part.text):
            w *= 0.6  # a pipeline step answers "how", rarely "why" or "what"
        if part.kind == "yes-no" and (fact.kind == "does-not" or _says_no(fact, part)):
            w *= 1.3
        if asks_for_the_job and f"task:{part.task_id}" in fact.tags:
            w *= TASK_FACT_WEIGHT  # the source's fact about the job the person describes
        return w

    # "Can I use this to turn a thumbnail into a poster?": a job, no source named
    asks_for_the_job = part.task_id and not part.sources and part.kind in ("yes-no", "how-do-i")
    facets = _asked_facets(part)
    weighed = [(weight(s, f), f) for s, f in ranked]
    top = max((w for w, _ in weighed), default=0.0)

    def answers_facet(w, fact) -> bool:  # a fact with the asked facet leads, unless far off the query
        return bool(facets & set(fact.tags)) and w >= FACET_FLOOR * top

    return sorted(weighed, key=lambda r: (not answers_facet(*r), -r[0]))


def _asked_facets(part: QuestionPart) -> set[str]:
    return set().union(*(tags for asked, tags in _ASKED_FACETS if asked.search(part.query)))


def _says_no(fact, part: QuestionPart) -> bool:
    """The fact denies what the yes/no part asks: 'no normalisation layers', or a does-not fact
    about something the part names ('does not enlarge' for "Does it enlarge?")."""
    stems = [re.escape(w[:5]) for w in part.topic if len(w) > 2]
    if any(re.search(_NEGATION + stem, fact.text, re.I) for stem in stems):
        return True
    return fact.kind == "does-not" and any(re.search(rf"\b{stem}", fact.text, re.I) for stem in stems)


def _task_fact(kb, source_id: str):
    """The fact saying what the source does: tagged with its primary task, not its bibliography."""
    caps = sorted(kb.capabilities_for(source_id=source_id), key=lambda c: ROLE_ORDER[c.role])
    tasks = [c.task for c in caps]
    for task in tasks:
        for fact in kb.facts_for(source_id):
            if (
                f"task:{task}" in fact.tags
                and "bibliography" not in fact.tags
                and fact.kind == "fact"
                and not fact.workflow
            ):
                return fact
    facts = kb.facts_for(source_id)
    return next(
        (f for f in facts if "summary" in f.tags and f.kind == "fact" and not f.workflow),
        next((f for f in facts if "bibliography" in f.tags), None),
    )


def _main_subject(out: PartAnswer, kb, retriever) -> str | None:
    """The source a part is about (the first of its subjects), recorded as the part's source."""
    sources = subject_sources(out.part, kb, retriever)
    if not sources:
        return None
    out.sources = [sources[0]]
    return sources[0]


def _published(out: PartAnswer, kb, retriever, used: set[str]) -> None:
    part = out.part
    sid = _main_subject(out, kb, retriever)
    if sid is None:
        return
    src = kb.sources[sid]
    if _CODE_WORDS.search(part.text) and src.links.code:
        out.direct.append(
            Claim(text=f"{src.name}'s code is at {src.links.code}.", sources=[sid], section="direct")
        )
        ranked = [
            r
            for r in _rank(retriever, kb, part.query, [sid])
            if "code" in r[1].tags or "limitation" in r[1].tags
        ]
        _add_support(out, ranked, used, ranked[0][0] if ranked else 0.0, kb)
        return
    ranked = [r for r in _rank(retriever, kb, part.query, [sid]) if "bibliography" in r[1].tags]
    if not ranked:
        ranked = [(1.0, f) for f in kb.facts_for(sid) if "bibliography" in f.tags]
    _take(out, ranked, used, kb)


def _availability(out: PartAnswer, kb, retriever, used: set[str]) -> None:
    part = out.part
    sid = _main_subject(out, kb, retriever)
    if sid is None:
        return
    ranked = [
        r for r in _rank(retriever, kb, part.query, [sid]) if any(t in r[1].tags for t in _AVAILABILITY_TAGS)
    ]
    if ranked:
        _take(
            out, ranked, used, kb, lambda f: "No — " if _says_no(f, part) and part.kind != "licence" else ""
        )
        return
    _not_given(out, sid, "code and weights", kb, retriever, used)


_MEASURED_VALUE = re.compile(r"\d+(\.\d+)?\s?%|\b\d+\.\d+\b")


def _attribute(out: PartAnswer, kb, retriever, used: set[str]) -> None:
    """A kind of fact (licence, runtime, scores, FLOPs, ...): the card fact that gives it, or says it
    is not known; else say the sources don't give it and name the nearest facts they do give."""
    part = out.part
    sid = _main_subject(out, kb, retriever)
    if sid is None:
        return
    ranked = [
        (s * (1.5 if f.kind == "not-known" else 1.0), f)
        for s, f in _rank(retriever, kb, part.query, [sid])
        if fact_shows_attribute(part.attribute, f.text) and not f.workflow  # a step that reports it
    ]
    ranked.sort(key=lambda r: -r[0])
    unknown = next((f for _, f in ranked if f.kind == "not-known" and f.id not in used), None)
    best = next((f for _, f in ranked if f.id not in used), None)
    if best is not None and best.kind == "fact" and _MEASURED_VALUE.search(best.text):
        # a card that says "only the appendix accuracies are available" must not hide those
        # accuracies: a fact with measured values that outranks the "not known" one leads
        unknown = None
    if unknown is not None:  # "runtimes ... were not available": say so, then the nearest facts given
        out.direct.append(
            Claim(
                text=f"The sources don't give {kb.sources[sid].name}'s {part.attribute}.",
                sources=[sid],
                section="direct",
            )
        )
        out.direct.append(_claim(unknown, kb))
        used.add(unknown.id)
        near = [
            r for r in _rank(retriever, kb, part.query, [sid]) if not r[1].workflow and r[1].kind == "fact"
        ]
        near.sort(key=lambda r: (not _near_attribute(r[1], part.attribute), -r[0]))
        _add_support(out, near, used, near[0][0] if near else 0.0, kb)
        return
    if ranked:
        _take(out, ranked, used, kb)
        return
    _not_given(out, sid, part.attribute, kb, retriever, used)


# Card tags of the facts nearest an attribute the sources don't give (runtime -> compute, sizes).
_NEAR_TAGS = {"runtime": {"speed", "cost", "configs"}, "FLOPs": {"cost", "configs"}, "memory use": {"cost"}}


def _near_attribute(fact, attribute: str) -> bool:
    return bool(_NEAR_TAGS.get(attribute, set()) & set(fact.tags))


def _not_given(out: PartAnswer, sid: str, what: str, kb, retriever, used: set[str]) -> None:
    src = kb.sources[sid]
    text = f"The sources don't give {src.name}'s {what}."
    if src.links.code:
        text = text[:-1] + f"; its code is at {src.links.code}."
    out.direct.append(Claim(text=text, sources=[sid], section="direct"))
    ranked = [r for r in _rank(retriever, kb, out.part.query, [sid]) if not r[1].workflow]
    if ranked:
        _add_support(out, ranked, used, ranked[0][0], kb)


def _capability_line(kb, cap) -> Claim:
    name = kb.sources[cap.source].name
    return Claim(
        text=f"{name} {ROLE_PHRASE[cap.role]}: it takes {cap.input} and returns {cap.output}.",
        sources=[cap.source],
        section="direct",
    )


def _best_capability(kb, source_id: str):
    return min(kb.capabilities_for(source_id=source_id), key=lambda c: ROLE_ORDER[c.role], default=None)


def _compare(out: PartAnswer, analysis: QuestionAnalysis, kb, retriever, used: set[str]) -> None:
    part = out.part
    sources = part.sources or []
    if len(sources) >= 2:
        for sid in sources[:3]:
            cap = _best_capability(kb, sid)
            if cap is not None:
                task = kb.tasks.get(cap.task)
                label = task.label.lower() if task else cap.task
                out.direct.append(
                    Claim(
                        text=f"{kb.sources[sid].name} is for {label}: it takes {cap.input} and "
                        f"returns {cap.output}.",
                        sources=[sid],
                        section="direct",
                    )
                )
        out.sources = sources[:3]
        for sid in sources[:3]:  # each side's own lead fact: what it is for
            lead = _task_fact(kb, sid)
            if lead is not None and lead.id not in used and "bibliography" not in lead.tags:
                out.support.append(lead)
                used.add(lead.id)
            else:
                _add_support_one(out, _rank(retriever, kb, part.query, [sid]), used)
        return
    tasks = list(dict.fromkeys(([part.task_id] if part.task_id else []) + list(analysis.firm_alias_hits)))
    if len(tasks) >= 2:
        for tid in tasks[:3]:
            task = kb.tasks[tid]
            caps = sorted(kb.capabilities_for(task_id=tid), key=lambda c: ROLE_ORDER[c.role])
            if caps:
                out.direct.append(
                    Claim(
                        text=f"{task.label}: {task.description}", sources=[caps[0].source], section="direct"
                    )
                )
                out.sources.append(caps[0].source)
        for sid in dict.fromkeys(out.sources):
            _add_support_one(out, _rank(retriever, kb, part.query, [sid]), used, does_not=True)
        return
    _best_fact(out, kb, retriever, used)


def _add_support_one(out: PartAnswer, ranked, used: set[str], does_not: bool = False) -> None:
    for _, fact in ranked:
        if fact.id in used or fact.workflow or fact.kind == "not-known" or "relevance" in fact.tags:
            continue
        if does_not and fact.kind != "does-not":
            continue
        out.support.append(fact)
        used.add(fact.id)
        return


def _choose(out: PartAnswer, analysis: QuestionAnalysis, kb, retriever, used: set[str]) -> None:
    """Which source for the job: the one that does the task the part describes (by role), else the
    one whose facts match it best; the other candidates' does-not facts say why not them."""
    part = out.part
    candidates = part.sources or list(kb.sources)
    query = part.query
    for sid in part.sources:  # judge the job, not the names in it
        for name in kb.source_names[sid]:
            query = re.sub(re.escape(name), " ", query, flags=re.I)
    # the part's own task words, else the whole question's task (which ambiguous words and the
    # evidence may decide: "four times bigger")
    task_id = part.task_id or (analysis.task_id if len(analysis.parts) == 1 else None)
    caps = (
        sorted(
            (c for c in kb.capabilities if c.task == task_id and c.source in candidates),
            key=lambda c: ROLE_ORDER[c.role],
        )
        if task_id
        else []
    )
    if caps:
        chosen = caps[0].source
        out.direct.append(_capability_line(kb, caps[0]))
    else:
        ranked = _rank(retriever, kb, query, candidates)
        if not ranked:
            return
        chosen = ranked[0][1].source
    out.sources = [chosen]
    ranked = _reweigh(_rank(retriever, kb, query, [chosen]), part)
    if caps:
        task_facts = [r for r in ranked if f"task:{task_id}" in r[1].tags and not r[1].workflow]
        best = task_facts[0][1] if task_facts else (ranked[0][1] if ranked else None)
        if best is not None and best.id not in used:
            out.direct.append(_claim(best, kb))
            used.add(best.id)
        for _, fact in task_facts[1:2]:  # the next fact about the same task backs it
            if fact.id not in used and fact.kind != "not-known":
                out.support.append(fact)
                used.add(fact.id)
        _add_support(out, [r for r in ranked if r[1].id not in used], used, ranked[0][0] if ranked else 0, kb)
        # others that serve the task less directly: what they do not do explains the choice
        for other in caps[1:]:
            if other.role == "related" or other.source == chosen:
                continue
            contrast = next(
                (
                    f
                    for f in kb.facts_for(other.source)
                    if f.kind == "does-not" and f"task:{task_id}" in f.tags and f.id not in used
                ),
                None,
            )
            if contrast is not None:
                out.support.append(contrast)
                used.add(contrast.id)
    else:
        _take(out, ranked, used, kb)
    for sid in candidates:
        if sid != chosen and sid in part.sources:
            _add_support_one(out, _rank(retriever, kb, query, [sid]), used, does_not=True)
