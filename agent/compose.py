"""Compose an Answer from the understanding of the question and the cards only.

The text of every claim, workflow step and caveat is a fact's own text (or a task/capability
description from the cards) joined by the language data's frames; no numbers, titles or URLs are
ever written here. The grounding validator then checks the result against the cards.
"""

from __future__ import annotations

from agent.answer import Answer, Claim, TaskRef
from agent.answer_links import drop_ungrounded, illustrations, list_shown_urls, source_refs
from agent.answers import answer_parts
from agent.answers.context import whose
from agent.errors import AgentError
from agent.grounding import redact_urls, unverified_urls
from agent.long_form import MAX_CAVEATS, compose_long
from agent.scope import abstain, is_prompt_question, task_of_the_prompt
from common.textsafe import clean_line
from knowledge.lang.language import language
from knowledge.parts import Understanding
from knowledge.understand import understand


def load_default_kb(cards_dir=None):
    """The cards in `cards_dir` (--cards-dir), else $EXPLAINER_CARDS, else the packaged ones."""
    from knowledge import load_knowledge

    return load_knowledge(cards_dir)


def default_retriever(kb, dense=True):
    """BM25 + MiniLM by default (the torch-free embedder loads in about 0.4 s; start it early with
    knowledge.embed.preload()); BM25 alone when it cannot load or `dense` is False.

    knowledge.search.EvidenceSearch has the same assess() as the langchain EvidenceRetriever
    without importing langchain (about 0.5 s), which matters for `ask`'s start-up.
    """
    try:
        from knowledge.search import EvidenceSearch

        return EvidenceSearch(kb=kb, dense=dense)
    except ImportError:
        from knowledge.retriever import EvidenceRetriever

        return EvidenceRetriever(kb=kb, dense=dense)


def answer_question(
    question: str,
    kb=None,
    demo=None,
    long: bool = False,
    context: list[str] | None = None,
    picture: bool = False,
    earlier: Understanding | None = None,
    picture_size: tuple[int, int] | None = None,
) -> Answer:
    """Answer `question` from the knowledge cards; attach `demo` (an agent.demo.DemoReport) if given.

    The answer opens with a short direct answer per part of the question; a narrow question gets
    only what supports it, the founding kind (and `long`) the full task / workflow / papers form.
    `context`: the sources a conversation is about, so "Who wrote it?" has a subject;
    `picture`: a picture is attached, so "it", "this" and "my photo" mean it;
    `earlier`: the conversation's previous reading, which a short follow-up continues;
    `picture_size`: the attached picture's (width, height), measured: the calculators use it when
    a question about the picture gives no size.
    """
    text = clean_line(question or "")
    if not text:
        raise AgentError(
            'the question is empty: type a question, e.g. explainer ask "What does the recommended model do?"'
        )
    kb = kb if kb is not None else load_default_kb()
    echo = redact_urls(text, kb)
    understanding = understand(
        text,
        kb,
        context=context,
        picture=picture or picture_size is not None,
        earlier=earlier,
        picture_size=picture_size,
    )
    parts = answer_parts(understanding, kb)
    not_covered = list(dict.fromkeys(line for p in parts for line in p.not_covered))
    own_question = is_prompt_question(text, kb)  # the imported prompt's own question: its full answer
    if own_question:
        understanding = task_of_the_prompt(understanding, kb)
    broad = understanding.broad or own_question
    if not own_question and (not understanding.in_scope or not any(p.answered for p in parts) and not broad):
        answer = abstain(echo, understanding, kb)
        answer.not_covered = not_covered or answer.not_covered
    elif long or broad:
        answer = compose_long(echo, understanding, kb)
        answer.long_form = True
        _put_direct_first(answer, parts, kb, founding=own_question)
        answer.not_covered = not_covered
    else:
        answer = _narrow(echo, understanding, parts, kb)
        answer.not_covered = not_covered
    if unverified_urls(text, kb):  # a link the person gives is no source: say so, never follow it
        answer.not_covered.insert(0, language().frame("unverified-link"))
    answer.loaded_sources = kb.names()
    if answer.recommended is None and not answer.abstained:
        cited = (s for c in answer.direct_answer + answer.claims for s in c.sources if s in kb.sources)
        answer.recommended = next(cited, None)
    answer.about_picture = _about_picture(understanding, kb) if picture else None
    answer.trace = understanding.trace()
    answer.understood = understanding
    answer.caveats = _reading_notes(understanding) + answer.caveats
    answer.demo_hint = (
        "run-it" in understanding.requests and bool(answer.recommended) and kb.runnable(answer.recommended)
    )
    list_shown_urls(answer, kb)
    drop_ungrounded(answer, kb)
    if demo is not None:
        attach_demo(answer, demo)
    return answer


