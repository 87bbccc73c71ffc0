"""Link an imported source to tasks: the known tasks' vocabulary first, else a task in its own words.

A known task is linked when its label or a firm alias occurs in the source's title or summary
(title words count double; an ambiguous alias a quarter). The confidence grows with the matched
weight and is shown by `kb show`. When no known task fits, a new one is made from the noun phrase
that names what the source does ("Robust Speech Recognition via ..." -> "Speech recognition"),
described by the summary's own sentence that uses it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from knowledge.schema import Task
from knowledge.text import STOPWORDS, phrase_in, stemmed_text

TITLE_WEIGHT = 2.0
AMBIGUOUS_WEIGHT = 0.25
MIN_WEIGHT = 1.0  # one firm alias in the summary links a task
STRONG_LINK = 0.9  # a known-task link this sure stands even when the title names another task
KEEP_BESIDE_TITLE_TASK = 0.75  # ... and a weaker one is kept beside the title's task only from here
KEEP_SHARE = 0.5  # further tasks are kept when they match at least half the best weight
NEW_TASK_CONFIDENCE = {"title": 0.5, "summary": 0.35, "name": 0.2}

# Nouns that name a task ("speech recognition", "image denoising", "machine translation").
_TASK_HEAD = re.compile(
    r"^(?:[a-z]+(?:tion|sion|sis|ment)|[a-z]+(?:ising|izing|ing)|detection|recognition|segmentation|"
    r"classification|translation|generation|synthesis|retrieval|compression|estimation|prediction|"
    r"forecasting|tracking|captioning|answering|summarization|summarisation|inpainting|denoising|"
    r"deblurring|restoration|reconstruction|enhancement|separation|transcription|learning|modeling|"
    r"modelling|parsing|editing|matching|alignment|localization|localisation|completion|planning)$"
)
# -tion/-ing words that are not tasks.
_NOT_TASKS = frozenset(
    """
information attention application applications evaluation function functions question questions section
solution solutions contribution contributions motivation limitation limitations operation operations
condition conditions position positions resolution computation implementation implementations
distribution distributions combination configuration representation representations performance
improvement improvements experiment experiments environment environments development movement
assessment something nothing thing things training using being during existing including setting
settings according following bring string ring king morning anything everything interaction
interactions variation variations iteration iterations direction directions description descriptions
version versions dimension dimensions regression notion mention fashion million billion emotion
option options portion proportion relation relations situation station selection intention
foundation population caption captions extension extensions addition additional
""".split()
)
# Adjectives that praise a method rather than name its task.
_PRAISE = frozenset(
    """
robust novel efficient effective simple fast faster scalable general better improved new large-scale
real-world practical accurate traditional standard classic classical modern existing common typical
high-quality high-fidelity unified universal powerful strong lightweight fidelity high quality
low-cost cheap towards toward via using with for and of on the a an in to from by through beyond
""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


@dataclass
class TaskLink:
    task_id: str
    confidence: float
    evidence: list[str] = field(default_factory=list)
    new_task: Task | None = None  # set when the link made a task of its own


def _weight(task: Task, title: str, summary: str) -> tuple[float, list[str]]:
    label = re.sub(r"\s*\(.*?\)", "", task.label)
    phrases = dict.fromkeys([task.id.replace("-", " "), label, *task.aliases])
    weight, found = 0.0, []
    for phrase in phrases:
        if not stemmed_text(phrase).strip():
            continue
        in_title, in_summary = phrase_in(phrase, title), phrase_in(phrase, summary)
        if not (in_title or in_summary):
            continue
        w = TITLE_WEIGHT if in_title else 1.0
        weight += w * (AMBIGUOUS_WEIGHT if phrase in task.ambiguous_aliases else 1.0)
        found.append(phrase)
    return weight, found


def confidence_of(weight: float) -> float:
    """1 - e^(-w/2): one summary alias 0.39, one title alias 0.63, three aliases 0.78."""
    return round(1.0 - math.exp(-weight / 2.0), 2)


def names_the_task(task: Task, phrase: str) -> bool:
    """Whether a task's own name (its id or label, not a loose alias) occurs in a phrase."""
    label = re.sub(r"\s*\(.*?\)", "", task.label)
    return any(phrase_in(name, phrase) for name in (task.id.replace("-", " "), label))


def title_task_phrase(title: str) -> str | None:
    """The task the title names, if it names one ("... for Biomedical Image Segmentation")."""
    return next(iter(_task_phrases(_title_core(title))), None)


def known_task_links(tasks: dict[str, Task], title: str, summary: str) -> list[TaskLink]:
    weighted = []
    for task in tasks.values():
        weight, found = _weight(task, title, summary)
        firm = [p for p in found if p not in task.ambiguous_aliases]
        if weight >= MIN_WEIGHT and firm:
            weighted.append((weight, task.id, found))
    if not weighted:
        return []
    weighted.sort(key=lambda w: -w[0])
    best = weighted[0][0]
    return [TaskLink(tid, confidence_of(w), found) for w, tid, found in weighted if w >= KEEP_SHARE * best]


