"""The demo in the terminal (rich): why these weights, the crops and the labelled zoom strip (as
half-blocks on a colour terminal), the tables of agent.demo.tables, and the labelled files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.demo.result import DemoResult
from agent.demo.tables import Table, demo_tables
from common.textsafe import strip_terminal_codes


def rich_table(table: Table) -> Any:
    from rich.table import Table as RichTable

    out = RichTable(title=table.title, title_justify="left")
    for i, header in enumerate(table.headers):
        out.add_column(header, justify="left" if i == 0 or "Site" in header or header == "Stage" else "right")
    for row in table.rows:
        out.add_row(*row)
    return out


def demo_renderable(demo: DemoResult, console: Any) -> Any:
    """The demo: provenance and why, the crops and zoom strip, the tables, the offer, the files."""
    from rich.columns import Columns
    from rich.console import Group
    from rich.style import Style
    from rich.text import Text

    parts: list[Any] = []
    if demo.provenance_line:
        parts.append(Text(strip_terminal_codes(demo.provenance_line), style="bold"))
    if demo.weights_reason:
        parts.append(Text("why these weights: " + strip_terminal_codes(demo.weights_reason)))
    if demo.note:
        parts.append(Text(strip_terminal_codes(demo.note), style="yellow"))
    files = demo.files
    labels = {name: label for name, (label, _) in demo.labelled_files().items()}
    if console.color_system in ("truecolor", "256") and files.get("zoom_strip"):
        from agent.preview import half_block

        parts.append(Text(labels["zoom_strip"], style="bold"))
        parts.append(half_block(files["zoom_strip"], width=min(96, console.width - 2)))
    elif (
        console.color_system in ("truecolor", "256") and files.get("before_crop") and files.get("after_crop")
    ):
        from agent.preview import half_block

        before = Group(Text(demo.before_label.lower(), style="bold"), half_block(files["before_crop"]))
        after = Group(Text(f"after ({demo.after_label})", style="bold"), half_block(files["after_crop"]))
        parts.append(Columns([before, after], padding=(0, 3)))
    for table in demo_tables(demo):
        parts.append(rich_table(table))
        parts += [Text(strip_terminal_codes(n), style="dim") for n in table.notes]
        if table.title == "Measurements" and demo.detail is not None and demo.detail.summary:
            parts.append(Text("Fine detail: " + strip_terminal_codes(demo.detail.summary)))
    if demo.early_exit_summary:
        parts.append(Text(strip_terminal_codes(demo.early_exit_summary)))
    for line in demo.streamline_summary:
        parts.append(Text("• " + strip_terminal_codes(line)))
    if demo.offer:
        parts.append(Text("Try next: " + strip_terminal_codes(demo.offer), style="cyan"))
    listing = Text("Files:\n", style="bold")
    for label, path in demo.labelled_files().values():
        listing.append(f"  {label}: ", style="dim")
        listing.append(strip_terminal_codes(str(path)), style=Style(link=Path(path).resolve().as_uri()))
        listing.append("\n")
    parts.append(listing)
    return Group(*parts)
