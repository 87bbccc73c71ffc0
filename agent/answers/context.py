"""What a kind handler works with: the part, the cards, the language, and the facts already used."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.answer import Claim
from knowledge.lang.language import Language
from knowledge.settings import UNDERSTANDING
from knowledge.store import KnowledgeBase
from knowledge.understand import Part, RankedFact

MAX_SUPPORT = 2  # facts under a part's direct answer
SUPPORT_RATIO = 0.6  # ... each at least this share of the lead's score


@dataclass
class PartAnswer:
    part: Part
    direct: list[Claim] = field(default_factory=list)
    support: list = field(default_factory=list)  # card facts backing the direct answer
    caveats: list = field(default_factory=list)  # not-known / does-not facts in play
    not_covered: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the cited sources this part is answered from

    @property
    def answered(self) -> bool:
        return bool(self.direct)


@dataclass
class PartContext:
    part: Part
    kb: KnowledgeBase
    lang: Language
    used: set[str]
    out: PartAnswer

    # -- who answers ---------------------------------------------------------------------------
    def owners(self) -> list[str]:
        """The sources (and this tool) whose facts may answer: the part's subjects; for the
        attached picture, this tool and the sources it runs."""
        owners = list(self.part.source_ids)
        tool = self.kb.tool.id if self.kb.tool is not None else None
        if self.part.about_picture and tool is not None:
            runnable = [s for s in self.kb.sources if self.kb.runnable(s)]
            owners += [o for o in [tool, *runnable] if o not in owners]
        attribute = self.part.attribute
        if attribute and tool is not None and tool not in owners and owners:
            # none of the subjects states the asked point and this tool does, where it runs one of
            # them ("would EASIER speed up MSSNet?": `explainer streamline` measures it)
            stated = any(f.attribute == attribute for o in owners for f in self.kb.facts_for(o))
            runs = any(self.kb.runnable(o) for o in owners if o in self.kb.sources)
            says = any(r.fact.source == tool and r.fact.attribute == attribute for r in self.part.facts)
            if not stated and runs and says:
                owners.append(tool)
        return owners

    def candidates(self, owners: list[str] | None = None) -> list[RankedFact]:
        owners = self.owners() if owners is None else owners
        # workflow steps and "relevance to the prompt" lines do not lead (unless relevance is asked)
        return [
            r
            for r in self.part.facts_of(owners)
            if r.fact.id not in self.used
            and not r.fact.workflow
            and ("relevance" not in r.fact.tags or self.part.attribute == "relevance")
        ]

    def said_before(self) -> bool:
        """An earlier part of the question already cited a fact stating this part's point for its
        subjects ("will it take 1000×750? if not, what size?": the padding computed for the first
        answers the second), so the point is answered, not missing."""
        owners = set(self.owners())
        facts = (self.kb._by_id.get(i) for i in self.used)
        return any(f is not None and f.attribute == self.part.attribute and f.source in owners for f in facts)

    def stating(self, candidates: list[RankedFact]) -> list[RankedFact]:
        """Candidates that state the asked attribute (all of them when none is asked); when none
        does, those of the first other reading of the question that some candidate states."""
        if not self.part.attribute:
            return candidates
        if not any(f.attribute for o in self.owners() for f in self.kb.facts_for(o)):
            return candidates  # cards without attributes (imported ones): ranked by meaning alone
        for attribute in (self.part.attribute, *self.part.alternatives):
            found = [r for r in candidates if r.fact.attribute == attribute]
            if found:
                return found
        return []

    def covered(self, ranked: RankedFact) -> bool:
        """The sources cover the part: its owners' best fact, workflow steps included (they cover a
        question though they do not lead an answer), scores at least the settings' floor."""
        best = next(iter(self.part.facts_of(self.owners())), None)
        top = max(ranked.score, best.score if best is not None else 0.0)
        return top >= UNDERSTANDING.covered_min_score

    # -- what is said --------------------------------------------------------------------------
    def name(self, source_id: str) -> str:
        if self.kb.tool is not None and source_id == self.kb.tool.id:
            return self.lang.frame("tool-subject")
        return self.kb.described(source_id).name

    def whose(self, fact) -> str:
        return whose(fact, self.kb, self.lang)

    def claim(self, fact, text: str | None = None) -> Claim:
        self.used.add(fact.id)
        self.out.sources = list(dict.fromkeys([*self.out.sources, fact.source]))
        return Claim(text=text or self.whose(fact), sources=[fact.source], facts=[fact.id], section="direct")

    def lead(self, ranked: RankedFact, yes_no: bool = False, settles: bool = False) -> None:
        """`settles`: the fact was chosen because it settles the yes/no (its own attribute)."""
        fact = ranked.fact
        text = self.whose(fact)
        asked = settles or fact.attribute == self.part.attribute
        if yes_no and fact.polarity and asked and fact.kind != "not-known":
            # "the same size?" asks the label ("whether it changes the size") the other way round
            flipped = self.part.opposite and fact.attribute == self.part.attribute
            says_yes = (fact.polarity == "yes") != flipped
            text = self.lang.frame("answer-yes" if says_yes else "answer-no", text=_mid_sentence(text))
        self.out.direct.append(self.claim(fact, text))
        self.support_after(ranked)

    def support_after(self, lead: RankedFact) -> None:
        for r in self.candidates():
            if len(self.out.support) >= MAX_SUPPORT or r.score < SUPPORT_RATIO * lead.score:
                break
            if r.fact.id in self.used or "relevance" in r.fact.tags:
                continue
            if r.fact.kind == "not-known":
                continue
            if self.part.attribute and r.fact.attribute != lead.fact.attribute:
                continue  # support says more about what was asked, not about something else
            self.out.support.append(r.fact)
            self.used.add(r.fact.id)

    def not_said(self, subject_id: str | None, attribute: str | None = None, nearest: bool = True) -> None:
        """'The sources don't say <the attribute> of <subject>', then the nearest fact (`attribute`:
        another than the part's, such as the one a comparison settled on)."""
        attribute = attribute or self.part.attribute
        label = self.lang.attributes[attribute].label if attribute in self.lang.attributes else "this"
        subject = self.name(subject_id) if subject_id else "the sources"
        # the label speaks of "it": put the subject in its place ("how EASIER was evaluated")
        words = [f"{subject}'s" if w == "its" else subject if w == "it" else w for w in label.split()]
        line = self.lang.frame("sources-dont-say", label=" ".join(words))
        sources = [subject_id] if subject_id in self.kb.sources else []
        self.out.direct.append(Claim(text=line, sources=sources, section="direct"))
        closest = next(iter(self.candidates()), None) if nearest else None
        if closest is not None and self.covered(closest):
            self.out.support.append(closest.fact)
            self.used.add(closest.fact.id)


def whose(fact, kb: KnowledgeBase, lang: Language) -> str:
    """The fact's text, saying whose it is when the text does not name its owner (this tool's
    facts name it); a text that opens with a label ("Cost: ...") takes a dash, not a second colon."""
    name = kb.described(fact.source).name
    if name.lower() in fact.text.lower() or fact.source not in kb.sources:
        return fact.text
    labelled = re.match(r"[A-Z][a-z]+(?: [a-z]+)?: ", fact.text)
    return lang.frame("whose-labelled" if labelled else "compare-side", name=name, text=fact.text)


def computed_claim(computed) -> Claim:
    """A skill's result: it cites the fact or table it computes from and declares its numbers."""
    return Claim(
        text=computed.text,
        sources=[computed.source] if computed.source != "explainer" else [computed.source],
        facts=[computed.cites],
        section="direct",
        computed=list(computed.numbers),
    )


def _mid_sentence(text: str) -> str:
    """A sentence continued after "Yes — ": its first word in lower case unless it is a name
    ("This explainer" -> "this explainer"; "MSSNet", "DataCrafter" stay)."""
    first = text.split(" ", 1)[0]
    if first.isalpha() and first[:1].isupper() and first[1:].islower():
        return text[:1].lower() + text[1:]
    return text
