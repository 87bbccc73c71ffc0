"""Print every answer of a question set for reading (the held-out sets are scored by a person).

    ./run bench read_answers benchmarks/dev/questions.jsonl [OUT.md] [--full] [--cards=DIR]

Each question is answered as `explainer ask` would (a follow-up's earlier turns go through one
conversation; `"image": true` answers with a picture attached, without running the demo), and
printed with its truth note and wanted lead beside the direct answer, what the answer says is
not covered, whether it abstained, and (with --full) the whole terminal answer.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from rich.console import Console

    from agent.compose import answer_question, load_default_kb
    from agent.conversation import Conversation
    from agent.render import render_terminal

    paths = [a for a in argv if not a.startswith("--")]
    full = "--full" in argv
    cards = next((a.split("=", 1)[1] for a in argv if a.startswith("--cards=")), None)
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    kb = load_default_kb(cards)
    out = open(paths[1], "w", encoding="utf-8") if len(paths) > 1 else sys.stdout  # noqa: SIM115
    rows = [
        json.loads(line) for line in Path(paths[0]).read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    start = time.perf_counter()
    for row in rows:
        picture = bool(row.get("image"))
        if "turns" in row:
            chat = Conversation(kb)
            for turn in row["turns"][:-1]:
                chat.ask(turn, picture=picture)
            question = row["turns"][-1]
            answer = chat.ask(question, picture=picture)
            shown = " → ".join(row["turns"])
        else:
            question = row["question"]
            answer = answer_question(question, kb=kb, picture=picture)
            shown = question
        print(f"## {row['id']} [{row['category']}]{' (picture attached)' if picture else ''}", file=out)
        print(f"Q: {shown}", file=out)
        print(f"TRUTH: {row.get('truth', '')}", file=out)
        print(f"WANT: {row.get('lead', '')}", file=out)
        for claim in answer.direct_answer:
            print(f"> {claim.text}  [{', '.join(claim.sources)}]", file=out)
        for line in answer.not_covered:
            print(f"  not covered: {line}", file=out)
        extra = [f"abstained={answer.abstained}"]
        if picture:
            extra.append(f"about_picture={answer.about_picture}")
        print("  " + "; ".join(extra) + f"; words={len(_words(answer))}", file=out)
        if full:
            buffer = io.StringIO()
            render_terminal(answer, Console(file=buffer, width=100, color_system=None), kb)
            print(buffer.getvalue(), file=out)
        print(file=out)
        out.flush()
    print(f"{len(rows)} questions in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


def _words(answer) -> list[str]:
    texts = [c.text for c in answer.direct_answer + answer.claims] + answer.caveats + answer.not_covered
    return " ".join(texts).split()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