def _about_picture(understanding, kb) -> bool | None:
    """The question concerns the attached picture: it points at it ("it", "my photo"); it does
    not when it is only about sources this program cannot run; else undecided (the demo runs)."""
    if understanding.about_picture:
        return True
    named = [s for p in understanding.parts for s in p.subjects if s.how == "named" and s.kind == "source"]
    if named and not any(kb.runnable(s.id) for s in named):
        return False
    return None


def demo_refusal(answer, kb) -> str | None:
    """Why the live demo does not run for this answer, or None when it does: the demo runs only a
    network the cards mark runnable (MSSNet today), and only when the answer recommends it."""
    runnable = [sid for sid in kb.sources if kb.runnable(sid)]
    if not runnable:
        return (
            "no live demo: none of the loaded sources has a network this program can run "
            f"({', '.join(kb.names())})"
        )
    if answer.recommended and not kb.runnable(answer.recommended):
        name = kb.sources[answer.recommended].name if answer.recommended in kb.sources else answer.recommended
        return (
            f"no live demo: the answer recommends {name}, which this program cannot run "
            f"(it runs {', '.join(kb.sources[s].name for s in runnable)} only)"
        )
    return None


def _narrow(echo: str, understanding: Understanding, parts, kb) -> Answer:
    """Answer first, then only what supports it: the parts' direct answers, their supporting facts,
    the caveats in play and the sources cited."""
    direct = [c for p in parts for c in p.direct]
    claims = []
    for fact in (f for p in parts for f in p.support):
        claims.append(Claim(text=_whose(fact, kb), sources=[fact.source], facts=[fact.id]))
    caveats = [f.text for p in parts for f in p.caveats]
    task = kb.tasks.get(understanding.task) if understanding.task else None
    cited = [s for c in direct + claims for s in c.sources]
    return Answer(
        question=echo,
        abstained=False,
        direct_answer=direct,
        task=TaskRef(id=task.id, label=task.label) if task else None,
        claims=claims,
        caveats=list(dict.fromkeys(caveats))[:MAX_CAVEATS],
        sources=source_refs(kb, cited),
    )


def _whose(fact, kb) -> str:
    return whose(fact, kb, language())


def _put_direct_first(answer: Answer, parts, kb, founding: bool = False) -> None:
    """The full form opens with the direct answer too: the parts' answers, or (for the founding
    kind, and the prompt's own question) the task line and the claims that correct the question's
    premise."""
    lead = [c for c in answer.claims if c.section == "task"][:2]
    lead += [c for c in answer.claims if c.section == "correction"][:1]
    task_lines = [c.model_copy(update={"section": "direct"}) for c in lead]
    if founding or not any(p.direct for p in parts):
        direct = task_lines
    else:  # each part's own answer; the task lines once, in the place of the parts that ask for them
        direct = []
        for p in parts:
            if _unnamed_how(p.part) or not p.direct:
                # what the cards say they do not know about the source asked opens ("no summary")
                direct += [
                    c
                    for c in p.direct
                    if any(getattr(kb._by_id.get(f), "kind", "") == "not-known" for f in c.facts)
                ]
                direct += [c for c in task_lines if c not in direct]
            else:
                direct += p.direct
    answer.direct_answer = direct
    sources = {r.id for r in answer.sources}
    for c in direct:
        for sid in c.sources:
            if sid not in sources:
                answer.sources += source_refs(kb, [sid])
                sources.add(sid)


def _reading_notes(understanding) -> list[str]:
    """How the question was read, when that is not plain: another language, a long question cut."""
    lang = language()
    notes = []
    if understanding.language != "en":
        name = lang.languages.names.get(understanding.language, understanding.language)
        notes.append(lang.frame("other-language", language=name))
    if understanding.shortened:
        notes.append(lang.frame("long-question", count=len(understanding.parts)))
    return notes


def _unnamed_how(part) -> bool:
    """The founding kind, or a "how does it work" part that names no source: the task lines lead."""
    unnamed = all(s.how not in ("named", "inherited", "context") or s.kind == "task" for s in part.subjects)
    return part.kind == "overview" or part.kind == "mechanism" and unnamed


def attach_demo(answer: Answer, demo) -> Answer:
    """Put a demo's artefacts beside the claims they illustrate (measurements stay in the demo section)."""
    answer.demo = demo
    answer.illustrations = illustrations(answer)
    return answer
