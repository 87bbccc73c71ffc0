"""`explainer kb list | kb show ID | kb import SEED.txt`: inspect and extend the source cards.

Module-level imports stay light (argparse only): the CLI builds every parser on start-up.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path


def add_parser(subparsers) -> None:
    kb = subparsers.add_parser(
        "kb",
        help="list, show or import source cards",
        description="Inspect the source cards the answers are built from, "
        "or import a prompt in the seed's format.",
    )
    verbs = kb.add_subparsers(dest="kb_verb", required=True, metavar="ACTION")

    p_list = verbs.add_parser(
        "list",
        help="list sources, tasks and fact counts",
        description="List the sources (with their links), tasks and fact counts.",
    )
    p_list.add_argument(
        "--cards-dir", metavar="DIR", help="cards directory (default: $EXPLAINER_CARDS or the packaged cards)"
    )
    p_list.set_defaults(run=run_list)

    p_show = verbs.add_parser(
        "show",
        help="show one source, fact or task card",
        description="Show one source, fact or task card (ids in any case; a source's name works too).",
    )
    p_show.add_argument(
        "id", metavar="ID", help="a source id or name (mssnet, MSSNet), fact id (mssnet.fft-loss) or task id"
    )
    p_show.add_argument(
        "--cards-dir", metavar="DIR", help="cards directory (default: $EXPLAINER_CARDS or the packaged cards)"
    )
    p_show.set_defaults(run=run_show)

    p_import = verbs.add_parser(
        "import",
        help="turn a seed-format prompt into source cards",
        description="Turn a prompt in the seed's format into source cards in a folder of their own.",
    )
    p_import.add_argument(
        "seed",
        metavar="SEED.txt",
        help="prompt with the question, 'Recommended AI Models' and 'Related Papers'",
    )
    p_import.add_argument(
        "--cards-dir", metavar="DIR", help="where to write the cards (default: ./cards-<SEED name>)"
    )
    p_import.add_argument("--force", action="store_true", help="overwrite existing card files")
    p_import.add_argument(
        "--dry-run", action="store_true", help="print what would be written and every warning; write nothing"
    )
    p_import.add_argument(
        "--with-packaged",
        action="store_true",
        help="add the packaged cards to the directory too (a mixed set)",
    )
    p_import.set_defaults(run=run_import)


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def _when(source) -> str:
    """Venue and year, without repeating a year the venue already names."""
    parts = [source.venue] if source.venue else []
    if source.year and str(source.year) not in (source.venue or ""):
        parts.append(str(source.year))
    return ", ".join(parts)


def _role(source) -> str:
    """The prompt's word for the source: recommended model or related paper (kind when unknown)."""
    return {"recommended": "recommended", "related": "related"}.get(source.role or "", source.kind)


def _confidence(cap) -> str:
    return "" if cap.confidence is None else f", confidence {cap.confidence:.2f}"


