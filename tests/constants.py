"""Paths and texts many tests share (one home instead of a copy per file)."""

from pathlib import Path

from agent.main_job import FOUNDING_QUESTION  # noqa: F401 - the seed prompt's question, as ./run main asks it

ROOT = Path(__file__).resolve().parents[1]  # the checkout
DATA = ROOT / "tests" / "data"  # tiny official-format checkpoints and their outputs
SHARED = ROOT.parent / "shared"  # the team's shared folder beside the checkout
TINY_WEIGHTS = DATA / "tiny_official_checkpoint.pt"

# the keys of `explainer ask --format json`, in order (docs/json-contract.md)
JSON_CONTRACT_KEYS = (
    "question",
    "abstained",
    "direct_answer",
    "task",
    "workflow",
    "claims",
    "sources",
    "caveats",
    "not_covered",
    "demo",
)
