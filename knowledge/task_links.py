"""Link an imported source to the known tasks (the packaged vocabulary or the cards' tasks.json).

A known task is linked when its label or a firm alias occurs in the source's title or summary
(title words count double; an ambiguous alias a quarter). The confidence grows with the matched
weight and is shown by `kb show`. Tasks of a prompt's own are made by `knowledge.imports.tasks`
from all the summaries together.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from knowledge.schema import Task
from knowledge.text import phrase_in, stemmed_text

TITLE_WEIGHT = 2.0
AMBIGUOUS_WEIGHT = 0.25
MIN_WEIGHT = 1.0  # one firm alias in the summary links a task
STRONG_LINK = 0.9  # a known-task link this sure stands even when the prompt's sources share another task
KEEP_BESIDE_TITLE_TASK = 0.75  # ... and a weaker one is kept beside the prompt's own task only from here
KEEP_SHARE = 0.5  # further tasks are kept when they match at least half the best weight


@dataclass
class TaskLink:
    task_id: str
    confidence: float
    evidence: list[str] = field(default_factory=list)
    new_task: Task | None = None  # set when the link made a task of its own


def _weight(task: Task, title: str, summary: str, ignore: str | None = None) -> tuple[float, list[str]]:
    label = re.sub(r"\s*\(.*?\)", "", task.label)
    phrases = dict.fromkeys([task.id.replace("-", " "), label, *task.aliases])
    weight, found = 0.0, []
    for phrase in phrases:
        if not stemmed_text(phrase).strip() or (ignore and _overlaps(phrase, ignore)):
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


def _overlaps(alias: str, phrase: str) -> bool:
    """The alias is the phrase, part of it, or holds its head ("segmentation", "image segmentation")."""
    return phrase_in(alias, phrase) or phrase_in(phrase.split()[-1], alias)


def known_task_links(
    tasks: dict[str, Task], title: str, summary: str, ignore: str | None = None
) -> list[TaskLink]:
    """`ignore`: a task phrase of the prompt's own; an alias that names it is no evidence of another
    task (a paper on "semantic segmentation" is not linked to a task listing "segmentation")."""
    weighted = []
    for task in tasks.values():
        weight, found = _weight(task, title, summary, ignore)
        firm = [p for p in found if p not in task.ambiguous_aliases]
        if weight >= MIN_WEIGHT and firm:
            weighted.append((weight, task.id, found))
    if not weighted:
        return []
    weighted.sort(key=lambda w: -w[0])
    best = weighted[0][0]
    return [TaskLink(tid, confidence_of(w), found) for w, tid, found in weighted if w >= KEEP_SHARE * best]
