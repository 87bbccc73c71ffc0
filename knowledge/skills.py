"""Skills: small deterministic calculators that apply the cards to the person's numbers.

Each one reads its constants from knowledge/skills.yml (every number there is in the fact or table
it names), runs on a part's quantities, and returns `Computed` results that cite what they compute
from and say that they were computed. The registry is `SKILLS`; `apply(part, kb)` runs them all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from knowledge.lang.language import Language, language
from knowledge.lang.match import phrase_at, stems
from knowledge.lang.yamlfile import read_yaml
from knowledge.store import KnowledgeBase
from knowledge.understand import Part

SKILLS_FILE = Path(__file__).resolve().parent / "skills.yml"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PadSkill(_Strict):
    fact: str
    multiple: int = Field(gt=1)
    attributes: list[str]
    # points a size is given for that are a cost at that size, not whether it fits ("how long at 4K?")
    not_for: list[str] = Field(default_factory=list)


class UpscaleSkill(_Strict):
    fact: str
    factors: list[int]
    announce_fact: str
    announce_mp: float


class TilesSkill(_Strict):
    fact: str  # states that the backbone runs 1 + u x u times for factor u
    attributes: list[str]


class LimitSkill(_Strict):
    fact: str
    limit_mp: float = Field(gt=0)
    attributes: list[str]


class Scale(_Strict):
    column: str
    width: int
    height: int
    unit: str
    attributes: list[str]
    # columns that hold the value at a size of their own (width, height): a size asked that is one of
    # them is read from the column, not scaled
    at: dict[str, tuple[int, int]] = Field(default_factory=dict)


class Threshold(_Strict):
    group: list[str]
    count: str
    total: str
    score: str


class Ratio(_Strict):
    # the columns two rows are set against ("how many times the parameters"), per asked attribute;
    # `default` when the question asks none of them (rows compared as a whole)
    columns: dict[str, list[str]]
    default: list[str]


class TableSkill(_Strict):
    labels: dict[str, str]
    show: dict[str, list[str]]
    scale: Scale | None = None
    ratio: Ratio | None = None
    threshold: Threshold | None = None


class SkillsFile(_Strict):
    pad: PadSkill
    upscale: UpscaleSkill
    limit: LimitSkill
    tiles: TilesSkill
    tables: dict[str, TableSkill]


@lru_cache(maxsize=1)
def skills_data() -> SkillsFile:
    return SkillsFile.model_validate(read_yaml(SKILLS_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Computed:
    text: str  # the sentence, ending with what it was computed from
    cites: str  # the fact or table id
    source: str  # its owner
    numbers: tuple[str, ...]  # every number the sentence states (computed or quoted)


def _origin(kb: KnowledgeBase, lang: Language, fact) -> str:
    label = lang.attributes[fact.attribute].label if fact.attribute in lang.attributes else "its facts"
    return f"{kb.described(fact.source).name}, {label}"


def _computed(lang: Language, body: str, cites: str, source: str, origin: str) -> Computed:
    text = lang.frame("computed", text=body, origin=origin)
    return Computed(text, cites, source, tuple(_NUMBER.findall(text)))


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}".rstrip("0").rstrip(".")


def _mp(value: float) -> str:
    """Megapixels to two significant figures below 1 ("0.02"), else one decimal."""
    return f"{value:.2g}" if value < 1 else _fmt(value)


# -- the skills ------------------------------------------------------------------------------------


def pad(part: Part, kb: KnowledgeBase, lang: Language) -> list[Computed]:
    spec = skills_data().pad
    fact = kb._by_id.get(spec.fact)
    if fact is None or not part.quantities.sizes:
        return []
    asked = part.attribute in spec.attributes
    if part.attribute in spec.not_for:
        return []
    if not asked and (fact.source not in part.source_ids or part.quantities.measured):
        return []  # the attached picture's own size is checked only when its size is asked
    out = []
    m = spec.multiple
    factors = [f for f in part.quantities.factors if f in skills_data().upscale.factors] or [1]
    # the attached picture's own size, measured, is said to be it (not when it was enlarged first)
    own = "-picture" if part.quantities.measured and factors[0] == 1 else ""
    for w, h in part.quantities.sizes:
        w, h = w * factors[0], h * factors[0]
        if w % m == 0 and h % m == 0:
            body = lang.frame("pad-fine" + own, w=w, h=h, m=m)
        else:
            pw, ph = math.ceil(w / m) * m, math.ceil(h / m) * m
            body = lang.frame("pad-needed" + own, w=w, h=h, pw=pw, ph=ph, m=m)
        out.append(_computed(lang, body, fact.id, fact.source, _origin(kb, lang, fact)))
    return out


def upscale(part: Part, kb: KnowledgeBase, lang: Language) -> list[Computed]:
    spec = skills_data().upscale
    fact = kb._by_id.get(spec.fact)
    q = part.quantities
    if fact is None or not q.sizes or not q.factors:
        return []
    out = []
    for n in q.factors:
        if n not in spec.factors:
            continue
        for w, h in q.sizes:
            mp = w * n * h * n / 1e6
            frame = "upscale-picture" if q.measured else "upscale"
            body = lang.frame(frame, n=n, w=w, h=h, ow=w * n, oh=h * n, mp=f"{mp:.1f}")
            out.append(_computed(lang, body, fact.id, fact.source, _origin(kb, lang, fact)))
    return out


def limit(part: Part, kb: KnowledgeBase, lang: Language) -> list[Computed]:
    """A picture's megapixels, from its size (the attached one's measured) or as written, against
    the largest picture the tool takes, when that is asked."""
    spec = skills_data().limit
    fact = kb._by_id.get(spec.fact)
    q = part.quantities
    if fact is None or part.attribute not in spec.attributes or part.attribute_by not in ("cue", "earlier"):
        return []  # a reading by meaning alone is too loose: "more than 2 megapixels?" is no picture
    factors = [f for f in q.factors if f in skills_data().upscale.factors and f > 1]
    if factors:
        return []  # the enlarged size and its megapixels are the upscale skill's
    own = "size-picture" if q.measured else "size"
    pictures = [(lang.frame(own, w=w, h=h, mp=_mp(w * h / 1e6)), w * h / 1e6) for w, h in q.sizes]
    pictures += [(lang.frame("megapixels", mp=_fmt(mp)), mp) for mp in q.megapixels]
    out = []
    for said, mp in pictures:
        frame = "limit-under" if mp <= spec.limit_mp else "limit-over"
        body = lang.frame(frame, picture=said, limit=_fmt(spec.limit_mp))
        out.append(_computed(lang, body, fact.id, fact.source, _origin(kb, lang, fact)))
    return out


def _ratio_columns(part: Part, spec: TableSkill) -> list[str]:
    if spec.ratio is None:
        return []
    return spec.ratio.columns.get(part.attribute or "", []) or (
        spec.ratio.default if part.kind == "comparison" or part.attribute is None else []
    )


def _row_pairs(part: Part, kb: KnowledgeBase):
    """(table, spec, the larger row, the smaller row, columns) for two rows of one table a part names."""
    by_table: dict[str, list[str]] = {}
    for table_id, key in part.quantities.rows:
        by_table.setdefault(table_id, []).append(key)
    for table_id, keys in by_table.items():
        spec = skills_data().tables.get(table_id)
        table = kb.tables.get(table_id)
        if spec is None or table is None or table.rank_by is None or len(keys) != 2:
            continue
        columns = _ratio_columns(part, spec)
        if not columns:
            continue
        rank_by = table.rank_by
        rows = sorted(
            (next(r for r in table.rows if str(r[table.key]) == k) for k in keys),
            key=lambda r: float(r[rank_by]),
        )
        yield table, spec, rows[1], rows[0], columns


def ratio(part: Part, kb: KnowledgeBase, lang: Language) -> list[Computed]:
    """Two rows of one table set against each other: how many times the larger row's values are the
    smaller's ("MSSNet_large has 4.2× the parameters of MSSNet_small")."""
    out = []
    for table, spec, big, small, columns in _row_pairs(part, kb):
        items = [
            lang.frame(
                "ratio-item",
                times=f"{float(big[c]) / float(small[c]):.1f}",
                what=spec.labels.get(c, c),
                big=_value(big[c]),
                small=_value(small[c]),
            )
            for c in columns
            if float(small[c])
        ]
        if not items:
            continue
        body = lang.frame("ratio", big=big[table.key], small=small[table.key], items=", ".join(items))
        origin = f"the table “{table.title}”" + (
            " (derived columns)" if set(columns) & set(table.derived) else ""
        )
        out.append(_computed(lang, body, table.id, table.id.split(".")[0], origin))
    return out


