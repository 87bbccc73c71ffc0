"""YAML text to Python with libyaml's C parser where PyYAML has it (about 10x the pure-Python
parser: the language data is read on every cold `explainer ask`)."""

from __future__ import annotations

import yaml

YAMLError = yaml.YAMLError
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str) -> object:
    """Safe loading only (no arbitrary Python objects), like yaml.safe_load."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
