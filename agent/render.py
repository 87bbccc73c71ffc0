"""Render an Answer: rich terminal output, Markdown (numbered citations, mermaid), or JSON.

The prose lives in jinja2 templates (templates/); this module supplies the pieces rich draws
itself (headings, the workflow node graph, the sources table, the demo preview). The console they
are drawn on (width, colour, pipes) is agent.console's.
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from agent.answer import Answer
from agent.console import make_console
from agent.demo.illustrate import measured_beside_claims  # torch-free
from agent.workflow_graph import build_graph, mermaid
from common.textsafe import strip_terminal_codes

ARTEFACT_TITLES = {
    "crops": "before/after crops",
    "stages": "the six stage outputs",
    "spectrum": "the high-frequency spectrum",
}


@lru_cache(maxsize=1)
def _env():
    import jinja2
    from rich.markup import escape

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("templates", ""),  # works from a wheel too
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["m"] = lambda s: escape(strip_terminal_codes(str(s)))
    env.filters["md"] = markdown_escape
    env.filters["code"] = code_span
    env.filters["plain"] = lambda s: " ".join(strip_terminal_codes(str(s)).split())  # for @@ directive args
    return env


def markdown_escape(text) -> str:
    """Neutralise Markdown/HTML control characters in text from users, files or cards, only where
    Markdown reads them: an underscore inside a word (coffee_small.png) and a # inside a line stay."""
    text = strip_terminal_codes(str(text))
    text = re.sub(r"([\\`*<>\[\]|])", r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    return re.sub(r"^(\s*)#", r"\1\\#", text, flags=re.M)


def code_span(text) -> str:
    """`text` as a Markdown code span, shown literally (no backslash escapes work inside one)."""
    text = " ".join(strip_terminal_codes(str(text)).split())
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _split_claims(answer: Answer):
    """The task section's claims, and the others with their index (illustrations are keyed by it);
    a claim already shown as a direct answer or beside its source is not repeated."""
    task_claims = answer.task_claims if not answer.abstained else []
    shown = set(answer.why.values()) | {c.text for c in answer.direct_answer}
    task_claims = [c for c in task_claims if c.text not in shown]
    other = [
        (i, c)
        for i, c in enumerate(answer.claims)
        if c.section not in ("task", "comparison") or answer.abstained
    ]
    other = [(i, c) for i, c in other if c.text not in shown]
    return task_claims, other


_WHY_PREFIX = re.compile(r"^Relevance to the question:\s*", re.I)


def why_line(answer: Answer, source_id: str) -> str:
    """The card's why-it-matters text for a source, without its label."""
    return _WHY_PREFIX.sub("", answer.why.get(source_id, ""))


def _model_name(answer: Answer, kb=None) -> str | None:
    ids = [s for w in answer.workflow if w.stage == "model" for s in w.sources]
    if not ids:
        return None
    if kb is not None and ids[0] in kb.sources:
        return kb.sources[ids[0]].name
    titles = {s.id: s.title for s in answer.sources}
    return titles.get(ids[0], ids[0]).split(":")[0]


# -- terminal --------------------------------------------------------------------------------------


def render_terminal(answer: Answer, console=None, kb=None) -> None:
    """Print the answer with rich: headings, workflow node graph, sources table, demo preview."""
    from rich.rule import Rule
    from rich.text import Text

    console = console or make_console()
    task_claims, other = _split_claims(answer)
    demo = answer.demo
    demo_files = _demo_illustration_files(demo) if demo is not None else {}
    text = (
        _env()
        .get_template("answer_terminal.j2")
        .render(
            answer=answer,
            task_claims=task_claims,
            other_claims=other,
            demo_files=demo_files,
            artefact_titles=ARTEFACT_TITLES,
            measured=measured_beside_claims(answer),
        )
    )
    buffer: list[str] = []

    def flush():
        chunk = "\n".join(buffer).strip("\n")
        if chunk:
            console.print(Text.from_markup(chunk), soft_wrap=getattr(console, "unwrapped_prose", False))
        buffer.clear()

    for line in text.splitlines():
        if not line.startswith("@@"):
            buffer.append(line)
            continue
        flush()
        directive, _, arg = line[2:].partition(" ")
        if directive == "rule":
            console.print()
            console.print(Rule(Text(arg, style="bold"), align="left", style="cyan"))
        elif directive == "workflow":
            console.print(workflow_renderable(answer, kb))
        elif directive == "sources":
            # a URL is never split: a list (one whole URL a line) where the table's column is too narrow
            console.print(
                sources_table(answer, kb)
                if _table_fits(answer, console)
                else sources_list(answer, links=console.color_system is not None)
            )
        elif directive == "demo":
            console.print(demo_renderable(demo, console))
    flush()


def workflow_renderable(answer: Answer, kb=None):
    """Input -> ... -> Output as stacked node boxes joined by arrows labelled with what flows."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    nodes, edges = build_graph(answer, _model_name(answer, kb))
    parts: list[Any] = []  # panels and the arrows between them
    for i, node in enumerate(nodes):
        body = Text()
        for j, step in enumerate(node.steps):
            if j:
                body.append("\n")
            body.append("• " + strip_terminal_codes(step))
        style = (
            "green" if node.stage in ("input", "output") else ("magenta" if node.stage == "model" else "blue")
        )
        parts.append(
            Panel(
                body,
                title=Text(f"[{i + 1}] {node.title}", style=f"bold {style}"),
                title_align="left",
                border_style=style,
                expand=True,
            )
        )
        if i < len(edges):
            arrow = Text("      │ ", style="dim")
            arrow.append(edges[i].label, style="italic")
            parts.append(arrow)
            parts.append(Text("      ▼", style="dim"))
    return Group(*parts)


def sources_table(answer: Answer, kb=None):
    from rich.style import Style
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=True, header_style="bold", expand=True, show_lines=False)
    table.add_column("#", justify="right", width=3)
    table.add_column("Source", ratio=3)
    if answer.why:
        table.add_column("Why it matters here", ratio=4)
    longest = max((len(u) for _, _, urls in _grouped_refs(answer) for u in urls), default=10)
    table.add_column("Links (clickable)", no_wrap=True, overflow="ignore", ratio=3, min_width=longest)
    for n, (sid, title, urls) in enumerate(_grouped_refs(answer), 1):
        links = Text()
        for k, url in enumerate(urls):
            if k:
                links.append("\n")
            links.append(url, style=Style(link=url, underline=True))
        row: list[Any] = [str(n), Text(f"{title} ({sid})")]
        if answer.why:
            row.append(Text(strip_terminal_codes(why_line(answer, sid))))
        table.add_row(*row, links)
    return table


def sources_list(answer: Answer, links: bool = False):
    """Each source, why it matters, and each URL whole on a line of its own (never folded: a narrow
    terminal wraps it on screen, and copying gives the whole link back)."""
    from rich.console import Group
    from rich.style import Style
    from rich.text import Text

    parts = []
    for n, (sid, title, urls) in enumerate(_grouped_refs(answer), 1):
        parts.append(Text(f"[{n}] {title} ({sid})"))
        if answer.why.get(sid):
            parts.append(Text(f"    Why it matters here: {strip_terminal_codes(why_line(answer, sid))}"))
        for url in urls:
            parts.append(
                Text(
                    "    " + url,
                    no_wrap=True,
                    overflow="ignore",
                    style=Style(link=url, underline=True) if links else "",
                )
            )
    return Group(*parts)


def _table_fits(answer: Answer, console) -> bool:
    """The sources table only where its links column holds the longest URL whole."""
    longest = max((len(u) for _, _, urls in _grouped_refs(answer) for u in urls), default=0)
    return console.color_system is not None and console.width >= 3 * longest


def _grouped_refs(answer: Answer) -> list[tuple[str, str, list[str]]]:
    grouped: dict[str, tuple[str, list[str]]] = {}
    for ref in answer.sources:
        grouped.setdefault(ref.id, (ref.title, []))[1].append(ref.url)
    return [(sid, title, urls) for sid, (title, urls) in grouped.items()]


# illustration name -> the demo file that shows it
ILLUSTRATION_FILES = {"crops": "after_crop", "stages": "stages", "spectrum": "spectrum"}


def illustration_links(file_links: dict[str, str]) -> dict[str, str]:
    """Demo file name -> link, narrowed to the illustrations shown beside claims."""
    return {k: file_links[v] for k, v in ILLUSTRATION_FILES.items() if v in file_links}


def _demo_illustration_files(demo) -> dict[str, Path]:
    files = getattr(demo, "files", {}) or {}
    return {k: Path(files[v]).resolve() for k, v in ILLUSTRATION_FILES.items() if files.get(v)}


def demo_renderable(demo, console):
    """The demo for the terminal (agent.demo.terminal)."""
    from agent.demo.terminal import demo_renderable as renderable

    return renderable(demo, console)


# -- markdown --------------------------------------------------------------------------------------


def render_markdown(
    answer: Answer,
    kb=None,
    heading_level: int = 1,
    demo_links: dict[str, str] | None = None,
    title: str = "Answer",
) -> str:
    """Markdown with numbered citations and a mermaid workflow graph.

    `demo_links`: artefact name ("crops", "stages", "spectrum") -> link to show beside claims.
    """
    refs = [
        {"id": sid, "title": title_, "urls": urls, "why": why_line(answer, sid)}
        for sid, title_, urls in _grouped_refs(answer)
    ]
    numbers = {ref["id"]: n for n, ref in enumerate(refs, 1)}

    def cite(ids) -> str:
        return "".join(f"[{numbers[i]}]" for i in dict.fromkeys(ids) if i in numbers)

    task_claims, other = _split_claims(answer)
    nodes, edges = build_graph(answer, _model_name(answer, kb))
    if demo_links is None and answer.demo is not None:
        demo_links = {k: v.as_uri() for k, v in _demo_illustration_files(answer.demo).items()}
    return (
        _env()
        .get_template("answer.md.j2")
        .render(
            answer=answer,
            refs=refs,
            cite=cite,
            task_claims=task_claims,
            other_claims=other,
            nodes=nodes,
            edges=edges,
            mermaid=mermaid(answer, _model_name(answer, kb)),
            heading_level=heading_level,
            title=title,
            demo_links=demo_links or {},
            artefact_titles=ARTEFACT_TITLES,
            measured=measured_beside_claims(answer),
        )
        .strip()
        + "\n"
    )


def render_demo_markdown(demo, links: dict[str, str], heading_level: int = 2) -> str:
    """The live demo's section in Markdown: images linked by `links` (relative to the Markdown file),
    the tables of agent.demo.tables, the weights' provenance line and why those weights."""
    from agent.demo.tables import demo_tables, markdown_table

    tables = {t.title: markdown_table(t, markdown_escape) for t in demo_tables(demo)}
    labels = {name: label for name, (label, _) in demo.labelled_files().items()}
    return (
        _env()
        .get_template("demo.md.j2")
        .render(demo=demo, links=links, h="#" * heading_level, tables=tables, labels=labels)
        .strip()
        + "\n"
    )


def demo_file_links(demo, base: Path | str) -> dict[str, str]:
    """Demo file name -> link relative to `base` (the folder the Markdown is written to)."""
    return {
        name: os.path.relpath(Path(path).resolve(), Path(base).resolve()).replace(os.sep, "/")
        for name, path in demo.files.items()
    }


def render_json(answer: Answer) -> str:
    return answer.to_json()


def render(answer: Answer, fmt: str, kb=None, file=None) -> None:
    """Write the answer to `file` (stdout) in `fmt`: terminal | markdown | json."""
    file = file or sys.stdout
    if fmt == "json":
        file.write(render_json(answer) + "\n")
    elif fmt == "markdown":
        if answer.demo is None:
            file.write(render_markdown(answer, kb))
        else:  # printed Markdown: the demo's files linked relative to the current folder
            links = demo_file_links(answer.demo, Path.cwd())
            file.write(render_markdown(answer, kb, demo_links=illustration_links(links)))
            file.write("\n" + render_demo_markdown(answer.demo, links, heading_level=2))
    else:
        render_terminal(answer, make_console(file), kb)