def tiles(part: Part, kb: KnowledgeBase, lang: Language) -> list[Computed]:
    """Tiles and backbone passes at the factor asked: u x u tiles plus one pass on the whole image,
    when the part is about the fact's source and asks what the fact states (its attribute, or the
    facts it ranks first are that source's on it)."""
    spec = skills_data().tiles
    fact = kb._by_id.get(spec.fact)
    if fact is None or not part.quantities.factors or fact.source not in part.source_ids:
        return []
    top = part.facts[:3]
    about = part.attribute in spec.attributes or any(
        r.fact.source == fact.source and r.fact.attribute in spec.attributes for r in top
    )
    if not about:
        return []
    out = []
    for u in part.quantities.factors:
        body = lang.frame("tiles", name=kb.described(fact.source).name, u=u, tiles=u * u, passes=1 + u * u)
        out.append(_computed(lang, body, fact.id, fact.source, _origin(kb, lang, fact)))
    return out


def table_rows(part: Part, kb: KnowledgeBase, lang: Language) -> list[Computed]:
    """The asked columns of the rows a part names ("the bigger one"), and compute scaled to a size."""
    out = []
    paired = {t.id for t, _, _, _, _ in _row_pairs(part, kb)}
    scaled = part.quantities.sizes
    for table_id, key in part.quantities.rows:
        spec = skills_data().tables.get(table_id)
        table = kb.tables.get(table_id)
        if spec is None or table is None:
            continue
        row = next(r for r in table.rows if str(r[table.key]) == key)
        if part.quantities.percents and spec.threshold:
            continue  # the threshold skill answers that
        if table.rank_by is None:
            continue  # a key that names many rows (a model on several datasets): the lookup shows them
        columns = spec.show.get(part.attribute or "", [])
        if not columns and (part.kind == "comparison" or part.attribute in (None, table.attribute)):
            columns = spec.show.get(table.attribute or "", [])  # rows set side by side: the table's own point
        if not columns:
            continue  # the row says nothing about what was asked
        scale = spec.scale
        if scale is not None:  # a size the table has a column for is no size to scale to
            own = {tuple(size) for size in scale.at.values()}
            scaled = tuple(s for s in part.quantities.sizes if s not in own and s[::-1] not in own)
        if table_id in paired and not scaled:
            continue  # the two rows set against each other state their values already
        values = ", ".join(f"{spec.labels.get(c, c)} {_value(row[c])}" for c in columns)
        body = lang.frame("row", key=key, values=values)
        origin = f"the table “{table.title}”" + (
            " (derived columns)" if set(columns) & set(table.derived) else ""
        )
        out.append(_computed(lang, body, table.id, table.id.split(".")[0], origin))
        if spec.scale and part.attribute in spec.scale.attributes:
            out += _scaled(scaled, table, row, key, spec.scale, lang)
    return out


