"""Print every answer of a question set for reading (the held-out sets are scored by a person).

    ./run bench read_answers benchmarks/dev/questions.jsonl [OUT.md] [--full] [--cards=DIR]

Each question is answered as `explainer ask` would (a follow-up's earlier turns, `turns` or
`history` before `question`, go through one conversation; `"image": true` answers with the sample
picture samples/cat-small.png attached, its size measured as `--image` measures it, without running
the demo), and
printed with its truth note and wanted lead beside the direct answer, what the answer says is
not covered, whether it abstained, and (with --full) the whole terminal answer.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

SAMPLE_PICTURE = Path(__file__).resolve().parent.parent / "samples" / "cat-small.png"


def main(argv: list[str]) -> int:
    from rich.console import Console

    from agent.compose import answer_question, load_default_kb
    from agent.conversation import Conversation
    from agent.render import render_terminal
    from models.imageio import oriented_size

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
    size = oriented_size(SAMPLE_PICTURE)
    start = time.perf_counter()
    for row in rows:
        picture = bool(row.get("image"))
        measured = size if picture else None
        turns = row.get("turns") or [*row.get("history", []), row["question"]]
        if len(turns) > 1:
            chat = Conversation(kb)
            for turn in turns[:-1]:
                chat.ask(turn, picture=picture, picture_size=measured)
            answer = chat.ask(turns[-1], picture=picture, picture_size=measured)
        else:
            answer = answer_question(turns[0], kb=kb, picture=picture, picture_size=measured)
        shown = " → ".join(turns)
        attached = f" (picture attached, {size[0]}×{size[1]})" if picture else ""
        print(f"## {row['id']} [{row['category']}]{attached}", file=out)
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
