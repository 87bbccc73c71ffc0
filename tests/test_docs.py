"""The documented contracts are generated from the pydantic models and must match them."""

import importlib.util

from tests.constants import ROOT


def test_generated_docs_match_the_models():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for path, text in gen.generated().items():
        assert path.read_text() == text, f"{path.name} is stale: run python scripts/gen_docs.py"


def test_readme_points_at_nothing_outside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme
    for doc in ("docs/json-contract.md", "docs/card-format.md", "docs/python-api.md"):
        assert doc in readme and (ROOT / doc).is_file()
