"""A source's id and the short name people use for it, from its title and repository."""

from __future__ import annotations

import re


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _repo_name(github: str | None) -> str | None:
    if not github:
        return None
    name = github.rstrip("/").split("/")[-1].removesuffix(".git")
    return name if name and "github.com" not in name else None


def source_id_for(model: str, github: str | None, summary: str = "") -> str:
    """The title's lead word ("FeatSharp: Your Vision..." -> featsharp), else a one-word name the
    repository holds ("RIFE" in hzwer/ECCV2022-RIFE -> rife), else the repository's name (kky7/MSSNet
    -> mssnet), else the name the summary gives its model (DeepLabv3+ -> deeplabv3), else the
    first words of the title."""
    head = model.split(":")[0].strip()
    if ":" in model and len(head.split()) <= 2:
        return _slug(head)  # the name the paper gives itself, even when its code lives in a toolkit
    repo = _repo_name(github)
    if repo and len(model.split()) == 1 and _slug(model) in _slug(repo).split("-"):
        return _slug(model)
    if repo:
        return _slug(repo)
    given = _given(summary)
    if given:
        return _slug(given)
    return _slug(" ".join(model.split()[:4]))[:40].strip("-")


def _given(summary: str) -> str | None:
    from knowledge.imports.phrasing import imports_language

    return imports_language().given_name(summary) if summary else None


def short_name_for(model: str, github: str | None, summary: str) -> str | None:
    """The name a person would use: 'Real-ESRGAN' for 'Real-ESRGAN: Training ...', 'MSSNet' for
    'Deblur-MSSNet-GoPro' with the repository kky7/MSSNet, 'EASIER' when the summary writes the
    repository's name so; None when only the title names the source."""
    head = model.split(":")[0].strip()
    repo = _repo_name(github)
    if repo:
        for text in (model, summary):
            m = re.search(rf"(?<![A-Za-z0-9]){re.escape(repo)}(?![A-Za-z0-9])", text, re.I)
            if m:
                return m.group(0)
    if ":" in model and len(head.split()) <= 3:
        return head
    if len(model.split()) <= 2:
        return model
    if repo and re.fullmatch(r"[A-Z][A-Z0-9]{2,7}", repo):
        return repo  # an acronym as the repository's name ("DAIN" for "Depth-Aware Video Frame ...")
    return _given(summary)
