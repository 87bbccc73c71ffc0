"""Who or what a part is about: named sources, this tool, the attached picture, the job it names,
names outside the sources, the conversation's source for "it", else the asked attribute's owner
or the evidence."""

from __future__ import annotations

import re

from knowledge.fact_index import FactIndex
from knowledge.lang.language import Language
from knowledge.lang.match import phrase_at, skip_fillers, stems
from knowledge.parts import Quantities, RankedFact, Subject, SubjectKind
from knowledge.settings import UNDERSTANDING
from knowledge.store import KnowledgeBase

COMMON_ZIPF = 3.3  # wordfreq's Zipf scale: 3 is about once per million words
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.+'’-]*[A-Za-z0-9_+]|[A-Za-z]")  # Latin names: 'MSSNetは' is MSSNet


def subjects(
    text: str,
    kb: KnowledgeBase,
    lang: Language,
    index: FactIndex,
    picture: bool,
    previous: list[Subject],
    follows: bool,
    attribute: str | None,
    quantities: Quantities,
    ranked: list[RankedFact],
    kind: str = "",
) -> list[Subject]:
    toks = stems(text)
    if kind == "choice" and kb.tool is not None:  # "which model ...": a source answers, not this tool
        ranked = [r for r in ranked if r.fact.source != kb.tool.id]
    named = [Subject("source", sid) for sid in kb.sources_named_in(text)]
    for table_id, _ in quantities.rows:  # "the bigger one" is a row of a source's table
        owner = table_id.split(".")[0]
        if owner in kb.sources and all(s.id != owner for s in named):
            named.append(Subject("source", owner, "named"))
    outside = [Subject("outside", name) for name in outside_names(text, kb, lang)]
    # the tasks the wording names; words with other common meanings ("bigger") only when none is firm
    tasks = [Subject("task", t.id) for t in _by_own_name(toks, kb) if _names_task(toks, t, firm=True)]
    tasks = tasks or [
        Subject("task", t.id, "loosely") for t in kb.tasks.values() if _names_task(toks, t, firm=False)
    ]
    subjects: list[Subject] = [*named, *outside, *tasks]
    # this tool runs the loaded sources' networks: with none it can run (imported cards), it is no subject
    tool = kb.tool if any(kb.runnable(s) for s in kb.sources) else None
    said = [w for w in lang.referents.tool if phrase_at(toks, stems(w))]
    # "this tool" names it anywhere; a bare "you" only opens a question to it ("can you ...")
    if tool is not None and said:
        if (
            not named
            or any(len(stems(w)) > 1 for w in said)
            or _opens_with(text, toks, lang.referents.tool, lang)
        ):
            subjects.append(Subject("tool", tool.id, "referent"))
    if picture and any(phrase_at(toks, stems(w)) for w in lang.referents.picture):
        if not named or not _pronoun_only(toks, lang):
            subjects.append(Subject("picture", "picture", "referent"))
    points = any(phrase_at(toks, stems(w)) for w in lang.referents.pronouns)
    if named and points and not picture:  # "compare it with MSSNet": "it" is the conversation's source
        subjects += [
            Subject(s.kind, s.id, "context")
            for s in previous
            if s.kind == "source" and s.id not in {n.id for n in named}
        ]
    if named or any(s.kind in ("tool",) for s in subjects):
        return subjects
    if outside and not any(s.kind == "picture" for s in subjects):
        return subjects
    # no source named: "it" is the conversation's source, a continuation inherits the last part's
    # subjects, else the attribute's owner, else the evidence
    if previous and (points or follows and _continues(toks, lang)):
        return subjects + [s for s in previous if s.kind != "picture" or picture]
    serving = _serving(kb, tasks)
    evidence = ranked[0].fact.source if ranked else None
    if serving and any(t.how == "loosely" for t in tasks) and evidence not in serving:
        serving = []  # a word with other meanings ("enhance") does not outweigh the evidence
    if serving:  # the job the person names: the sources made for it, the best-ranked first
        how = "loose-task" if any(t.how == "loosely" for t in tasks) else "task"
        return subjects + [Subject("source", sid, how) for sid in serving[:1]]
    owners = _attribute_owners(kb, index, attribute, ranked, kind)
    top = ranked[0] if ranked else None
    if len(owners) == 1 and top and top.fact.source != owners[0] and top.fact.attribute != attribute:
        owners = []  # another source's fact fits the question better even without the attribute's bonus
    if len(owners) == 1:
        owner_kind: SubjectKind = "tool" if kb.tool is not None and owners[0] == kb.tool.id else "source"
        return subjects + [Subject(owner_kind, owners[0], "attribute")]
    cited = [o for o in owners if o in kb.sources]
    if points and not subjects and len(cited) == 1:
        # "it" is the one source that states the asked point (this tool's facts on it are about
        # running that source: "how many stages are there, and how are they split?")
        return [Subject("source", cited[0], "attribute")]
    if points and not subjects:
        return [Subject("ambiguous", "")]
    if ranked:  # the evidence: its best fact's owner (this tool's facts are indexed only where it runs)
        owner = ranked[0].fact.source
        evidence_kind: SubjectKind = "tool" if kb.tool is not None and owner == kb.tool.id else "source"
        return subjects + [Subject(evidence_kind, owner, "evidence")]
    return subjects


