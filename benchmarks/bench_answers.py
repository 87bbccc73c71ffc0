"""Does each answer answer the question? Pass rates by category over benchmarks/questions/*.jsonl.

Every question carries what its answer must say (`must`: regexes anywhere in the answer; `lead`:
regexes within its first LEAD_WORDS words, where the direct answer belongs), what it must not say
(`must_not`), the source it should cite first (`primary`) and whether it abstains (`abstain`);
`turns` is a chat conversation whose last answer is judged. Every answer is also checked for
grounding: no URL, title or number that is not in the cards.

    ./run bench bench_answers [--category NAME] [--id ID ...] [--show ID] [--long]

Prints pass rates by category, the median word count (all questions, and the specific ones: all but
the founding kind), and every failure with its reasons.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

QUESTIONS_DIR = Path(__file__).resolve().parent / "questions"
LEAD_WORDS = 80
BROAD_CATEGORIES = ("founding",)  # answered in full; every other category is a specific question
_MD_ESCAPE = re.compile(r"\\([\\`*_<>\[\]|#])")
_CITATION = re.compile(r"(\[\d+\])+")
_URL = re.compile(r"https?://[^\s<>\"'\])]+")


@dataclass
class Result:
    item: dict
    words: int
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures


def load_questions(directory: Path = QUESTIONS_DIR) -> list[dict]:
    items = []
    for path in sorted(directory.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                item = json.loads(line)
                item.setdefault("id", f"{path.stem}-{n}")
                items.append(item)
    return items


def answer_text(markdown: str) -> str:
    """The answer as a reader sees it: no headings, question echo, diagram source or citation marks."""
    lines, in_code = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code or line.startswith("#") or line.startswith("> "):
            continue
        lines.append(line)
    text = _MD_ESCAPE.sub(r"\1", "\n".join(lines))
    text = _CITATION.sub("", text).replace("**", "").replace("*", "")
    return re.sub(r"[ \t]+", " ", text).strip()


def lead_of(text: str) -> str:
    """The first LEAD_WORDS words, with line starts kept so '^No' matches the answer's first word."""
    words = text.split()
    return " ".join(words[:LEAD_WORDS]).lstrip("-• ")


def ask(item: dict, kb, retriever, long: bool = False):
    """The answer to the item: its question, or the last turn of its conversation."""
    from agent.compose import answer_question

    turns = item.get("turns") or [item["question"]]
    try:
        from agent.conversation import Conversation
    except ImportError:  # before chat kept a conversation: each turn alone
        return _call(answer_question, turns[-1], kb, retriever, long)
    conversation = Conversation(kb=kb)
    answer = None
    for turn in turns:
        answer = conversation.ask(turn, long=long)
    return answer


def _call(answer_question, question, kb, retriever, long):
    try:
        return answer_question(question, kb=kb, long=long)
    except TypeError:  # before --long existed
        return answer_question(question, kb=kb)


def first_cited(answer) -> str | None:
    for item in list(getattr(answer, "direct_answer", None) or []) + list(answer.claims):
        if item.sources:
            return item.sources[0]
    return None


def judge(item: dict, answer, markdown: str, kb) -> list[str]:
    from agent.grounding import check_grounded

    text = answer_text(markdown)
    lead = lead_of(text)
    failures = []
    if item.get("abstain") is not None and answer.abstained is not item["abstain"]:
        failures.append(f"abstained={answer.abstained}, expected {item['abstain']}")
    if item.get("primary") and not answer.abstained and first_cited(answer) != item["primary"]:
        failures.append(f"first cites {first_cited(answer)}, expected {item['primary']}")
    for pattern in item.get("lead", []):
        if not re.search(pattern, lead, re.I | re.M):
            failures.append(f"lead lacks /{pattern}/")
    for pattern in item.get("must", []):
        if not re.search(pattern, text, re.I | re.M):
            failures.append(f"answer lacks /{pattern}/")
    for pattern in item.get("must_not", []):
        hit = re.search(pattern, text, re.I | re.M)
        if hit:
            failures.append(f"answer says /{pattern}/: {hit.group(0)!r}")
    allowed = {u.rstrip("/") for u in kb.allowed_urls()}
    for url in _URL.findall(text):
        if url.rstrip(".,;:!?").rstrip("/") not in allowed:
            failures.append(f"foreign URL {url}")
    failures += [f"ungrounded {v}" for v in check_grounded(answer, kb)]
    return failures


def run(items: list[dict], long: bool = False) -> list[Result]:
    from agent.compose import default_retriever, load_default_kb
    from agent.render import render_markdown

    kb = load_default_kb()
    retriever = default_retriever(kb)
    results = []
    for item in items:
        start = time.perf_counter()
        answer = ask(item, kb, retriever, long=long)
        markdown = render_markdown(answer, kb)
        elapsed = time.perf_counter() - start
        words = len(answer_text(markdown).split())
        results.append(Result(item, words, judge(item, answer, markdown, kb), elapsed))
    return results


def report(results: list[Result], out=sys.stdout) -> None:
    categories = list(dict.fromkeys(r.item.get("category", "?") for r in results))
    print(f"{'category':<18}{'n':>4}{'pass':>6}{'rate':>8}{'median words':>14}", file=out)
    for cat in categories:
        rows = [r for r in results if r.item.get("category") == cat]
        passed = sum(r.passed for r in rows)
        print(
            f"{cat:<18}{len(rows):>4}{passed:>6}{passed / len(rows):>8.1%}"
            f"{statistics.median(r.words for r in rows):>14.0f}",
            file=out,
        )
    passed = sum(r.passed for r in results)
    specific = [r.words for r in results if r.item.get("category") not in BROAD_CATEGORIES]
    print(
        f"{'all':<18}{len(results):>4}{passed:>6}{passed / len(results):>8.1%}"
        f"{statistics.median(r.words for r in results):>14.0f}",
        file=out,
    )
    if specific:
        print(f"median words over specific questions: {statistics.median(specific):.0f}", file=out)
    print(f"seconds per answer: {statistics.mean(r.seconds for r in results):.3f}", file=out)
    failures = [r for r in results if not r.passed]
    if failures:
        print(f"\n{len(failures)} failures:", file=out)
    for r in failures:
        question = " / ".join(r.item.get("turns") or [r.item["question"]])
        print(f"- {r.item['id']}: {question}", file=out)
        for reason in r.failures:
            print(f"    {reason}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--category", action="append", help="only these categories")
    parser.add_argument("--id", action="append", dest="ids", help="only these question ids")
    parser.add_argument("--show", metavar="ID", help="print one question's answer (Markdown) and its verdict")
    parser.add_argument("--long", action="store_true", help="judge the full (--long) answers")
    args = parser.parse_args(argv)
    items = load_questions()
    if args.category:
        items = [i for i in items if i.get("category") in args.category]
    if args.ids:
        items = [i for i in items if i["id"] in args.ids]
    if args.show:
        items = [i for i in items if i["id"] == args.show]
        if not items:
            parser.error(f"no question with id {args.show}")
        from agent.compose import default_retriever, load_default_kb
        from agent.render import render_markdown

        kb = load_default_kb()
        answer = ask(items[0], kb, default_retriever(kb), long=args.long)
        markdown = render_markdown(answer, kb)
        print(markdown)
        print("verdict:", judge(items[0], answer, markdown, kb) or "pass")
        return 0
    if not items:
        parser.error("no questions selected")
    report(run(items, long=args.long))
    return 0


if __name__ == "__main__":
    sys.exit(main())
