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

from agent.analysis import PRONOUN, analyse
from agent.answer import Answer
from knowledge.schema import ROLE_ORDER

# "and the base model?", "what about EASIER?", "how about FeatSharp": a fragment, not a question
_ELLIPSIS = re.compile(
    r"^\s*(?:and|also|so)?\s*(?:what|how)\s+about\s+(?P<rest>.+?)\s*[?.!]*\s*$"
    r"|^\s*(?:and|also)\s+(?P<rest2>(?!(?:what|who|where|when|which|why|how|is|are|does|do|can)\b).+?)"
    r"\s*[?.!]*\s*$",
    re.I,
)


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
    def __init__(self, kb, retriever):
        self.kb = kb
        self.retriever = retriever
        self.state = ConversationState()

    def clear(self) -> None:
        self.state = ConversationState()

    def resolve(self, question: str) -> str:
        """A fragment follow-up as a whole question: the last question, about the new subject."""
        match = _ELLIPSIS.match(question)
        last = self.state.last_question
        if not match or not last:
            return question
        rest = (match.group("rest") or match.group("rest2") or "").strip()
        named = self.kb.sources_named_in(rest)
        if named:
            old = [n for sid in self.state.subjects for n in self.kb.source_names.get(sid, [])]
            new_name = self.kb.sources[named[0]].name
            replaced = last
            for name in sorted(old, key=len, reverse=True):
                replaced = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", new_name, replaced, flags=re.I)
            return replaced if replaced != last else f"{last.rstrip('?.! ')} — {new_name}?"
        subject = self.kb.described(self.state.subjects[0]).name if self.state.subjects else ""
        return f"{rest.rstrip('?.! ')} of {subject}?" if subject else question

    def ask(self, question: str, long: bool = False, demo=None, picture: bool = False) -> Answer:
        from agent.compose import compose_answer
        from common.textsafe import clean_line

        resolved = self.resolve(clean_line(question or ""))
        assessment = self.retriever.assess(resolved) if resolved else None
        analysis = analyse(resolved, self.kb, assessment, context=self.state.subjects) if resolved else None
        if analysis is None:
            from agent.compose import answer_question

            return answer_question(
                question, kb=self.kb, retriever=self.retriever
            )  # raises the empty-question error
        answer = compose_answer(
            resolved,
            analysis,
            assessment,
            self.kb,
            self.retriever,
            demo=demo,
            long=long,
            context=self.state.subjects,
            picture=picture,
            earlier=self.state.understood,
        )
        understood = self._with_subject(resolved, analysis)
        if understood != clean_line(question):
            answer.question = clean_line(question)  # show what was typed
            answer.resolved_question = understood
        self._remember(understood, analysis, answer)
        return answer

    def _with_subject(self, question: str, analysis) -> str:
        """The question with its first "it"/"its" replaced by the source it was taken to mean."""
        first = analysis.parts[0] if analysis.parts else None
        if first is None or not first.inherited or not first.sources:
            return question
        name = self.kb.described(first.sources[0]).name

        def named(match: re.Match[str]) -> str:
            word = match.group(0)
            return f"{name}'s" if word.lower() in ("its", "their") else name

        return PRONOUN.sub(named, question, count=1)

    def _remember(self, question: str, analysis, answer: Answer) -> None:
        if answer.abstained:
            return  # an off-topic question does not change the subject
        subjects = [s for p in analysis.parts for s in p.sources]
        if (
            not subjects
        ):  # what the answer cites first: a source, or this tool ("which weights would it use?")
            tool = self.kb.tool.id if self.kb.tool is not None else None
            cited = [s for c in answer.direct_answer + answer.claims for s in c.sources]
            subjects = [s for s in cited if s in self.kb.sources or s == tool][:1]
        if subjects:
            self.state.subjects = list(dict.fromkeys(subjects))
        if analysis.task_reason == "alias":
            self.state.last_task = analysis.task_id
        else:  # the subject's own task
            caps = (
                sorted(
                    self.kb.capabilities_for(source_id=self.state.subjects[0]),
                    key=lambda c: ROLE_ORDER[c.role],
                )
                if self.state.subjects
                else []
            )
            self.state.last_task = caps[0].task if caps else analysis.task_id
        self.state.last_question = question
        self.state.understood = answer.understood