def _scaled(sizes, table, row, key: str, scale: Scale, lang: Language) -> list[Computed]:
    out = []
    for w, h in sizes:
        value = float(row[scale.column]) * (w * h) / (scale.width * scale.height)
        body = f"{key}: " + lang.frame(
            "scaled-compute",
            value=_fmt(value),
            unit=scale.unit,
            w=w,
            h=h,
            base=f"{_value(row[scale.column])} {scale.unit} at {scale.width}×{scale.height}",
        )
        out.append(_computed(lang, body, table.id, table.id.split(".")[0], f"the table “{table.title}”"))
    return out


def _named_groups(part: Part, kb: KnowledgeBase):
    """(table, its skill spec, group key, rows) for each grouped table's group that the question
    names in full ("ResNet-18 ... CIFAR-10")."""
    toks = stems(part.text)
    for table_id, spec in skills_data().tables.items():
        table = kb.tables.get(table_id)
        if table is None or spec.threshold is None:
            continue
        groups: dict[tuple, list] = {}
        for row in table.rows:
            groups.setdefault(tuple(row[g] for g in spec.threshold.group), []).append(row)
        for group, rows in groups.items():
            if all(phrase_at(toks, stems(str(v))) for v in group):
                yield table, spec, group, rows


def threshold(part: Part, kb: KnowledgeBase, lang: Language) -> list[Computed]:
    """The most layers a model can lose and keep a score at or above the asked percentage."""
    out = []
    for table, spec, group, rows in _named_groups(part, kb) if part.quantities.percents else ():
        t = spec.threshold
        assert t is not None
        for limit in part.quantities.percents:
            ok = [r for r in rows if float(r[t.score]) >= limit]
            if not ok:
                continue
            best = max(ok, key=lambda r: int(r[t.count]))
            body = lang.frame(
                "threshold",
                key=" on ".join(str(v) for v in reversed(group)),
                what=spec.labels.get(t.count, t.count),
                column=spec.labels.get(t.score, t.score),
                limit=_fmt(limit),
                value=f"{best[t.count]} of {best[t.total]}",
                score=_value(best[t.score]),
            )
            out.append(_computed(lang, body, table.id, table.id.split(".")[0], f"the table “{table.title}”"))
    return out


