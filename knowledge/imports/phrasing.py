"""The import's language data (knowledge/lang/<code>/imports.yml) loaded once, and the readers that
use it: task phrases, what goes in and comes out, a purpose gloss, the attribute a sentence states
and the noun phrases and counts its example questions are made of. No phrasing lives here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from pydantic import ValidationError

from knowledge.errors import KnowledgeError
from knowledge.lang.language import LANG_DIR
from knowledge.lang.match import Cue, stems
from knowledge.lang.schema import ImportsFile
from knowledge.lang.yamlfile import YAMLError, read_yaml
from knowledge.text import STOPWORDS, is_number, phrase_in

# A word (hyphens, dots and commas inside: "log-Mel", "4.8/8.2", "680,000") or a mark that ends a phrase.
_TOKEN = re.compile(r"https?://\S+|[A-Za-z0-9](?:[\w'’./,+-]*[\w%+])?|[,;:()\[\]!?]|\.(?=\s|$)")
_MARK = frozenset(",;:()[]!?.")
MAX_FLOW_WORDS = 9
_MEASURE = re.compile(r"\d[\d.,/]*")  # a bare number ("13.4"), not a compound ("30-second")
NUMBER_REACH = 3  # words between a number and the cue of what it measures


@dataclass(frozen=True)
class Tok:
    text: str  # as written
    stems: tuple[str, ...]  # its stemmed words ("log-Mel" -> log, mel); a mark has its own text


def tokenise(sentence: str) -> list[Tok]:
    out = []
    for m in _TOKEN.finditer(sentence):
        text = m.group(0)
        if text.startswith("http"):
            out.append(Tok(text, ("<url>",)))
        elif text in _MARK:
            out.append(Tok(text, (text,)))
        else:
            out.append(Tok(text.rstrip(".,"), tuple(stems(text)) or (text.lower(),)))
    return out


def _flat(toks: list[Tok]) -> tuple[list[str], list[int]]:
    """The stems in a row and, for each, the index of its token."""
    flat, owner = [], []
    for i, tok in enumerate(toks):
        for s in tok.stems:
            flat.append(s)
            owner.append(i)
    return flat, owner


def _cue_ends(cues: list[Cue], toks: list[Tok]) -> Iterator[int]:
    """For each cue in turn, every place it matches: the index of the token after the match."""
    flat, owner = _flat(toks)
    for cue in cues:
        for k in range(len(flat)):
            end = cue._match_at(flat, k, 0)
            if end is not None and end > k:
                yield owner[end - 1] + 1


@dataclass
class ImportsLanguage:
    data: ImportsFile

    def __post_init__(self) -> None:
        tp = self.data.task_phrases
        self.head = re.compile(tp.head_pattern)
        self.not_heads = frozenset(tp.not_heads)
        self.not_modifiers = frozenset(tp.not_modifiers)
        self.standalone = frozenset(tp.standalone)
        self.means = frozenset(tp.means)
        self.naming_nouns = frozenset(tp.naming_nouns)
        fl = self.data.flows
        self.cues = {
            "input": [Cue.compile(c) for c in fl.input],
            "input_after_task": [Cue.compile(c) for c in fl.input_after_task],
            "output": [Cue.compile(c) for c in fl.output],
            "output_after_task": [Cue.compile(c) for c in fl.output_after_task],
            "ask": [Cue.compile(c) for c in self.data.asks.openers],
            "purpose": [Cue.compile(c) for c in self.data.purpose.cues],
            "purpose_with_task": [Cue.compile(c) for c in self.data.purpose.cues_with_task],
            "name": [Cue.compile(c) for c in (self.data.names.cues if self.data.names else [])],
        }
        self.stops = frozenset(fl.stops)
        self.determiners = frozenset(fl.determiners)
        self.pairs = dict(fl.pairs)
        self.skip = frozenset(fl.skip)
        self.statements = [(s.attribute, [Cue.compile(c) for c in s.cues]) for s in self.data.statements]
        self.breaks = frozenset(self.data.questions.breaks)

    def frame(self, frame_id: str, **values: object) -> str:
        try:
            return self.data.frames[frame_id].format(**values)
        except KeyError as exc:
            raise KnowledgeError(f"imports.yml: frame {frame_id!r} is missing or lacks {exc}") from exc

    # -- task phrases ------------------------------------------------------------------------
    def is_head(self, word: str, following: str | None) -> bool:
        lower = word.lower()
        if lower in self.not_heads or len(lower) < 6 or not self.head.match(lower):
            return False
        if lower.endswith("ing") and lower not in self.standalone and following is not None:
            # a gerund with its object after it is a verb ("utilizing deep filtering"), not a task;
            # before a naming noun it is a task's name ("the scene parsing task")
            return following in _MARK or following.lower() in STOPWORDS | self.naming_nouns
        return True

    def task_phrases(self, text: str) -> list[str]:
        """Phrases naming a task, longest first for each head ("time speech enhancement", then
        "speech enhancement"); a head alone only when it names a task by itself."""
        toks = [t.text for t in tokenise(text)]
        out: list[str] = []
        for i, word in enumerate(toks):
            if not self.is_head(word, toks[i + 1] if i + 1 < len(toks) else None):
                continue
            before: list[str] = []
            for prev in reversed(toks[max(0, i - 2) : i]):
                p = prev.lower()
                if (
                    p in _MARK
                    or p in STOPWORDS
                    or p in self.not_modifiers
                    or p.endswith("ly")
                    or is_number(p)
                ):
                    break
                if p in self.not_heads or not re.fullmatch(r"[a-z][a-z-]*", p):
                    break
                before.insert(0, p)
            opener = i - len(before) - 1
            if opener >= 0 and toks[opener].lower() in self.means:
                continue  # "by context aggregation": how the source works, not its task
            lower = word.lower()
            variants = [" ".join([*before[k:], lower]) for k in range(len(before))]
            if lower in self.standalone:
                variants.append(lower)
            out += [v for v in variants if v not in out]
        return out

    def is_adjective(self, word: str) -> bool:
        """A modifier that says what kind of task, not what it works on ("semantic", "medical")."""
        return word.lower().endswith(tuple(self.data.task_phrases.adjective_endings))

    def verb_of(self, phrase: str) -> tuple[str, str] | None:
        return self.data.task_phrases.verbs.get(phrase.split()[-1])

    # -- what goes in, what comes out ----------------------------------------------------------
    def _after(self, cue: Cue, toks: list[Tok], start_tok: int = 0) -> str | None:
        flat, owner = _flat(toks)
        first = next((k for k, o in enumerate(owner) if o >= start_tok), len(flat))
        for k in range(first, len(flat)):
            end = cue._match_at(flat, k, 0)
            if end is None or end == k:
                continue
            if owner[k] > 0 and toks[owner[k] - 1].text.lower() in self.determiners:
                continue  # "the output frame": a noun, not the verb the cue means
            # the phrase starts at the first token wholly after the cue
            j = owner[end - 1] + 1
            words: list[str] = []
            pair = False  # "both left and right context": the pair is one phrase
            while j < len(toks) and len(words) < MAX_FLOW_WORDS:
                text = toks[j].text
                if pair and words and text.lower() in self.pairs.values():
                    pair = False
                elif (
                    text in _MARK
                    or text.lower() in self.stops
                    or text.startswith("http")
                    or _MEASURE.fullmatch(text)
                ):
                    break  # (a number starts a measure: "generates samples 13.4 times faster")
                elif not words and text.lower() in self.skip:
                    pair = pair or text.lower() in self.pairs
                    j += 1
                    continue
                words.append(text)
                j += 1
            while words and words[-1].lower() in STOPWORDS:
                words.pop()
            if words and any(w.lower() not in STOPWORDS for w in words):
                return " ".join(words)
        return None

    def flow(self, sentence: str, which: str, task_phrase: str | None = None) -> str | None:
        """What the sentence says goes in (`which` "input") or comes out ("output")."""
        toks = tokenise(sentence)
        for cue in self.cues[which]:
            found = self._after(cue, toks)
            if found:
                return found
        if task_phrase and phrase_in(task_phrase, sentence):
            head = task_phrase.split()[-1]
            at = next((i for i, t in enumerate(toks) if phrase_in(head, t.text)), 0)
            for cue in self.cues[f"{which}_after_task"]:
                found = self._after(cue, toks, at)
                if found:
                    return found
        return None

    def gloss(self, sentence: str, task_phrase: str | None = None) -> str | None:
        """A gerund phrase saying what the source is for ("removing background noise"); the weaker
        cues only in a sentence that names the task."""
        toks = tokenise(sentence)
        cues = self.cues["purpose"]
        if task_phrase and phrase_in(task_phrase, sentence):
            cues = [*cues, *self.cues["purpose_with_task"]]
        for j in _cue_ends(cues, toks):
            if (
                j >= len(toks)
                or not toks[j].text.lower().endswith("ing")
                or toks[j].text.lower() in STOPWORDS
            ):
                continue
            verb = toks[j].text.lower()
            rest = self._after(Cue.compile(verb), toks, j)
            if rest:
                return f"{verb} {rest}"
        return None

    def ask(self, question: str) -> str | None:
        """The words by which the person's question asks for the job ("clean it up")."""
        asks = self.data.asks
        subjects, stops = set(asks.subjects), set(asks.stops)
        toks = tokenise(question)
        for j in _cue_ends(self.cues["ask"], toks):
            while j < len(toks) and toks[j].text.lower() in subjects:
                j += 1
            words = []
            while j < len(toks) and toks[j].text not in _MARK and toks[j].text.lower() not in stops:
                words.append(toks[j].text)
                j += 1
            if any(w.lower() not in STOPWORDS for w in words):
                return " ".join(words)
        return None

    def given_name(self, summary: str) -> str | None:
        """The name a summary gives the model it proposes ("our proposed model, DeepLabv3+, ...")."""
        toks = tokenise(summary)
        for j in _cue_ends(self.cues["name"], toks):
            while j < len(toks) and toks[j].text in _MARK:
                j += 1
            word = toks[j].text if j < len(toks) else ""
            inner = word[1:]
            if word.lower() not in STOPWORDS and (
                any(c.isupper() for c in inner) or any(c.isdigit() for c in word)
            ):
                return word
        return None

    # -- what a sentence states ----------------------------------------------------------------
    def statement_attribute(self, sentence: str, tied_only: bool = False) -> str | None:
        """The attribute the sentence states: the first listed whose cue it carries; with numbers in
        it, the one whose cue stands nearest a number (a number stays with what it measures)."""
        flat = [s for t in tokenise(sentence) for s in t.stems]
        for attribute, cues in self.statements:
            if any(cue.anchored and cue._match_at(flat, 0, 0) for cue in cues):
                return attribute  # a sentence that opens with its point ("To train ...") states it
        numbers = [k for k, s in enumerate(flat) if s[:1].isdigit()]
        hits: list[tuple[int, str]] = []  # (distance to a number, attribute) in listed order
        for attribute, cues in self.statements:
            spans = [
                (k, end)
                for cue in cues
                if not cue.anchored
                for k in range(len(flat))
                if (end := cue._match_at(flat, k, 0))
            ]
            spans = [(k, end) for k, end in spans if end > k]
            if not spans:
                continue
            near = min((min(abs(n - k), abs(n - (end - 1))) for k, end in spans for n in numbers), default=0)
            hits.append((near, attribute))
        if not hits:
            return None
        tied = [h for h in hits if numbers and h[0] <= NUMBER_REACH]
        if tied:
            return min(tied, key=lambda h: h[0])[1]  # min keeps the first listed
        return None if tied_only else hits[0][1]

    def clauses(self, sentence: str) -> list[str]:
        """A sentence of two statements joined by imports.yml's clause words ("..., while a pitch
        filter attenuates noise ...") as two sentences, when the second has its own subject and the
        two state different attributes; else the sentence whole."""
        cl = self.data.clauses
        if cl is None:
            return [sentence]
        for join in cl.joins:
            at = sentence.find(join)
            if at <= 0:
                continue
            first, second = sentence[:at].rstrip(" ,;") + ".", sentence[at + len(join) :].strip()
            words = second.split()
            if (
                len(first.split()) < cl.min_words
                or len(words) < cl.min_words
                or words[0].lower() not in cl.subjects
            ):
                continue
            second = second[:1].upper() + second[1:]
            if self.statement_attribute(first) != self.statement_attribute(second):
                return [*self.clauses(first), *self.clauses(second)]
        return [sentence]

    def noun_phrases(self, sentence: str, skip_words: set[str]) -> list[str]:
        """Runs of content words between function words, marks, numbers and imports.yml's breaks
        ("ideal critical band gains", "pitch harmonics"); one word alone only when it is hyphenated."""
        breaks = self.breaks | skip_words
        out: list[str] = []
        run: list[str] = []
        for tok in [*tokenise(sentence), Tok(".", (".",))]:
            word = tok.text
            lower = word.lower()
            stop = word in _MARK or lower in STOPWORDS or lower in breaks or is_number(lower)
            if stop or lower.endswith("ly") or "http" in lower:
                if run and run[0].lower() in self.data.questions.ratios:
                    run = run[1:]  # "13.4 times faster": a ratio, not a thing
                if 2 <= len(run) <= 4 or (len(run) == 1 and "-" in run[0] and len(run[0]) > 6):
                    out.append(" ".join(run))
                run = []
                continue
            run.append(word)
        return list(dict.fromkeys(out))

    def counted(self, sentence: str) -> list[tuple[str, str]]:
        """(number, what it counts) pairs: "40 different noise conditions" -> ("40", "noise conditions")."""
        toks = tokenise(sentence)
        out = []
        for i, tok in enumerate(toks):
            if not tok.text[:1].isdigit():
                continue
            words: list[str] = []
            for nxt in toks[i + 1 : i + 5]:
                lower = nxt.text.lower()
                if nxt.text in _MARK or lower in self.stops or lower in STOPWORDS or nxt.text[:1].isdigit():
                    break
                if lower in self.skip:
                    continue
                words.append(nxt.text)
            if words and words[0].lower() not in self.data.questions.ratios:
                out.append((tok.text, " ".join(words)))
        return out


@lru_cache(maxsize=4)
def imports_language(code: str = "en") -> ImportsLanguage:
    path = LANG_DIR / code / "imports.yml"
    try:
        data = ImportsFile.model_validate(read_yaml(path.read_text(encoding="utf-8")))
    except (OSError, YAMLError) as exc:
        raise KnowledgeError(f"{path.name}: cannot read the import's language data ({exc})") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise KnowledgeError(f"language data {code}: imports.yml: {where}: {err['msg']}") from exc
    return ImportsLanguage(data)


def method_sentence(sentences: list[str], lang: ImportsLanguage | None = None) -> str | None:
    """The sentence that says what the source is ("The paper proposes X, a ..."), best cue first."""
    lang = lang or imports_language()
    for pattern in lang.data.method:
        cue = Cue.compile(pattern)
        for sentence in sentences:
            if cue.match(stems(sentence)):
                return sentence
    return None


def is_background(sentence: str, lang: ImportsLanguage | None = None) -> bool:
    """The sentence tells the field's background ("usually", "current techniques"), not the source."""
    lang = lang or imports_language()
    toks = stems(sentence)
    return any(Cue.compile(pattern).match(toks) for pattern in lang.data.background)