def _attribute_owners(
    kb: KnowledgeBase, index: FactIndex, attribute: str | None, ranked, kind: str = ""
) -> list[str]:
    """The sources (or this tool, where it runs them) whose facts state the attribute, 'not known'
    lines only when no one states it; when several do, the one whose fact ranks best, if it
    clearly leads."""
    if not attribute:
        return []
    stating = [f for f in index.facts if f.attribute == attribute]
    # who says something about it; a source that only says the sources lack it owns it when no one does
    owners = list(dict.fromkeys(f.source for f in stating if f.kind != "not-known"))
    owners = owners or list(dict.fromkeys(f.source for f in stating))
    if len(owners) <= 1:
        return owners
    if kind == "choice":  # "which of them uses X?": the one whose fact says yes
        yes = list(dict.fromkeys(f.source for f in stating if f.polarity == "yes"))
        if len(yes) == 1:
            return yes
    best = [r for r in ranked if r.fact.attribute == attribute and r.fact.source in owners]
    if len(best) >= 2 and best[0].fact.source != best[1].fact.source:
        if best[0].score - best[1].score >= UNDERSTANDING.owner_margin:
            return [best[0].fact.source]
    elif len(best) >= 2:
        others = [r for r in best if r.fact.source != best[0].fact.source]
        if not others or best[0].score - others[0].score >= UNDERSTANDING.owner_margin:
            return [best[0].fact.source]
    return owners


def _serving(kb: KnowledgeBase, tasks: list[Subject]) -> list[str]:
    """Sources whose capability is the named task, primary ones first (one task named only)."""
    if len(tasks) != 1:
        return []
    order = {"primary": 0, "with-preprocessing": 1, "related": 2}
    caps = sorted(kb.capabilities_for(task_id=tasks[0].id), key=lambda c: order[c.role])
    made = [c.source for c in caps if c.role != "related"]
    return list(dict.fromkeys(made or [c.source for c in caps]))


def _by_own_name(toks: list[str], kb: KnowledgeBase) -> list:
    """The tasks, less any the words name only by an alias that another named task's own name holds
    ("segmentation", an alias of feature-map upsampling, when "image segmentation" is a task)."""
    own = [
        p for t in kb.tasks.values() for p in (t.label, t.id.replace("-", " ")) if phrase_at(toks, stems(p))
    ]
    return [
        t
        for t in kb.tasks.values()
        if not own
        or any(phrase_at(toks, stems(p)) for p in (t.label, t.id.replace("-", " ")))
        or any(not any(phrase_at(stems(o), stems(a)) for o in own) for a in task_phrases(toks, t))
    ]


def _names_task(toks: list[str], task, firm: bool) -> bool:
    return bool(task_phrases(toks, task, firm))


def task_phrases(toks: list[str], task, firm: bool = True) -> list[str]:
    """The task's names and aliases the stemmed words contain (firm: not the ambiguous ones)."""
    aliases = [a for a in task.aliases if not firm or a not in task.ambiguous_aliases]
    return [p for p in [task.label, task.id.replace("-", " "), *aliases] if phrase_at(toks, stems(p))]


def _opens_with(text: str, toks: list[str], phrases: list[str], lang: Language) -> bool:
    """One of the phrases is among the first words of a clause ("..., can you ...")."""
    windows = [toks[start : start + 3] for start in lang.clause_starts(text, toks)]
    return any(phrase_at(window, stems(p)) for window in windows for p in phrases)


def _pronoun_only(toks: list[str], lang: Language) -> bool:
    """The picture words present are only pronouns ("it", "the model"), which a named source
    takes; "this" on its own points at the picture ("will this need padding before MSSNet?")."""
    pronouns = {tuple(stems(p)) for p in lang.referents.pronouns}
    said = [p for p in pronouns if len(p) > 1 and phrase_at(toks, list(p))]  # "this model"
    found = [tuple(stems(w)) for w in lang.referents.picture if phrase_at(toks, stems(w))]
    return all(f in pronouns or any(set(f) <= set(p) for p in said) for f in found)


