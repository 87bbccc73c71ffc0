"""The person's numbers in a question: sizes, factors, percentages, megapixels and table rows
("the bigger one"), read with the language data's patterns."""

from __future__ import annotations

from knowledge.lang.language import Language
from knowledge.lang.match import phrase_at, stems
from knowledge.parts import Quantities
from knowledge.store import KnowledgeBase
from knowledge.text import words as written


def quantities(text: str, kb: KnowledgeBase, lang: Language) -> Quantities:
    p = lang.patterns
    sizes = tuple(dict.fromkeys((int(m["w"]), int(m["h"])) for m in p["size"].finditer(text)))  # each once
    rest = p["size"].sub(" ", text)
    factors = [int(m["n"] or m["m"] or m["b"]) for m in p["factor"].finditer(rest)]
    toks = stems(text)
    named = [size for name, size in lang.quantities.named_sizes.items() if phrase_at(toks, stems(name))]
    sizes = tuple(dict.fromkeys([*sizes, *named]))
    for word, n in lang.quantities.factor_words.items():
        if phrase_at(toks, stems(word)):
            factors.append(n)
    percents = tuple(float(m["p"]) for m in p["percent"].finditer(text))
    mps = tuple(float(m["mp"]) for m in p["megapixels"].finditer(text))
    return Quantities(
        sizes=sizes,
        factors=tuple(dict.fromkeys(f for f in factors if f > 1)),
        percents=percents,
        megapixels=mps,
        rows=table_rows(toks, kb, lang),
        firm_rows=table_rows(toks, kb, lang, firm=True),
    )


def table_rows(
    toks: list[str], kb: KnowledgeBase, lang: Language, firm: bool = False
) -> tuple[tuple[str, str], ...]:
    """Table rows named by key or alias (the longest name wins), else by a ranking word."""
    rows: list[tuple[str, str]] = []
    for table in kb.tables.values():
        named: list[tuple[int, str]] = []
        for row in table.rows:
            key = str(row[table.key])
            for name in [key, *table.aliases.get(key, [])]:
                words = stems(name.replace("_", " "))
                if len(words) > 1 or not firm and name in table.aliases.get(key, []):
                    if phrase_at(toks, words):
                        named.append((len(words), key))
        if named:
            rows += [(table.id, k) for _, k in named]
        elif table.rank_by and table.aliases and not firm:
            rank_by = table.rank_by
            ranking = sorted(table.rows, key=lambda r: float(r[rank_by]))
            if any(phrase_at(toks, stems(w)) for w in lang.quantities.largest):
                rows.append((table.id, str(ranking[-1][table.key])))
            elif any(phrase_at(toks, stems(w)) for w in lang.quantities.smallest):
                rows.append((table.id, str(ranking[0][table.key])))
    return tuple(dict.fromkeys(rows))


def row_names(toks: list[str], kb: KnowledgeBase, lang: Language) -> list[list[str]]:
    """The several-word names of table rows that rank them ("the bigger one") in the stemmed words:
    they name a row, so their ranking word asks nothing of its own (not "make it bigger")."""
    ranking = [written(p) for p in [*lang.quantities.largest, *lang.quantities.smallest]]
    found = []
    for table in kb.tables.values():
        for names in table.aliases.values():
            for name in names:
                said = stems(name)
                ranked = any(phrase_at(written(name), r) for r in ranking)  # as written: "small" is no rank
                if len(said) > 1 and ranked and phrase_at(toks, said):
                    found.append(said)
    return found
