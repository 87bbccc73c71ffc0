"""Import a prompt in the seed's format into source cards (`explainer kb import`).

The work is split by job under knowledge/imports/: the prompt's format (seed_format), names and
ids (names), the task the sources share (tasks), facts with attributes and example questions
(facts), workflows from each entry's sentences (workflow), the whole reading (parse) and what is
written (writing). The language they read summaries with is knowledge/lang/<code>/imports.yml.
"""

from __future__ import annotations

from knowledge.imports.names import short_name_for, source_id_for
from knowledge.imports.parse import SeedPrompt, parse_seed
from knowledge.imports.seed_format import ImportWarning
from knowledge.imports.writing import ImportPlan, card_json, import_seed, plan_import, write_plan

__all__ = [
    "ImportPlan",
    "ImportWarning",
    "SeedPrompt",
    "card_json",
    "import_seed",
    "parse_seed",
    "plan_import",
    "short_name_for",
    "source_id_for",
    "write_plan",
]
