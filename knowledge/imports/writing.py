"""What `kb import` writes: one card per source, tasks.json, capabilities.json and prompt.json,
merged into a folder that may already hold cards; computed first (--dry-run), then written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from common.files import atomic_write_text, check_writable, make_folder
from knowledge.errors import KnowledgeError
from knowledge.imports.parse import SeedPrompt, parse_seed
from knowledge.schema import Fact, Prompt, Source, Task
from knowledge.store import PACKAGE_CARDS, SPECIAL_FILES


def card_json(source: Source, facts: list[Fact], origin: str, position: int = 0) -> dict:
    return {
        "position": position,
        "source": source.model_dump(exclude_none=True, exclude_defaults=True)
        | {"kind": source.kind, "links": source.links.model_dump(exclude_none=True)},
        "imported_from": origin,
        "facts": [
            f.model_dump(exclude={"source"}, exclude_none=True, exclude_defaults=True) | {"kind": f.kind}
            for f in facts
        ],
    }


@dataclass
class ImportPlan:
    """What `kb import` writes (or, with --dry-run, would write) and every warning."""

    prompt: SeedPrompt
    cards_dir: Path
    files: dict[Path, str]  # path -> the JSON text to write
    replaced: list[Path]  # existing card files the import replaces (--force)


def _read_seed(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read seed prompt {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KnowledgeError(f"seed prompt {path} is not UTF-8 text") from None


def _json_text(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _existing(directory: Path, name: str) -> dict | None:
    path = directory / name
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot read it to add the imported cards ({exc})") from None


def plan_import(
    path: str | Path, cards_dir: str | Path, force: bool = False, with_packaged: bool = False
) -> ImportPlan:
    """Everything the import of `path` into `cards_dir` writes, computed without writing.

    A directory that already holds cards keeps them: the new sources are added and tasks.json /
    capabilities.json are merged. An existing card with an imported source's id is refused unless
    `force`. `with_packaged`: start the directory from the packaged cards (a mixed set).
    """
    path, directory = Path(path), Path(cards_dir)
    text = _read_seed(path)
    origin = f"seed:{path.name}"
    files: dict[Path, str] = {}
    if with_packaged:
        for card in sorted(PACKAGE_CARDS.glob("*.json")):
            if card.name == "prompt.json" or (directory / card.name).exists():
                continue
            card_text = card.read_text(encoding="utf-8")
            if card.name not in SPECIAL_FILES:
                # "recommended" means recommended by the prompt of these cards, now the imported one
                data = json.loads(card_text)
                data["source"]["role"] = "related"
                card_text = _json_text(data)
            files[directory / card.name] = card_text

    def current(name: str) -> dict | None:
        target = directory / name
        if target in files:
            return json.loads(files[target])
        return _existing(directory, name)

    known_tasks = current("tasks.json") or json.loads(
        (PACKAGE_CARDS / "tasks.json").read_text(encoding="utf-8")
    )
    try:
        vocabulary = {t["id"]: Task.model_validate(t) for t in known_tasks.get("tasks", [])}
    except (ValidationError, TypeError, KeyError) as exc:
        raise KnowledgeError(
            f"{directory / 'tasks.json'}: malformed tasks, cannot link to them ({exc})"
        ) from None
    prompt = parse_seed(text, vocabulary, origin)

    ids = {s.id for s in prompt.sources}
    replaced = [directory / f"{sid}.json" for sid in ids if (directory / f"{sid}.json").exists()]
    clash = [p for p in replaced if p not in files]
    if clash and not force:
        raise KnowledgeError(f"{sorted(clash)[0]} already exists (use --force to overwrite)")
    existing_cards = (
        [p for p in directory.glob("*.json") if p.name not in SPECIAL_FILES] if directory.is_dir() else []
    )
    start = 1 + max(
        [0]
        + [_position(p) for p in existing_cards if p.stem not in ids]
        + [json.loads(t).get("position", 0) for p, t in files.items() if p.name not in SPECIAL_FILES]
    )
    for position, source in enumerate(prompt.sources, start=start):
        facts = [f for f in prompt.facts if f.source == source.id]
        files[directory / f"{source.id}.json"] = _json_text(card_json(source, facts, origin, position))

    if prompt.tasks:
        tasks = known_tasks.get("tasks", []) + [
            t.model_dump(exclude_defaults=True) | {"id": t.id} for t in prompt.tasks
        ]
        files[directory / "tasks.json"] = _json_text({"tasks": tasks})
    old_caps = (current("capabilities.json") or {}).get("capabilities", [])
    caps = [c for c in old_caps if c.get("source") not in ids]
    caps += [
        c.model_dump(exclude_defaults=True)
        | {"source": c.source, "task": c.task, "role": c.role, "input": c.input, "output": c.output}
        for c in prompt.capabilities
    ]
    files[directory / "capabilities.json"] = _json_text({"capabilities": caps})
    files[directory / "prompt.json"] = _json_text(
        Prompt(question=prompt.question, imported_from=origin).model_dump(exclude_none=True)
    )
    return ImportPlan(prompt=prompt, cards_dir=directory, files=files, replaced=sorted(replaced))


def _position(path: Path) -> int:
    try:
        return int(json.loads(path.read_text(encoding="utf-8")).get("position", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def write_plan(plan: ImportPlan) -> list[Path]:
    """Write the plan's files, each atomically, after checking the folder can be written."""
    check_writable(plan.cards_dir, folder=True)
    make_folder(plan.cards_dir)
    return [atomic_write_text(target, text) for target, text in plan.files.items()]


def import_seed(
    path: str | Path, cards_dir: str | Path, force: bool = False, with_packaged: bool = False
) -> list[Path]:
    """Write one card file per source of the seed prompt at `path` into `cards_dir` (plus
    tasks.json, capabilities.json and prompt.json). Returns the written source-card paths."""
    plan = plan_import(path, cards_dir, force=force, with_packaged=with_packaged)
    write_plan(plan)
    return [plan.cards_dir / f"{s.id}.json" for s in plan.prompt.sources]