def _continues(toks: list[str], lang: Language) -> bool:
    start = skip_fillers(toks, [])
    return (
        any(toks[start : start + len(stems(c))] == stems(c) for c in lang.parts.continuations)
        or len(toks) <= 4
    )


def outside_names(text: str, kb: KnowledgeBase, lang: Language) -> list[str]:
    """Names of tools the question uses that no card mentions: the data's well-known products, and
    capitalised or versioned words that are in neither the cards' vocabulary nor the language data."""
    found: list[str] = []
    lowered = f" {text.lower()} "
    runs = any(kb.runnable(s) for s in kb.sources)  # the tool's words count where it runs a source
    vocabulary = {_compact(w) for w in kb.vocabulary | (_tool_vocabulary(kb) if runs else frozenset())}
    vocabulary |= {_compact(n) for t in kb.tables.values() for names in t.aliases.values() for n in names}
    vocabulary |= {_compact(str(r[t.key])) for t in kb.tables.values() for r in t.rows}
    for product in sorted(lang.outside.products, key=len, reverse=True):
        if product.lower() not in lowered:
            continue  # (the word-frequency test below loads a table per language: only when needed)
        # a name that is also a word ("HAT", Spanish "imagen") counts only as written
        exact = product.isupper() or _common_word(product, lang)
        hay, p = (f" {text} ", product) if exact else (lowered, product.lower())
        if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", hay) and not any(p in f.lower() for f in found):
            mentioned = all(_compact(w) in vocabulary for w in product.split())
            if not kb.sources_named_in(product) and not mentioned:  # a loaded source, or a name the cards use
                found.append(product)
    not_models = {n.lower() for n in lang.outside.not_models}
    spans = list(_WORD.finditer(text))
    for span in spans:
        word = span.group(0)
        w = re.sub(r"['’]s$", "", word.strip(".'’"))  # "DataCrafter's" is DataCrafter
        lw = w.lower()
        if (
            _compact(lw) in vocabulary
            or {lw, lw.removesuffix("s")} & not_models
            or any(lw in f.lower().split() for f in found)
        ):
            continue
        if "-" in lw and _compact(lw.split("-")[0]) in vocabulary:
            continue  # "GoPro-style", "MSSNet-base": a known name with a suffix
        if any(lw == n.lower() for names in kb.source_names.values() for n in names):
            continue
        versioned = any(c.isdigit() for c in w) and any(c.isalpha() for c in w) and len(w) > 2
        camel = any(c.isupper() for c in w[1:]) and w[0].isalpha()
        if (versioned and not _is_quantity(w, lang)) or (camel and len(w) > 2):
            if not _common_word(w, lang):
                found.append(w)
    return [_with_capitalised_run(name, spans, text) for name in found]


def _with_capitalised_run(name: str, spans: list[re.Match[str]], text: str) -> str:
    """A product name goes on over the capitalised words written right after it ("SDXL Turbo")."""
    at = text.find(name)
    if at < 0:
        return name
    end = at + len(name)
    for span in (s for s in spans if s.start() >= end):
        if text[end : span.start()] != " " or not span.group(0)[0].isupper():
            break
        name, end = f"{name} {span.group(0)}", span.end()
    return name


def _compact(word: str) -> str:
    """'MSSNet-large' and 'MSSNet_large' are one name."""
    return word.lower().replace("-", "").replace("_", "")


def _is_quantity(word: str, lang: Language) -> bool:
    """A number with one of the data's units ("24MP", "x4", "512px")."""
    match = re.fullmatch(r"([x×]?)\d+(?:[.,]\d+)?(\D*)", word.lower())
    return match is not None and (not match.group(2) or match.group(2) in lang.quantities.units)


def _common_word(word: str, lang: Language) -> bool:
    """A frequent word of English or of the languages the data lists ("SYSTEM", "Fotos"), by the
    wordfreq library: such a word names no outside model."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        return False
    lowered = word.lower()
    if not lowered.isalpha():  # "H.265" would be read as the words "h" and "265"
        return False
    return any(zipf_frequency(lowered, code) >= COMMON_ZIPF for code in ["en", *lang.languages.compare])


def _tool_vocabulary(kb: KnowledgeBase) -> frozenset[str]:
    texts = [f.text for f in kb.tool_facts] + [a for f in kb.tool_facts for a in f.answers]
    return frozenset(w.lower() for t in texts for w in re.findall(r"[A-Za-z][\w-]*", t))
