"""Pydantic schema of the language data in knowledge/lang/<code>/*.yml.

Everything the program knows about how people phrase questions lives in those files, not in
Python: question kinds and the attributes people ask about (each with cue patterns and example
questions that run as tests), referent words, quantities, the marks that split a question into
parts, well-known outside products, and every sentence frame the answers are built from.

Cue patterns are token sequences matched on stemmed, lower-cased words (see knowledge.lang.match):
  "how long"            the two words in a row
  "^ can|could|may"     the part starts with one of the alternatives (after filler words)
  "how * work"          `*` stands for zero to three words
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ID = r"^[a-z0-9][a-z0-9-]*$"
ANSWER_KINDS = (
    "yes-no",
    "number",
    "list",
    "mechanism",
    "choice",
    "comparison",
    "how-to",
    "definition",
    "overview",
)
AnswerKind = Literal[
    "yes-no", "number", "list", "mechanism", "choice", "comparison", "how-to", "definition", "overview"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_patterns(values: list[str]) -> list[str]:
    for value in values:
        parts = value.split()
        if not parts or parts == ["^"]:
            raise ValueError(f"empty cue pattern {value!r}")
        if "^" in parts[1:]:
            raise ValueError(f"'^' may only open a pattern: {value!r}")
        if parts[-1] == "*":
            raise ValueError(f"a pattern cannot end with '*': {value!r}")
    return values


class Kind(_Strict):
    """An answer type: what shape the direct answer takes (yes/no, a number, a mechanism, ...)."""

    id: AnswerKind
    description: str
    # Higher wins when cues of several kinds match one part ("how many" beats "how").
    priority: int = 0
    cues: list[str] = Field(default_factory=list)
    examples: list[str] = Field(min_length=3)
    # The attribute asked when no cue names one ("how do A and B differ": what each is for).
    default_attribute: str | None = None

    _cues = field_validator("cues")(classmethod(lambda cls, v: _check_patterns(v)))


class Attribute(_Strict):
    """Something people ask about a subject (its runtime, licence, input sizes, ...)."""

    id: str = Field(pattern=ID)
    label: str  # a noun phrase for frames: "how long it takes to run"
    description: str = ""
    cues: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    # Kinds this attribute's questions usually take, when the wording leaves it open.
    kind: AnswerKind | None = None
    # Phrasings that ask the label's opposite ("the same size" for "whether it changes the image
    # size"): cues of this attribute whose yes and no are swapped; their examples run as tests.
    opposite: list[str] = Field(default_factory=list)
    opposite_examples: list[str] = Field(default_factory=list)
    # Quantities that ask for it when no cue names an attribute ("can MSSNet do 4x?": a factor
    # asks about the output size).
    implied_by: list[Literal["sizes", "factors", "percents", "megapixels"]] = Field(default_factory=list)

    _cues = field_validator("cues", "opposite")(classmethod(lambda cls, v: _check_patterns(v)))


class KindsFile(_Strict):
    kinds: list[Kind]


class AttributesFile(_Strict):
    attributes: list[Attribute]


class Referents(_Strict):
    """Words that point at something other than a named source."""

    # "it", "this", "my photo": the attached picture when there is one.
    picture: list[str]
    # "you", "this tool", "the explainer": this program itself.
    tool: list[str]
    # "it", "its", "the model": the source the context or the asked attribute points at.
    pronouns: list[str]
    # What stands in for a source's name when a question is matched to attributes by meaning ("Is
    # the PReLU in it per-channel?"): the asked point, not whose it is.
    name_placeholder: str = "it"
    name_possessive: str = "its"
    # What a question about the attached picture asks when no cue names an attribute.
    picture_attribute: str | None = None
    # A question asking about these attributes, premises or tasks makes the live demo also run the
    # streamlining sweep (EASIER's score on the picture).
    streamline_attributes: list[str] = Field(default_factory=list)
    streamline_tasks: list[str] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)


class Example(_Strict):
    """A labelled question: what understanding must find in it (runs as a test)."""

    text: str
    kind: AnswerKind | None = None
    attribute: str | None = None
    subject: str | None = None  # a source id, "tool", "picture", "outside:<Name>", "ambiguous"
    parts: int | None = None
    picture: bool = False  # a picture is attached


class Quantities(_Strict):
    """How people write sizes, factors, percentages and counts (regular expressions, data only)."""

    size: str  # groups w, h: "1920x1080", "1920 by 1080"
    factor: str  # group n: "x2", "2x", "4×"
    percent: str  # group p: "90%", "90 percent"
    megapixels: str  # group mp: "12 MP", "12 megapixels"
    # Words for factors ("twice" -> 2, "double" -> 2).
    factor_words: dict[str, int]
    # Sizes people write by name ("1080p", "4K"): width and height.
    named_sizes: dict[str, tuple[int, int]] = Field(default_factory=dict)
    # Units a number carries ("24MP", "512px", "1/30s"): such a word is a quantity, not a name.
    units: list[str] = Field(default_factory=list)
    # Relative words that pick a row of a table by its ranking column ("the bigger one").
    largest: list[str]
    smallest: list[str]
    examples: list[QuantityExample] = Field(default_factory=list)

    @field_validator("size", "factor", "percent", "megapixels")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


class QuantityExample(_Strict):
    text: str
    sizes: list[tuple[int, int]] = Field(default_factory=list)
    factors: list[int] = Field(default_factory=list)
    percents: list[float] = Field(default_factory=list)


class Parts(_Strict):
    """Where one question becomes several asked points."""

    # Text that ends one part and starts the next (besides sentence ends).
    separators: list[str]
    # A part that opens with these continues the previous one's subject ("and the base model?").
    continuations: list[str] = Field(default_factory=list)
    # Words that start no question and can be dropped before classifying ("so", "ok", "hey").
    fillers: list[str] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)


class Outside(_Strict):
    """Well-known restoration and image tools that are not among the sources (for recall)."""

    products: list[str]
    # Capitalised words that name no product (brands of cameras, platforms): never outside models.
    not_models: list[str] = Field(default_factory=list)


class Misconception(_Strict):
    id: str = Field(pattern=ID)
    cues: list[str]
    # The card tag of the facts that correct it.
    corrected_by: str
    examples: list[str] = Field(min_length=2)
    # Questions that must not be read as assuming it.
    counter_examples: list[str] = Field(default_factory=list)

    _cues = field_validator("cues")(classmethod(lambda cls, v: _check_patterns(v)))


class MisconceptionsFile(_Strict):
    misconceptions: list[Misconception]


class Request(_Strict):
    """A section of the full answer the person asks for by name: the papers, the workflow, how it
    works, running it on their picture."""

    id: Literal["papers", "workflow", "how-it-works", "run-it"]
    cues: list[str]
    examples: list[str] = Field(min_length=2)
    counter_examples: list[str] = Field(default_factory=list)

    _cues = field_validator("cues")(classmethod(lambda cls, v: _check_patterns(v)))


class Languages(_Strict):
    """Other languages a question may come in: answered in English with a one-line note."""

    # wordfreq language codes to compare against English.
    compare: list[str]
    # Share of a question's words that must be more frequent in another language.
    min_share: float = Field(ge=0.0, le=1.0)
    names: dict[str, str]  # code -> name in English, for the note
    # Languages told by their script (a regular-expression character class), not by word frequencies.
    scripts: dict[str, str] = Field(default_factory=dict)
    # Below this share of English function words, a question is checked against the other languages.
    english_floor: float = Field(default=0.1, ge=0.0, le=1.0)
    examples: list[LanguageExample] = Field(default_factory=list)

    @field_validator("scripts")
    @classmethod
    def _scripts_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern in value.values():
            re.compile(pattern)
        return value


class LanguageExample(_Strict):
    text: str
    language: str  # "en" or a code from `compare`


class Frames(_Strict):
    """Every sentence the answers emit, with {placeholders}."""

    frames: dict[str, str]

    @field_validator("frames")
    @classmethod
    def _ids(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.match(ID, key):
                raise ValueError(f"bad frame id {key!r}")
        return value


Referents.model_rebuild()
Quantities.model_rebuild()
Parts.model_rebuild()
Languages.model_rebuild()


class PhrasingFile(_Strict):
    """phrasing.yml: referents, quantities, parts, outside names and the sentence frames."""

    referents: Referents
    quantities: Quantities
    parts: Parts
    outside: Outside
    languages: Languages
    requests: list[Request]
    frames: dict[str, str]

    @field_validator("frames")
    @classmethod
    def _frame_ids(cls, value: dict[str, str]) -> dict[str, str]:
        return Frames(frames=value).frames


class GlossaryExample(_Strict):
    text: str  # a question in the glossary's language
    # words its English reading must contain (a cue of kinds.yml/attributes.yml, a topic word)
    reads: list[str] = Field(min_length=1)


class GlossaryFile(_Strict):
    """knowledge/lang/<code>/glossary.yml: the words and phrases of another language that questions
    about restoring pictures use, with their English, so a question in it is understood with the
    English data (answers stay in English, with a note)."""

    language: str = Field(pattern=r"^[a-z]{2}$")
    # Written without spaces between words (Chinese, Japanese): phrases match inside the text.
    unspaced: bool = False
    words: dict[str, str]  # phrase (lower case) -> English
    examples: list[GlossaryExample] = Field(min_length=3)

    @field_validator("words")
    @classmethod
    def _lower(cls, value: dict[str, str]) -> dict[str, str]:
        for phrase, english in value.items():
            if phrase != phrase.lower() or not phrase.strip() or not english.strip():
                raise ValueError(f"glossary entry {phrase!r}: lower-case phrase and a non-empty English")
        return value


# -- imports.yml: how a seed prompt's summaries say what a source does (knowledge/imports/) -----


class PhraseExample(_Strict):
    text: str
    phrases: list[str]  # the task phrases found, in order


class TaskPhrases(_Strict):
    """Noun phrases that name a task: up to two modifiers before a head noun."""

    head_pattern: str
    standalone: list[str]  # heads that name a task alone ("segmentation")
    not_heads: list[str]
    not_modifiers: list[str]
    verbs: dict[str, tuple[str, str]]  # head -> (verb, past participle)
    transforms: list[str]  # heads whose result is the same material, changed
    # words after which a title names the task its method serves ("Curve Estimation for Low-Light
    # Image Enhancement")
    serves: list[str] = Field(default_factory=list)
    # words after which a phrase names the means, not the task ("by context aggregation")
    means: list[str] = Field(default_factory=list)
    # nouns after which a gerund still names a task ("the scene parsing task")
    naming_nouns: list[str] = Field(default_factory=list)
    # endings of a modifier that says what kind of task it is, not what it works on ("semantic")
    adjective_endings: list[str] = Field(default_factory=list)
    examples: list[PhraseExample] = Field(min_length=1)

    @field_validator("head_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


class FlowExample(_Strict):
    text: str
    task: str | None = None  # the task's phrase, for cues that count only after it
    input: str | None = None
    output: str | None = None


class Flows(_Strict):
    """What goes in and what comes out: the words after a cue, up to a stop word."""

    input: list[str]
    output: list[str]
    input_after_task: list[str] = Field(default_factory=list)
    output_after_task: list[str] = Field(default_factory=list)
    stops: list[str]
    skip: list[str] = Field(default_factory=list)
    # words after which a cue word is a noun ("the output frame"), not the verb it means
    determiners: list[str] = Field(default_factory=list)
    # a word that opens a pair and the word that joins it ("both" ... "and"): the pair is one phrase
    pairs: dict[str, str] = Field(default_factory=dict)
    examples: list[FlowExample] = Field(min_length=1)

    _cues = field_validator("input", "input_after_task", "output", "output_after_task")(
        classmethod(lambda cls, v: _check_patterns(v))
    )


class GlossExample(_Strict):
    text: str
    task: str | None = None  # the task's phrase, for cues that count only beside it
    gloss: str | None = None


class Purpose(_Strict):
    """What a source is for in a summary's own gerund phrase (the gloss beside a task's name)."""

    cues: list[str]
    cues_with_task: list[str] = Field(default_factory=list)  # only in a sentence naming the task
    examples: list[GlossExample] = Field(min_length=1)

    _cues = field_validator("cues", "cues_with_task")(classmethod(lambda cls, v: _check_patterns(v)))


class AskExample(_Strict):
    text: str
    ask: str | None = None


class Asks(_Strict):
    """How the person's question asks for the job: an opener, its subject, then the job's words."""

    openers: list[str]
    subjects: list[str]
    stops: list[str]
    examples: list[AskExample] = Field(min_length=1)

    _cues = field_validator("openers")(classmethod(lambda cls, v: _check_patterns(v)))


class NameExample(_Strict):
    text: str
    name: str | None = None


class Names(_Strict):
    """How a summary gives its model a name ("our proposed model, DeepLabv3+, extends ...")."""

    cues: list[str]
    examples: list[NameExample] = Field(min_length=1)

    _cues = field_validator("cues")(classmethod(lambda cls, v: _check_patterns(v)))


class ClauseExample(_Strict):
    text: str
    clauses: list[str]


class Clauses(_Strict):
    """Words that join two statements in one sentence, and the words that open a clause's subject."""

    joins: list[str]
    subjects: list[str]
    min_words: int = 5
    examples: list[ClauseExample] = Field(min_length=1)


