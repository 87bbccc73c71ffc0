"""A source's input -> model -> output workflow from its own summary sentences.

The input and output steps quote what the summary says goes in and comes out; when it says
nothing, the step says so and gives the task's ends. The model steps are the sentence that says
what the source is, then the sentences that say how it works, in the summary's order."""

from __future__ import annotations

from knowledge.imports.phrasing import imports_language, is_background, method_sentence
from knowledge.schema import Fact, Task

MAX_MODEL_STEPS = 4
# Attributes whose sentences say how well, on what or where, not what the model does in its stages.
NOT_STAGES = (
    "results",
    "evaluation",
    "training-data",
    "training-settings",
    "training-cost",
    "models-tested",
    "code",
    "licence",
    "weights",
    "limitations",
    "runtime",
    "memory",
    "hardware",
    "authors",
    "venue",
    "relevance",
    "task",
)


def stated_ends(sentences: list[str], task: Task | None) -> tuple[str | None, str | None]:
    """What the summary itself says the source takes and returns, or None for each it does not."""
    lang = imports_language()
    phrase = task.aliases[0] if task and task.aliases else None
    own = [s for s in sentences if not is_background(s, lang)]  # not what the field usually does
    taken = next((f for s in own if (f := lang.flow(s, "input", phrase))), None)
    given = next((f for s in own if (f := lang.flow(s, "output"))), None)
    return taken, given


def _edge(text: str) -> str | None:
    words = text.split()
    return " ".join(words[:8]) if len(text) >= 3 else None


def workflow_facts(
    sid: str, name: str, sentences: list[str], attributes: list[str | None], task: Task | None
) -> list[Fact]:
    lang = imports_language()
    taken, given = stated_ends(sentences, task)
    unsaid = {lang.frame("unsaid-input"), lang.frame("unsaid-output")}
    task_in = task.input if task and task.input not in unsaid else None
    task_out = task.output if task and task.output not in unsaid else None
    label = task.label[:1].lower() + task.label[1:] if task else ""
    facts = []

    def add(stage: str, order: int, text: str, origin: str, passes: str | None) -> None:
        suffix = "wf-" + stage + ("" if order == 1 else f"-{order}")
        facts.append(
            Fact(
                id=f"{sid}.{suffix}",
                source=sid,
                text=text,
                origin=origin,
                tags=["workflow"] + ([stage] if stage in ("input", "output") else []),
                workflow=stage,
                order=order,
                passes=_edge(passes) if passes else None,
            )
        )

    def end(stage: str, said: str | None, task_end: str | None, passes: bool) -> None:
        """The input or output step: the summary's words, else the task's, else "not said"."""
        if said:
            add(stage, 1, lang.frame(f"wf-{stage}", what=said), "SEED: summary", said if passes else None)
        elif task_end:
            text = lang.frame(f"wf-{stage}-unsaid", what=task_end, name=name)
            add(stage, 1, text, f"IMPORT: the task's {stage}", task_end if passes else None)
        else:
            add(stage, 1, lang.frame(f"wf-{stage}-none", name=name), "IMPORT: not in the summary", None)

    end("input", taken, task_in, passes=True)

    method = method_sentence(sentences)
    steps = [method] if method else []
    steps += [
        s
        for s, a in zip(sentences, attributes, strict=True)
        if a not in NOT_STAGES
        and lang.statement_attribute(s) not in NOT_STAGES
        and s not in steps
        and not is_background(s, lang)
    ]
    steps = steps[:MAX_MODEL_STEPS]
    out_edge = given or task_out
    if not steps:
        add(
            "model",
            1,
            lang.frame("wf-model-unsaid", name=name, task=label),
            "IMPORT: not in the summary",
            out_edge,
        )
    for order, sentence in enumerate(steps, start=1):
        text = lang.frame("wf-model", name=name, sentence=sentence) if order == 1 else sentence
        add("model", order, text, "SEED: summary", out_edge if order == len(steps) else None)

    end("output", given, task_out, passes=False)
    return facts
