"""A chat saved as Markdown (`/save`): every turn's answer with its demo's tables, the demo images
copied into `NAME_assets/` beside it and linked relatively; nothing half-copied is left behind."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from agent.demo.result import DemoResult
from agent.errors import AgentError
from common.textsafe import clean_line


class DemoOnly:
    """A bare /demo in the conversation (no question): saved with its tables and pictures."""

    def __init__(self, demo: DemoResult):
        self.demo = demo


def save_conversation(turns: list, kb, path: Path, force: bool = False) -> Path:
    """Write `turns` (answers, and DemoOnly for a bare /demo) to `path` (.md added if missing)."""
    if path.suffix.lower() != ".md":
        path = path.with_suffix(".md")
    if path.exists() and not force:
        raise AgentError(f"{clean_line(str(path))} already exists (/save {clean_line(str(path))} --force)")
    if not turns:
        raise AgentError("nothing to save yet: ask a question (or run /demo) first")
    from common.files import atomic_write_text, check_writable, prepare_folder

    prepare_folder(check_writable(path).parent)
    assets = path.parent / f"{path.stem}_assets"
    had_assets = assets.exists()
    try:
        text = conversation_markdown(turns, kb, path, assets)
        atomic_write_text(path, text)
    except BaseException:
        if not had_assets:  # no half-copied images left beside a conversation that was not saved
            shutil.rmtree(assets, ignore_errors=True)
        raise
    return path


def conversation_markdown(turns: list, kb, path: Path, assets: Path) -> str:
    """The Markdown for `turns`, copying each demo's files into `assets` (a folder beside `path`)."""
    from agent.render import illustration_links, render_demo_markdown, render_markdown

    parts = ["# Conversation with the MSSNet explainer\n"]
    for n, turn in enumerate(turns, 1):
        links = {}
        if turn.demo is not None:
            turn_dir = assets / f"turn{n}"
            turn_dir.mkdir(parents=True, exist_ok=True)
            for name, file in turn.demo.files.items():
                dest = turn_dir / Path(file).name
                shutil.copyfile(file, dest)
                links[name] = os.path.relpath(dest, path.parent).replace(os.sep, "/")
        if isinstance(turn, DemoOnly):
            parts.append(f"## Turn {n}: /demo\n")
        else:
            parts.append(
                render_markdown(
                    turn,
                    kb,
                    heading_level=2,
                    title=f"Question {n}",
                    demo_links=illustration_links(links),
                )
            )
        if turn.demo is not None:  # the tables as well as the pictures
            parts.append(render_demo_markdown(turn.demo, links, heading_level=3))
    return "\n".join(parts)
