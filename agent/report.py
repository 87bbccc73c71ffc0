"""`explainer report`: the answer, the demo's images in DIR/assets/ (relative links), metrics, provenance."""
from __future__ import annotations

import datetime as _dt
import os
import platform
from importlib import metadata
from pathlib import Path

from agent.errors import AgentError
from common.files import atomic_write_text

_PACKAGES = ("torch", "numpy", "pillow", "safetensors", "scikit-image", "matplotlib", "rich", "jinja2",
             "pydantic", "rank-bm25", "langchain-core")


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
        rows += [("weights", w.name + (" (provisional)" if w.provisional else "")),
                 ("weights SHA-256", w.sha256 or "—"),
                 ("weights config (wf, scale, vscale)", str(w.config)),
                 ("device", s.device), ("precision", s.precision),
                 ("tile", f"{s.tile} px" if s.tile else "whole image"), ("tiles", str(s.n_tiles)),
                 ("input size", "x".join(map(str, s.input_size))), ("output size", "x".join(map(str, s.output_size)))]
        rows += [(f"time: {k}", f"{v:.3f} s") for k, v in demo.timings.items()]
    return rows


def write_report(question: str, output: Path, image=None, force: bool = False, kb=None, demo=None,
                 image_name: str | None = None, **demo_options) -> Path:
    """Write DIR/report.md (+ DIR/assets/). Refuses to replace an existing report without force.

    `image`: a path (or RGB array) to run the demo on; or pass a finished `demo` whose files are
    already inside DIR/assets/.
    """
    from agent.compose import answer_question, attach_demo, load_default_kb
    from agent.render import STAGE_NAMES, _env, illustration_links, render_markdown
    from common.textsafe import clean_line

    output = Path(output)
    if output.suffix.lower() != ".md":
        raise AgentError(f"the report must be a .md file, got {clean_line(str(output))}")
    if output.exists() and not force:
        raise AgentError(f"{clean_line(str(output))} already exists (use --force to replace it)")
    if not clean_line(question or ""):
        raise AgentError("the question is empty")
    output.parent.mkdir(parents=True, exist_ok=True)
    assets = output.parent / "assets"
    kb = kb if kb is not None else load_default_kb()

    answer = answer_question(question, kb=kb)
    if demo is None and image is not None:
        from agent.demo import run_demo
        if assets.exists() and any(assets.iterdir()) and not force:
            raise AgentError(f"{clean_line(str(assets))} already has files (use --force to replace them)")
        demo = run_demo(image, assets, image_name=image_name, **demo_options)
    if demo is not None:
        attach_demo(answer, demo)

    links = {name: os.path.relpath(path, output.parent).replace(os.sep, "/")
             for name, path in (demo.files.items() if demo else [])}
    answer_md = render_markdown(answer, kb, heading_level=2, demo_links=illustration_links(links), title="Answer")
    text = _env().get_template("report.md.j2").render(
        answer=answer, answer_md=answer_md, demo=demo, links=links, stage_names=STAGE_NAMES,
        provenance=provenance(demo, kb),
        created=_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))
    atomic_write_text(output, text)
    return output