def run_list(args: argparse.Namespace) -> int:
    from knowledge.store import load_knowledge

    kb = load_knowledge(args.cards_dir)
    print(f"Sources ({kb.cards_dir}):")
    if kb.question:
        print(f"Question: {kb.question}")
    for sid, source in kb.sources.items():
        facts = kb.facts_for(sid)
        when = _when(source)
        print(
            f"  {sid:<12} {_role(source):<11} {len(facts):>3} facts  {source.title}"
            + (f" ({when})" if when else "")
        )
        for url in source.urls():
            print(f"  {'':<12} {url}")
    if kb.tasks:
        print("Tasks:")
        for tid, task in kb.tasks.items():
            doers = (
                ", ".join(f"{c.source} ({c.role}{_confidence(c)})" for c in kb.capabilities_for(task_id=tid))
                or "-"
            )
            print(f"  {tid:<19} {task.label}: {doers}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from knowledge.errors import KnowledgeError
    from knowledge.store import load_knowledge

    kb = load_knowledge(args.cards_dir)
    wanted = _card_id(kb, args.id)
    if wanted in kb.sources:
        _show_source(kb, wanted)
    elif wanted in kb.tasks:
        _show_task(kb, wanted)
    elif any(f.id == wanted for f in kb.facts):
        _show_fact(kb.fact(wanted))
    else:
        raise KnowledgeError(
            f"no source, fact or task with id {args.id!r} "
            f"(sources: {', '.join(kb.sources)}; see 'explainer kb list')"
        )
    return 0


def _card_id(kb, typed: str) -> str:
    """The id a person meant: exact, else the same letters in any case, or a source's name (MSSNet)."""
    ids = [*kb.sources, *kb.tasks, *(f.id for f in kb.facts)]
    if typed in ids:
        return typed
    folded = typed.casefold()
    for sid, source in kb.sources.items():
        if folded == source.name.casefold():
            return sid
    return next((i for i in ids if i.casefold() == folded), typed)


def _show_source(kb, sid: str) -> None:
    s = kb.sources[sid]
    role = {"recommended": "recommended model", "related": "related paper"}.get(s.role or "", s.kind)
    print(f"{s.title}  [{s.id}, {role}]")
    if s.authors:
        print(_wrap("Authors: " + ", ".join(s.authors), ""))
    if s.venue or s.year:
        print("Venue:   " + _when(s))
    for label in ("paper", "arxiv", "code", "project"):
        url = getattr(s.links, label)
        if url:
            print(f"{label.capitalize() + ':':<9}{url}")
    for url in s.links.extra:
        print(f"{'Also:':<9}{url}")
    caps = kb.capabilities_for(source_id=sid)
    if caps:
        print("\nTasks:")
        for c in caps:
            task = kb.tasks.get(c.task)
            print(f"  {c.task} ({c.role}{_confidence(c)})")
            print(_wrap((f"{task.label}: " if task else "") + f"{c.input} -> {c.output}", "      "))
            if c.evidence:
                print(_wrap("linked by the words: " + "; ".join(c.evidence), "      "))
            if c.note:
                print(_wrap(c.note, "      "))
    steps = kb.workflow(sid)
    if steps:
        print("\nWorkflow:")
        for f in steps:
            print(_wrap(f"[{f.workflow} {f.order}] {f.text}", "  ").replace("  ", "  ", 1))
    for kind, heading in (("fact", "Facts"), ("does-not", "Does not"), ("not-known", "Not known")):
        facts = [f for f in kb.facts_for(sid) if f.kind == kind and not f.workflow]
        if facts:
            print(f"\n{heading}:")
            for f in facts:
                print(f"  {f.id}  ({f.origin}{', ' + f.attribute if f.attribute else ''})")
                print(_wrap(f.text, "    "))
                if f.answers:
                    print(_wrap("answers: " + "; ".join(f.answers), "      "))


def _show_task(kb, tid: str) -> None:
    t = kb.tasks[tid]
    print(f"{t.label}  [{t.id}]")
    print(_wrap(t.description, ""))
    print(_wrap("Aliases: " + ", ".join(t.aliases), ""))
    if t.input or t.output:
        print(_wrap(f"Input: {t.input or '-'}  ->  output: {t.output or '-'}", ""))
    if t.imported_from:
        print(f"Made by the import ({t.imported_from}) from the summaries' own words.")
    for c in kb.capabilities_for(task_id=tid):
        print(f"  {c.source} ({c.role}{_confidence(c)}): {c.input} -> {c.output}")
        if c.evidence:
            print(_wrap("linked by the words: " + "; ".join(c.evidence), "      "))


def _show_fact(f) -> None:
    print(f"{f.id}  [{f.source}, {f.kind}]")
    print(_wrap(f.text, "  "))
    print(f"  origin: {f.origin}")
    if f.tags:
        print(f"  tags:   {', '.join(f.tags)}")
    if f.workflow:
        print(f"  workflow: {f.workflow} #{f.order}")


def run_import(args: argparse.Namespace) -> int:
    import sys

    from knowledge.seed_import import plan_import, write_plan
    from knowledge.store import load_knowledge_uncached

    seed = Path(args.seed)
    target = Path(args.cards_dir) if args.cards_dir else Path.cwd() / f"cards-{seed.stem}"
    if not args.dry_run:
        from common.files import check_writable

        check_writable(target, folder=True)  # before the prompt is read and its warnings shown
    plan = plan_import(seed, target, force=args.force, with_packaged=args.with_packaged)
    for warning in plan.prompt.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.dry_run:
        _print_plan(plan)
        return 0
    write_plan(plan)
    kb = load_knowledge_uncached(target)  # prove the result loads before reporting success
    print(f"Imported {len(plan.prompt.sources)} sources into {target}:")
    for source in plan.prompt.sources:
        sid = source.id
        tasks = ", ".join(
            f"{c.task} {c.confidence:.2f}"
            for c in kb.capabilities_for(source_id=sid)
            if c.confidence is not None
        )
        print(
            f"  {sid:<12} {_role(kb.sources[sid]):<11} {len(kb.facts_for(sid)):>2} facts  {source.title}"
            + (f"  [tasks: {tasks}]" if tasks else "")
        )
    if plan.prompt.warnings:
        print(f"{len(plan.prompt.warnings)} warning(s), on stderr.")
    print(f"Ask the prompt's own question with: explainer ask --cards-dir {target}")
    print(f'or any question: explainer ask "..." --cards-dir {target}  (or EXPLAINER_CARDS={target})')
    return 0


def _print_plan(plan) -> None:
    """--dry-run: the files, sources, task links and facts the import would write."""
    prompt = plan.prompt
    print(f"Dry run: nothing written. Would write into {plan.cards_dir}:")
    for path in plan.files:
        print(f"  {path.name}" + ("  (replaces the existing file)" if path.exists() else ""))
    print(f"Question: {prompt.question}")
    for source in prompt.sources:
        role = {"recommended": "recommended model", "related": "related paper"}[source.role]
        print(f"\n{source.id}  [{role}]  {source.title}")
        for url in source.urls():
            print(f"  link: {url}")
        for cap in (c for c in prompt.capabilities if c.source == source.id):
            made = " (new task)" if any(t.id == cap.task for t in prompt.tasks) else ""
            print(
                f"  task: {cap.task}{made} ({cap.role}, confidence {cap.confidence:.2f}; "
                f"words: {', '.join(cap.evidence) or '-'})"
            )
        for fact in (f for f in prompt.facts if f.source == source.id):
            print(_wrap(f"{fact.id}: {fact.text}", "  "))
    print(f"\n{len(prompt.warnings)} warning(s)" + (":" if prompt.warnings else "."))
    for warning in prompt.warnings:
        print(f"  {warning}")


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m knowledge.kb_cli list`), same behaviour as `explainer kb`."""
    import sys

    from common.errors import exit_code

    parser = argparse.ArgumentParser(prog="explainer")
    add_parser(parser.add_subparsers(dest="verb", required=True))
    args = parser.parse_args(["kb", *(sys.argv[1:] if argv is None else argv)])
    return exit_code(lambda: args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
