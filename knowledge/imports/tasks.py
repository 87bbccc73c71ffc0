"""The task of a prompt's sources, from all their summaries and the person's question together.

Sources that serve one job share one task, named by the phrase most of them use for it (the
recommended models count double, the person's own words once more): "speech enhancement" for
four papers whose titles say "Speech Enhancement", not one paper's mechanism ("deep filtering") or
a title fragment ("time speech enhancement"). Its gloss, input and output are the summaries' own
words ("removing background noise", "a noisy spectrogram"); what no summary says is said to be
unsaid. A source the shared phrase does not cover keeps a task of its own, made the same way, and
a known task (the packaged vocabulary) is linked when its name or firm aliases fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.imports.phrasing import ImportsLanguage, imports_language, is_background, method_sentence
from knowledge.schema import Task
from knowledge.task_links import (
    KEEP_BESIDE_TITLE_TASK,
    STRONG_LINK,
    TaskLink,
    known_task_links,
    names_the_task,
)
from knowledge.text import phrase_in

RECOMMENDED_WEIGHT = 2  # a recommended model's words count double in naming the shared task
QUESTION_WEIGHT = 2  # ... and the person's own words as much
SHARED_CONFIDENCE = 0.6  # a task named by two sources; each further one adds SHARED_STEP
SHARED_STEP = 0.1
OWN_CONFIDENCE = {"title": 0.5, "summary": 0.35, "name": 0.2}


@dataclass
class SourceText:
    """What the task choice reads of one source."""

    sid: str
    name: str
    title: str
    recommended: bool
    sentences: list[str]

    def mentions(self, phrase: str) -> int:
        """In how many of its texts (title, each sentence) the phrase occurs."""
        return sum(phrase_in(phrase, t) for t in [title_core(self.title), *self.sentences])


@dataclass
class TaskChoice:
    links: dict[str, list[TaskLink]] = field(default_factory=dict)  # source id -> links, primary first
    new_tasks: list[Task] = field(default_factory=list)
    shared: str | None = None  # the task most sources serve
    phrase: str | None = None  # ... and the phrase that names it


def title_core(title: str) -> str:
    """The part of a title that names the task: after 'Name:', and after 'X for' ("Deep Curve
    Estimation for Low-Light Image Enhancement": the estimation serves the enhancement)."""
    lang = imports_language()
    core = title.split(":", 1)[1] if ":" in title else title
    if core != title and not lang.task_phrases(core):
        core = title  # "Super-Resolution of Sentinel-2 Images: Learning a ...": the job comes first
    words = "|".join(re.escape(w) for w in lang.data.task_phrases.serves) or "(?!)"
    parts = re.split(rf"\s+(?:{words})\s+", core, flags=re.I)
    return parts[-1] if len(parts) > 1 and lang.task_phrases(parts[-1]) else core


def _candidates(sources: list[SourceText], lang: ImportsLanguage) -> list[str]:
    found: list[str] = []
    for s in sources:
        for text in [title_core(s.title), *s.sentences]:
            found += [p for p in lang.task_phrases(text) if p not in found]
    return found


def asked_in(phrase: str, question: str) -> bool:
    """The person's question names the task: its phrase, or its head's verb ("How can AI separate
    the vocals?" asks for source separation; "segment each cell", for cell segmentation)."""
    verbs = imports_language().verb_of(phrase)
    return phrase_in(phrase, question) or any(phrase_in(v, question) for v in verbs or ())


def _rank(phrase: str, sources: list[SourceText], question: str) -> tuple[int, bool, int, int, int]:
    members = [s for s in sources if s.mentions(phrase)]
    weight = sum(RECOMMENDED_WEIGHT if s.recommended else 1 for s in members)
    asked = asked_in(phrase, question)
    weight += QUESTION_WEIGHT if asked else 0
    occurrences = sum(s.mentions(phrase) for s in members)
    # asked by its verb ("summarize"), the name with fewer words the person did not use wins
    # ("summarization", not "abstractive summarization"); at equal weight the fuller name wins,
    # once it is used more than once (not a title fragment)
    unasked = sum(not phrase_in(w, question) for w in phrase.split()[:-1]) if asked else 0
    return weight, occurrences >= 2, -unasked, len(phrase.split()), occurrences


def _head(phrase: str) -> str:
    return phrase.split()[-1]


def _joins(source: SourceText, best: str, known: dict[str, Task], lang: ImportsLanguage) -> str | None:
    """Why a source that does not use the shared phrase still serves its job, if it does: its own
    task phrase has the same head ("video interpolation" beside "frame interpolation"), or it is
    a recommended model whose entry names no task at all (links only): it was recommended for the
    person's question, which the summaries together name."""
    phrase, _ = _own_phrase(source, lang)
    if phrase is not None:
        return f"its own phrase '{phrase}' names the same job" if _head(phrase) == _head(best) else None
    if source.recommended and not known_task_links(known, source.title, " ".join(source.sentences)):
        return "recommended for the question; its entry names no task of its own"
    return None


def _same_known(best: str, known: dict[str, Task], lang: ImportsLanguage) -> Task | None:
    """The known task the shared phrase names: by its own name, or by an alias with the head of its
    own name ("deblurring" for "image deblurring"). A topical alias ("segmentation" listed for
    feature-map upsampling, whose job is upsampling) does not make the prompt's task that one."""
    for task in known.values():
        if names_the_task(task, best):
            return task
    for task in known.values():
        label = re.sub(r"\s*\(.*?\)", "", task.label)
        heads = {_head(p) for p in lang.task_phrases(label)} | {_head(label.lower())}
        if best in task.aliases and _head(best) in heads:
            return task
    return None


def _beside(known: dict[str, Task], source: SourceText, shared: str, phrase: str) -> list[TaskLink]:
    """Known tasks kept beside the shared one, linked by words other than the shared phrase's."""
    links = known_task_links(known, source.title, " ".join(source.sentences), ignore=phrase)
    return [link for link in links if link.task_id != shared and link.confidence >= KEEP_BESIDE_TITLE_TASK]


def choose_tasks(sources: list[SourceText], question: str, known: dict[str, Task], origin: str) -> TaskChoice:
    lang = imports_language()
    choice = TaskChoice()
    taken = set(known)
    candidates = _candidates(sources, lang)
    best = max(candidates, key=lambda p: _rank(p, sources, question), default=None)
    members = [s for s in sources if best and s.mentions(best)]
    asked = bool(best) and asked_in(str(best), question)
    shared_id = None
    joined: dict[str, str] = {}
    if best and (len(members) >= 2 or len(sources) == 1 or asked):
        # a source firmly linked to a known task leaves the shared one, unless its title names it
        firm = {s.sid: known_task_links(known, s.title, " ".join(s.sentences), ignore=best) for s in members}
        members = [
            s
            for s in members
            if not (firm[s.sid] and firm[s.sid][0].confidence >= STRONG_LINK)
            or phrase_in(best, title_core(s.title))
        ]
    if best and members and (len(members) >= 2 or len(sources) == 1 or asked):
        for s in sources:
            if s not in members and (why := _joins(s, best, known, lang)):
                joined[s.sid] = why
        same = _same_known(best, known, lang)
        named = list(members)
        members += [s for s in sources if s.sid in joined]
        if same is not None:
            shared_id = same.id
        else:
            task = make_task(best, named, origin, taken)
            bare = next((s for s in members if s.recommended and not s.sentences), None)
            if bare is not None and not any(s.recommended for s in named):
                # the answer cites the recommended model beside the task: say whose words describe it
                owner = sorted(named, key=lambda s: not s.recommended)[0]
                text = lang.frame(
                    "task-description-borrowed", name=bare.name, owner=owner.name, sentence=task.description
                )
                task = task.model_copy(update={"description": text})
            shared_id = task.id
            taken.add(task.id)
            choice.new_tasks.append(task)
        confidence = min(0.95, SHARED_CONFIDENCE + SHARED_STEP * (len(named) - 2 + asked))
        for s in members:
            evidence = [best, "shared by " + ", ".join(m.sid for m in named)]
            if asked:
                evidence.append("named in the question")
            if s.sid in joined:
                evidence.append(joined[s.sid])
            own = round(confidence - (SHARED_STEP if s.sid in joined else 0.0), 2)
            choice.links[s.sid] = [TaskLink(shared_id, own, evidence), *_beside(known, s, shared_id, best)]
    choice.shared = shared_id
    choice.phrase = best if shared_id else None
    _own_tasks(sources, choice, known, origin, taken, lang)
    _name_the_ask(question, sources, choice, lang)
    return choice


def _name_the_ask(
    question: str, sources: list[SourceText], choice: TaskChoice, lang: ImportsLanguage
) -> None:
    """The person's own words for the job ("clean it up") name the shared task too (else the first
    recommended source's), so their question and its "it" are about that task."""
    ask = lang.ask(question)
    lead = next((s for s in sources if s.recommended), sources[0] if sources else None)
    target = choice.shared or (
        choice.links[lead.sid][0].task_id if lead and choice.links.get(lead.sid) else None
    )
    for i, task in enumerate(choice.new_tasks):
        if ask and task.id == target and ask not in task.aliases:
            choice.new_tasks[i] = task.model_copy(update={"aliases": [*task.aliases, ask]})
            for links in choice.links.values():
                for link in links:
                    if link.task_id == target and link.new_task is not None:
                        link.new_task = choice.new_tasks[i]


def _own_tasks(
    sources: list[SourceText],
    choice: TaskChoice,
    known: dict[str, Task],
    origin: str,
    taken: set[str],
    lang: ImportsLanguage,
) -> None:
    for s in sources:
        if s.sid in choice.links:
            continue
        links = known_task_links(known, s.title, " ".join(s.sentences), ignore=choice.phrase)
        phrase, where = _own_phrase(s, lang)
        # a title that names its own task is believed over loose known-task matches, unless they are strong
        titled = (
            where == "title"
            and links[0].confidence < STRONG_LINK
            and not any(names_the_task(known[link.task_id], str(phrase)) for link in links)
            if links
            else False
        )
        if not links or titled:
            own = own_task_link(s, origin, taken)
            if own.new_task is not None:
                taken.add(own.task_id)
                choice.new_tasks.append(own.new_task)
            links = [own, *(lk for lk in links if lk.confidence >= KEEP_BESIDE_TITLE_TASK)]
        choice.links[s.sid] = links


def _own_phrase(source: SourceText, lang: ImportsLanguage) -> tuple[str | None, str]:
    """The task phrase of one source: its title's, else the one its summary uses most."""
    in_title = lang.task_phrases(title_core(source.title))
    if in_title:
        # the fullest title phrase its summary uses too; else the head with one word before it
        # ("Real Time Speech Enhancement": speech enhancement, not a title fragment)
        used = [p for p in in_title if len(p.split()) >= 2 and any(phrase_in(p, x) for x in source.sentences)]
        pairs = [p for p in in_title if len(p.split()) == 2]
        uses = {p: sum(phrase_in(p, x) for x in source.sentences) for p in used}
        # the one the summary uses most ("scene parsing", not "pyramid scene parsing"), then the fullest
        return max(used, key=lambda p: (uses[p], len(p.split()))) if used else (pairs or in_title)[0], "title"
    counts: dict[str, int] = {}
    for sentence in source.sentences:
        for phrase in lang.task_phrases(sentence):
            counts[phrase] = counts.get(phrase, 0) + 1
    if counts:
        return max(counts, key=lambda p: (counts[p], len(p.split()))), "summary"
    return None, "name"


def own_task_link(source: SourceText, origin: str, taken: set[str]) -> TaskLink:
    lang = imports_language()
    phrase, where = _own_phrase(source, lang)
    if phrase is None:  # a summary that names no task at all: what the source does, unsaid ends
        task = Task(
            id=unique_id(_slug(f"what {source.name} does"), taken),
            label=f"What {source.name} does",
            description=source.sentences[0] if source.sentences else f"{source.title.rstrip('.')}.",
            input=lang.frame("unsaid-input"),
            output=lang.frame("unsaid-output"),
            imported_from=origin,
        )
        return TaskLink(task.id, OWN_CONFIDENCE["name"], [], new_task=task)
    task = make_task(phrase, [source], origin, taken)
    return TaskLink(task.id, OWN_CONFIDENCE[where], [phrase, f"from the {where}"], new_task=task)


def make_task(phrase: str, members: list[SourceText], origin: str, taken: set[str]) -> Task:
    """A task named by `phrase`, described, glossed and given its ends by its sources' own sentences."""
    lang = imports_language()
    ordered = sorted(members, key=lambda s: not s.recommended)
    sentences = [x for s in ordered for x in s.sentences]
    gloss = next((g for x in sentences if (g := lang.gloss(x, phrase))), None)
    label = phrase[:1].upper() + phrase[1:]
    if gloss:
        label = lang.frame("task-label-gloss", phrase=label, gloss=gloss)
    # the first source's own sentence naming the task: the one that says what the source is, if it does
    lead = ordered[0].sentences
    with_phrase = [x for x in lead if phrase_in(phrase, x)]
    method = method_sentence(with_phrase)
    description = method or next(iter(with_phrase or lead), f"{ordered[0].title.rstrip('.')}.")
    own = [x for x in sentences if not is_background(x, lang)]  # not what the field usually does
    if len(members) > 1:  # a task several serve: only sentences about it ("an encoder which outputs
        own = [x for x in own if phrase_in(phrase, x)]  # features" is one part of one model)
    flows_in = next((f for x in own if (f := lang.flow(x, "input", phrase))), None)
    flows_out = next((f for x in own if (f := lang.flow(x, "output"))), None)
    *mods, head = phrase.split()
    verbs = lang.verb_of(phrase)
    # the material is a noun ("image", "speech"), not a kind of task ("semantic segmentation")
    material = " ".join(mods) if mods and not lang.is_adjective(mods[-1]) else ""
    # a task several sources serve takes its ends from its name ("the speech to enhance" -> "the
    # enhanced speech"), which they share; one source's task, from what its summary says; else
    # the name's words, else that none says
    shared = len(members) > 1
    if verbs and material and (shared or flows_in is None):
        flows_in = lang.frame("task-material", material=material, verb=verbs[0])
    flows_in = flows_in or lang.frame("unsaid-input")
    if verbs and material and head in lang.data.task_phrases.transforms and (shared or flows_out is None):
        flows_out = lang.frame("task-result", done=verbs[1], material=material)
    flows_out = flows_out or lang.frame("unsaid-output")
    return Task(
        id=unique_id(_slug(phrase), taken),
        label=label,
        description=description,
        aliases=task_aliases(phrase, lang),
        input=flows_in,
        output=flows_out,
        imported_from=origin,
    )


def task_aliases(phrase: str, lang: ImportsLanguage | None = None) -> list[str]:
    """The phrase and its verb form: "low-light image enhancement" -> "enhance low-light image"."""
    lang = lang or imports_language()
    *mods, _ = phrase.split()
    verbs = lang.verb_of(phrase)
    return [phrase] + ([f"{verbs[0]} {' '.join(mods)}"] if verbs and mods else [])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "task"


def unique_id(base: str, taken: set[str]) -> str:
    tid, n = base[:48].strip("-"), 2
    while tid in taken:
        tid, n = f"{base[:44]}-{n}", n + 1
    return tid