def lookup(part: Part, kb: KnowledgeBase, lang: Language) -> list[Computed]:
    """The series a grouped table holds for the group a question names ("VGG-16 on Aircraft"), when
    no threshold is asked."""
    out = []
    for table, spec, group, rows in () if part.quantities.percents else _named_groups(part, kb):
        t = spec.threshold
        assert t is not None
        ordered = sorted(rows, key=lambda r: int(r[t.count]))
        body = lang.frame(
            "series",
            key=" on ".join(str(v) for v in reversed(group)),
            what=spec.labels.get(t.score, t.score),
            by=spec.labels.get(t.count, t.count),
            total=rows[0][t.total],
            series=", ".join(f"{r[t.count]} → {_value(r[t.score])}%" for r in ordered),
        )
        out.append(_computed(lang, body, table.id, table.id.split(".")[0], f"the table “{table.title}”"))
    return out


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:.2f}" if v != int(v) or v < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


SKILLS: dict[str, Callable[[Part, KnowledgeBase, Language], list[Computed]]] = {
    "upscale": upscale,
    "pad": pad,
    "limit": limit,
    "tiles": tiles,
    "ratio": ratio,
    "table-rows": table_rows,
    "threshold": threshold,
    "lookup": lookup,
}


def apply(part: Part, kb: KnowledgeBase, lang: Language | None = None) -> list[Computed]:
    lang = lang or language()
    results = {name: skill(part, kb, lang) for name, skill in SKILLS.items()}
    if part.attribute not in skills_data().pad.attributes and any(
        results[name] for name in SKILLS if name not in ("pad", "upscale")
    ):
        results["pad"] = []  # the size served another calculation; whether it needs padding was not asked
    return [c for found in results.values() for c in found]
