"""`explainer report`: the answer, the demo's images in DIR/assets/ (relative links), metrics, provenance."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import shutil
from importlib import metadata
from pathlib import Path

from agent.errors import AgentError
from common.files import atomic_path, check_writable, make_folder, prepare_folder

_PACKAGES = (
    "torch",
    "numpy",
    "pillow",
    "safetensors",
    "scikit-image",
    "matplotlib",
    "rich",
    "jinja2",
    "pydantic",
    "rank-bm25",
    "langchain-core",
)


def package_versions() -> list[tuple[str, str]]:
    out = []
    for name in _PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return out


def provenance(demo, kb=None) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("python", platform.python_version()), ("platform", platform.platform())]
    try:
        rows.append(("explainer", metadata.version("restoration-explainer")))
    except metadata.PackageNotFoundError:
        pass
    rows += [(f"version: {name}", v) for name, v in package_versions()]
    if kb is not None and getattr(kb, "digest", None):
        rows.append(("knowledge cards digest", str(kb.digest)[:16]))
    if demo is not None and demo.stats is not None:
        s, w = demo.stats, demo.stats.weights
        rows.append(("weights provenance", demo.provenance_line))
        if demo.weights_reason:
            rows.append(("why these weights", demo.weights_reason))
        rows += [
            ("weights", w.name + (" (provisional)" if w.provisional else "")),
            ("weights SHA-256", w.sha256 or "—"),
            ("weights config (wf, scale, vscale)", str(w.config)),
            ("device", s.device),
            ("precision", s.precision),
            ("tile", f"{s.tile[0]}x{s.tile[1]} px" if s.tile else "whole image"),
            ("tiles", str(s.n_tiles)),
            ("input size", "x".join(map(str, s.input_size))),
            ("output size", "x".join(map(str, s.output_size))),
        ]
    return rows


# The files run_demo writes: only these are replaced or removed in DIR/assets/ (anything else the
# person put there stays).
_DEMO_FILE = re.compile(
    r"(input|restored|enlarged_bicubic|crop_(before|after|reference)|zoom_strip|difference|stage_[1-6]"
    r"|stages|spectrum|early_exit|streamline)\.png"
)


def report_path(output) -> Path:
    """The report file -o names: DIR/ (or an existing folder) means DIR/report.md."""
    text = os.fspath(output)
    path = Path(text)
    return path / "report.md" if text.endswith(("/", os.sep)) or path.is_dir() else path


def write_report(
    question: str,
    output: Path,
    image=None,
    force: bool = False,
    kb=None,
    demo=None,
    image_name: str | None = None,
    **demo_options,
) -> Path:
    """Write DIR/report.md (+ DIR/assets/). Refuses to replace an existing report without force.

    `image`: a path (or RGB array) to run the demo on; or pass a finished `demo` whose files are
    already inside DIR/assets/. Everything is checked before the work; the demo is made in a
    hidden folder and moved into assets/ only with the report, so a failure or Ctrl-C leaves the
    earlier report and its images as they were. No demo runs when the question abstains.
    """
    from agent.compose import answer_question, attach_demo, load_default_kb
    from agent.demo.folders import fresh_dir
    from agent.demo.run import check_demo_inputs, run_demo
    from agent.demo.trigger import asks_about_streamlining, demo_wanted, question_factor
    from agent.render import _env, illustration_links, render_demo_markdown, render_markdown
    from common.textsafe import clean_line

    output = report_path(output)
    if output.suffix.lower() != ".md":
        raise AgentError(f"the report must be a .md file, got {clean_line(str(output))}")
    if output.exists() and not force:
        raise AgentError(f"{clean_line(str(output))} already exists (use --force to replace it)")
    if not clean_line(question or ""):
        raise AgentError("the question is empty")
    assets = output.parent / "assets"
    picture_size = None
    if image is not None and demo is None:
        picture_size = check_demo_inputs(
            image, demo_options.get("reference"), demo_options.get("upscale") or 1
        )
        if _demo_files(assets) and not force:
            raise AgentError(f"{clean_line(str(assets))} already has files (use --force to replace them)")
    check_writable(output)
    kb = kb if kb is not None else load_default_kb()

    answer = answer_question(  # the full explanation
        question, kb=kb, long=True, picture=image is not None, picture_size=picture_size
    )
    prepare_folder(output.parent)  # the output-folder rule: the report's folder may be new, not its parent
    with fresh_dir(output.parent, ".assets-new") as staging:
        if demo is None and image is not None and demo_wanted(answer, question):
            if demo_options.get("card_task") is None:  # the question's task: a hint for the weights
                demo_options["card_task"] = answer.task.id if answer.task else None
            demo_options.setdefault("streamline", asks_about_streamlining(answer))
            if not demo_options.get("upscale"):  # none given: the factor the question asks for
                asked = None if demo_options.get("reference") else question_factor(answer)
                demo_options["upscale"] = asked or 1
            demo = run_demo(image, staging, image_name=image_name, **demo_options)
            demo.files = {name: assets / path.name for name, path in demo.files.items()}
            demo.out_dir = assets
        if demo is not None:
            attach_demo(answer, demo)
        links = {
            name: os.path.relpath(path, output.parent).replace(os.sep, "/")
            for name, path in (demo.files.items() if demo else [])
        }
        answer_md = render_markdown(
            answer, kb, heading_level=2, demo_links=illustration_links(links), title="Answer"
        )
        text = (
            _env()
            .get_template("report.md.j2")
            .render(
                answer=answer,
                answer_md=answer_md,
                demo=demo,
                links=links,
                demo_md=render_demo_markdown(demo, links, heading_level=2) if demo is not None else "",
                provenance=provenance(demo, kb),
                created=_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            )
        )
        with atomic_path(output) as tmp:  # the report and its images change together
            tmp.write_text(text, encoding="utf-8")
            if image is not None or force:
                _replace_demo_files(assets, staging)
        shutil.rmtree(staging, ignore_errors=True)
    return output


def _demo_files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if _DEMO_FILE.fullmatch(p.name)]
    except OSError:
        return []


def _replace_demo_files(assets: Path, staging: Path) -> None:
    """The old demo's images go, the new ones (if any) take their place; other files stay."""
    new = [p for p in staging.iterdir() if p.is_file()]  # a fresh folder: all of it is the new demo's
    for old in _demo_files(assets):
        old.unlink()
    if new:
        make_folder(assets)
        for path in new:
            os.replace(path, assets / path.name)
    elif assets.is_dir() and not any(assets.iterdir()):
        assets.rmdir()