def _task_phrases(text: str) -> list[str]:
    """Noun phrases ending in a task noun, with up to two words before it ("speech recognition")."""
    words = _WORD.findall(text)
    out = []
    for i, word in enumerate(words):
        lower = word.lower()
        if lower in _NOT_TASKS or not _TASK_HEAD.match(lower) or len(lower) < 6:
            continue
        before: list[str] = []
        for prev in reversed(words[max(0, i - 2) : i]):
            p = prev.lower()
            if p in STOPWORDS or p in _PRAISE or p.endswith("ly") or p in _NOT_TASKS:
                break
            before.insert(0, p)
        if before or lower in ("recognition", "segmentation", "translation", "summarization", "forecasting"):
            out.append(" ".join([*before, lower]))
    return out


def _title_core(title: str) -> str:
    """The part of a title that names the task: after 'Name:', and after 'X for' ("Deep Curve
    Estimation for Low-Light Image Enhancement": the estimation serves the enhancement)."""
    core = title.split(":", 1)[1] if ":" in title else title
    parts = re.split(r"\s+for\s+", core, flags=re.I)
    return parts[-1] if len(parts) > 1 and _task_phrases(parts[-1]) else core


def new_task_link(
    source_name: str, title: str, sentences: list[str], taken: set[str], origin: str
) -> TaskLink:
    """A task made from the source's own words, for a source no known task fits."""
    found, where = None, "name"
    for phrase in _task_phrases(_title_core(title)):
        found, where = phrase, "title"
        break
    if found is None:
        counts: dict[str, int] = {}
        for sentence in sentences:
            for phrase in _task_phrases(sentence):
                counts[phrase] = counts.get(phrase, 0) + 1
        if counts:
            found, where = max(counts, key=lambda p: (counts[p], len(p))), "summary"
    phrase = found or f"what {source_name} does"  # a summary that names no task at all
    task_id = _unique_id(re.sub(r"[^a-z0-9]+", "-", phrase.lower()).strip("-") or "task", taken)
    described = next((s for s in sentences if phrase_in(phrase, s)), None) if found else None
    description = described or (
        f"{title.rstrip('.')}." if where == "title" or not sentences else sentences[0]
    )
    label = phrase[:1].upper() + phrase[1:]
    flows_in, flows_out = (
        input_output(phrase, sentences)
        if found
        else ("the input its summary describes", "the result its summary describes")
    )
    task = Task(
        id=task_id,
        label=label,
        description=description,
        aliases=task_aliases(phrase) if found else [],
        input=flows_in,
        output=flows_out,
        imported_from=origin,
    )
    return TaskLink(task_id, NEW_TASK_CONFIDENCE[where], [phrase] if found else [], new_task=task)


_VERB_OF = {
    "enhancement": "enhance",
    "recognition": "recognize",
    "synthesis": "synthesize",
    "translation": "translate",
    "estimation": "estimate",
    "detection": "detect",
    "segmentation": "segment",
    "generation": "generate",
    "classification": "classify",
    "transcription": "transcribe",
    "separation": "separate",
    "restoration": "restore",
    "reconstruction": "reconstruct",
    "compression": "compress",
    "prediction": "predict",
    "retrieval": "retrieve",
    "denoising": "denoise",
    "summarization": "summarize",
    "captioning": "caption",
    "forecasting": "forecast",
    "tracking": "track",
    "editing": "edit",
    "inpainting": "inpaint",
    "completion": "complete",
    "localization": "localize",
}


def task_aliases(phrase: str) -> list[str]:
    """The phrase and its verb form: "low-light image enhancement" -> "enhance low-light image"."""
    *mods, head = phrase.split()
    verb = _VERB_OF.get(head)
    return [phrase] + ([f"{verb} {' '.join(mods)}"] if verb and mods else [])


_ENDS = r"(?=[,.;:]|\s+(?:by|with|while|using|via|in|on|at|so|which|that|for)\b|$)"
_NOUNS = r"((?:an?\s+|the\s+)?[\w-]+(?:\s+(?:of\s+)?[\w-]+){0,5}?)"
_READS = re.compile(
    rf"\b(?:reads|takes|accepts|consumes|receives|maps|converts|turns)\s+{_NOUNS}\s+"
    rf"(?:and\s+(?:writes|outputs|returns|produces|generates|predicts)|into|to)\s+{_NOUNS}{_ENDS}",
    re.I,
)
_FROM = re.compile(rf"\bfrom\s+{_NOUNS}{_ENDS}", re.I)
_MAKES = re.compile(
    rf"\b(?:to produce|produces|to generate|generates|outputs|returns|writes)\s+{_NOUNS}{_ENDS}", re.I
)


def input_output(phrase: str, sentences: list[str]) -> tuple[str, str]:
    """What a new task takes and gives, in the summary's own words when it says ("reads a log-Mel
    spectrogram ... and writes the transcript as text tokens"); plain words for the task otherwise."""
    taken = given = None
    for sentence in sentences:
        m = _READS.search(sentence)
        if m:
            taken, given = taken or m.group(1), given or m.group(2)
    for sentence in sentences:
        if taken is None and phrase_in(phrase, sentence):
            m = _FROM.search(
                sentence[sentence.lower().find(phrase.split()[-1]) :]
                if phrase.split()[-1] in sentence.lower()
                else sentence
            )
            taken = m.group(1) if m else None
        if given is None:
            m = _MAKES.search(sentence)
            given = m.group(1) if m else None
    return (taken or f"the data to use for {phrase}", given or f"the {phrase} result")


def _unique_id(base: str, taken: set[str]) -> str:
    tid, n = base[:48].strip("-"), 2
    while tid in taken:
        tid, n = f"{base[:44]}-{n}", n + 1
    return tid
