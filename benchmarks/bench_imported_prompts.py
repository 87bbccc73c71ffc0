"""Imported prompts: how often an answer comes from the right source, per prompt and mode.

    ./run bench bench_imported_prompts              # BM25 (what `explainer ask` uses) and hybrid
    ./run bench bench_imported_prompts --bm25-only

Each tests/data/prompts/NAME.txt (a seed-format prompt of another field) is imported into a
temporary folder; every question of NAME.questions.jsonl ({"question", "sources": [ids]}, no ids:
out of scope) is answered with agent.compose.answer_question. Right source: not abstained, the
first expected source among the sources of the first two claims (direct answer first), every
expected one cited; a row marked "gap": true (the sources don't say what it asks) is right only
when the direct answer says so ("The sources don't say / compare ...", or a card's not-known fact).
The prompt's own question counts as in scope, answered by its recommended model.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "tests" / "data" / "prompts"


def _says_unsaid(answer, kb) -> bool:
    from knowledge.lang.language import language

    lang = language()
    openings = tuple(
        lang.frames[frame].split("{")[0].rstrip(" .") for frame in ("sources-dont-say", "compare-unsaid")
    )
    facts = [kb._by_id.get(f) for c in answer.direct_answer for f in c.facts]
    return any(c.text.startswith(openings) for c in answer.direct_answer) or any(
        f is not None and f.kind == "not-known" for f in facts
    )


def _right(answer, expected: list[str], gap: bool = False, kb=None) -> bool:
    if not expected:
        return answer.abstained
    if gap and not _says_unsaid(answer, kb):
        return False
    claims = [*answer.direct_answer, *answer.claims]  # the direct answer comes first
    cited = [s for c in claims for s in c.sources]
    first = [s for c in claims[:2] for s in c.sources]
    return not answer.abstained and expected[0] in first and all(s in cited for s in expected)


def run(name: str, dense: bool, verbose: bool) -> tuple[int, int, int, int]:
    from agent.compose import answer_question
    from knowledge.search import EvidenceSearch
    from knowledge.seed_import import import_seed
    from knowledge.store import load_knowledge_uncached

    with tempfile.TemporaryDirectory() as tmp:
        import_seed(PROMPTS / f"{name}.txt", tmp)
        kb = load_knowledge_uncached(tmp)
        retriever = EvidenceSearch(kb, dense=dense)
        if dense:
            retriever.wait_until_ready()
        rows = [
            json.loads(line)
            for line in (PROMPTS / f"{name}.questions.jsonl").read_text().splitlines()
            if line
        ]
        rows.append({"question": kb.question, "sources": kb.recommended()[:1]})
        in_ok = in_n = out_ok = out_n = 0
        for row in rows:
            answer = answer_question(row["question"], kb=kb)
            ok = _right(answer, row["sources"], bool(row.get("gap")), kb)
            if row["sources"]:
                in_n, in_ok = in_n + 1, in_ok + ok
            else:
                out_n, out_ok = out_n + 1, out_ok + ok
            if verbose and not ok:
                got = (
                    "abstained"
                    if answer.abstained
                    else [s for c in [*answer.direct_answer, *answer.claims][:2] for s in c.sources]
                )
                print(f"    miss: {row['question']}  expected {row['sources'] or 'abstain'}, got {got}")
        return in_ok, in_n, out_ok, out_n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bm25-only", action="store_true", help="skip loading the embedding model")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    args = parser.parse_args(argv)
    names = sorted(p.name.removesuffix(".questions.jsonl") for p in PROMPTS.glob("*.questions.jsonl"))
    print(f"{'prompt':<14} {'mode':<7} {'in scope right':>15} {'out of scope abstained':>23}")
    for mode in ("bm25",) + (() if args.bm25_only else ("hybrid",)):
        for name in names:
            in_ok, in_n, out_ok, out_n = run(name, mode == "hybrid", args.verbose)
            print(
                f"{name:<14} {mode:<7} {in_ok:>4}/{in_n:<3} {in_ok / in_n:6.1%} {out_ok:>10}/{out_n:<3} "
                f"{out_ok / out_n:6.1%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