class StatementCue(_Strict):
    """Wording by which a summary sentence states an attribute (ids of attributes.yml)."""

    attribute: str = Field(pattern=ID)
    cues: list[str]
    examples: list[str] = Field(min_length=1)

    _cues = field_validator("cues")(classmethod(lambda cls, v: _check_patterns(v)))


class ImportQuestions(_Strict):
    """Frames for the example questions a fact answers, filled with the fact's own words."""

    attribute: dict[str, list[str]]  # attribute id -> frames with {phrase}
    phrase: list[str]  # frames with {phrase}, one of the fact's noun phrases
    count: list[str]  # frames with {counted}, what a number in the fact counts
    ratios: list[str] = Field(default_factory=list)  # words after a number that make it a ratio
    breaks: list[str] = Field(default_factory=list)  # words that end a noun phrase
    examples: list[PhraseExample] = Field(default_factory=list)


class ImportsFile(_Strict):
    """imports.yml: task phrases, flows, purpose, statement cues, question frames, card frames."""

    task_phrases: TaskPhrases
    flows: Flows
    purpose: Purpose
    asks: Asks
    names: Names | None = None
    clauses: Clauses | None = None
    # wording by which a sentence says what the source is ("The paper proposes X, a ..."), best first
    method: list[str]
    # wording by which a sentence tells the field's background, not what the source does
    background: list[str] = Field(default_factory=list)
    background_attribute: str | None = None  # the attribute such a sentence states
    statements: list[StatementCue]
    questions: ImportQuestions
    frames: dict[str, str]

    _method = field_validator("method", "background")(classmethod(lambda cls, v: _check_patterns(v)))

    @field_validator("frames")
    @classmethod
    def _frame_ids(cls, value: dict[str, str]) -> dict[str, str]:
        return Frames(frames=value).frames
