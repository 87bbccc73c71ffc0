"""What a chat remembers between questions: a small typed state that follow-ups resolve against.

"Who wrote it?" is about the source the conversation is on; "What about EASIER?" asks the last
question again about EASIER; "And the base model?" narrows the last subject. Nothing else is kept:
the state is the sources talked about, the last task, the last question and the attached picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.answer import Answer
from knowledge.lang.language import language
from knowledge.schema import ROLE_ORDER


@dataclass
class ConversationState:
    subjects: list[str] = field(default_factory=list)  # source ids, the current one first
    last_task: str | None = None
    last_question: str | None = None
    image: Path | None = None
    understood: Any = None  # the last question's Understanding (a follow-up may continue it)

    def describe(self, kb) -> list[str]:
        """Lines for /context."""
        names = [
            kb.described(s).name for s in self.subjects if s in kb.sources or kb.tool and s == kb.tool.id
        ]
        task = kb.tasks.get(self.last_task) if self.last_task else None
        return [
            f"talking about: {', '.join(names) if names else '(nothing yet)'}",
            f"task: {task.label if task else '(none)'}",
            f"last question: {self.last_question or '(none)'}",
            f"attached picture: {self.image.name if self.image else '(none)'}",
        ]


class Conversation:
    def __init__(self, kb):
        self.kb = kb
        self.state = ConversationState()

    def clear(self) -> None:
        self.state = ConversationState()

    def resolve(self, question: str) -> str:
        """A fragment follow-up as a whole question: the last question, about the new subject."""
        rest = _fragment(question)
        last = self.state.last_question
        if rest is None or not last:
            return question
        named = self.kb.sources_named_in(rest)
        if named:
            old = [n for sid in self.state.subjects for n in self.kb.source_names.get(sid, [])]
            new_name = self.kb.sources[named[0]].name
            replaced = last
            for name in sorted(old, key=len, reverse=True):
                replaced = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", new_name, replaced, flags=re.I)
            return replaced if replaced != last else f"{last.rstrip('?.! ')} — {new_name}?"
        subject = self.kb.described(self.state.subjects[0]).name if self.state.subjects else ""
        return f"{rest} of {subject}?" if subject else question

    def ask(
        self,
        question: str,
        long: bool = False,
        demo=None,
        picture: bool = False,
        picture_size: tuple[int, int] | None = None,
    ) -> Answer:
        from agent.compose import answer_question
        from common.textsafe import clean_line

        resolved = self.resolve(clean_line(question or ""))
        answer = answer_question(
            resolved or question,  # an empty question raises its error there
            self.kb,
            demo=demo,
            long=long,
            context=self.state.subjects,
            picture=picture,
            earlier=self.state.understood,
            picture_size=picture_size,
        )
        understood = self._with_subject(resolved, answer.understood)
        if understood != clean_line(question):
            answer.question = clean_line(question)  # show what was typed
            answer.resolved_question = understood
        self._remember(understood, answer)
        return answer

    def _with_subject(self, question: str, understanding) -> str:
        """The question with its first pointing word ("it", "its") replaced by the source it was
        taken to mean."""
        first = understanding.parts[0] if understanding and understanding.parts else None
        meant = [s.id for s in first.subjects if s.kind == "source" and s.how == "context"] if first else []
        if not meant:
            return question
        name = self.kb.described(meant[0]).name
        pronouns = sorted(language().referents.pronouns, key=len, reverse=True)
        pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in pronouns) + r")(?![\w-])", re.I)

        def named(match: re.Match[str]) -> str:
            said = match.group(0).lower()
            return f"{name}'s" if said.endswith(("its", "their")) else name

        return pattern.sub(named, question, count=1)

    def _remember(self, question: str, answer: Answer) -> None:
        if answer.abstained:
            return  # an off-topic question does not change the subject
        understanding = answer.understood
        subjects = [s.id for p in understanding.parts for s in p.subjects if s.kind == "source"]
        if (
            not subjects
        ):  # what the answer cites first: a source, or this tool ("which weights would it use?")
            tool = self.kb.tool.id if self.kb.tool is not None else None
            cited = [s for c in answer.direct_answer + answer.claims for s in c.sources]
            subjects = [s for s in cited if s in self.kb.sources or s == tool][:1]
        if subjects:
            self.state.subjects = list(dict.fromkeys(subjects))
        if understanding.task_how in ("named", "loosely"):
            self.state.last_task = understanding.task
        else:  # the subject's own task
            caps = (
                sorted(
                    self.kb.capabilities_for(source_id=self.state.subjects[0]),
                    key=lambda c: ROLE_ORDER[c.role],
                )
                if self.state.subjects
                else []
            )
            self.state.last_task = caps[0].task if caps else understanding.task
        self.state.last_question = question
        self.state.understood = understanding


def _fragment(question: str) -> str | None:
    """What a fragment follow-up adds ("and the base model?" → "the base model"): it opens with one
    of the language data's continuations and asks nothing of its own; None for a whole question."""
    lang = language()
    text = question.strip().rstrip("?.!… ").strip()
    lowered = text.lower()
    for opener in sorted(lang.parts.continuations, key=len):
        if lowered.startswith(opener + " "):
            rest = text[len(opener) :].strip(" ,")
            asks = lang.kind_hits(text) or lang.kind_hits(rest) or lang.attribute_hits(rest)
            if rest and not asks:
                return rest
    return None
