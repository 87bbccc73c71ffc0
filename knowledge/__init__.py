"""Source cards, seed-prompt import and the constrained retriever (never imports torch).

Exports are lazy so `import knowledge` stays instant.
"""

from __future__ import annotations

_EXPORTS = {
    "load_knowledge": "knowledge.store",
    "KnowledgeBase": "knowledge.store",
    "KnowledgeError": "knowledge.errors",
    "Source": "knowledge.schema",
    "Fact": "knowledge.schema",
    "Task": "knowledge.schema",
    "Capability": "knowledge.schema",
    "Links": "knowledge.schema",
    "EvidenceSearch": "knowledge.search",  # BM25 (+ dense once warmed up), no langchain import
    "parse_seed": "knowledge.seed_import",
    "import_seed": "knowledge.seed_import",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'knowledge' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
