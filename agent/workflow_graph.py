"""The answer's workflow as a node graph: Input -> processing -> Model -> Output, with what flows on each edge.

Node contents are the workflow steps (card facts); edge labels are the steps' own `passes` labels
from the source's card (what flows to the next stage), so each source says what its model outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.answer import WORKFLOW_STAGES

STAGE_TITLES = {
    "input": "Input",
    "preprocess": "Preprocess",
    "model": "Model",
    "postprocess": "Postprocess",
    "output": "Output",
}


@dataclass
class Node:
    stage: str
    title: str
    steps: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    passes: str | None = None  # what the node's last step hands to the next node (from the card)


@dataclass
class Edge:
    source: int
    target: int
    label: str


def build_graph(answer, model_name: str | None = None) -> tuple[list[Node], list[Edge]]:
    nodes: list[Node] = []
    for stage in WORKFLOW_STAGES:
        steps = [w for w in answer.workflow if w.stage == stage]
        if not steps:
            continue
        title = STAGE_TITLES[stage]
        if stage == "model" and model_name:
            title = f"Model: {model_name}"
        node = Node(stage=stage, title=title, steps=[w.text for w in steps])
        node.sources = list(dict.fromkeys(s for w in steps for s in w.sources))
        node.passes = next((w.passes for w in reversed(steps) if w.passes), None)
        nodes.append(node)
    edges = [Edge(i, i + 1, _flow_after(nodes[i])) for i in range(len(nodes) - 1)]
    return nodes, edges


def _flow_after(node: Node) -> str:
    """What the node hands on: its last step's `passes` label from the card; a plain fallback for
    cards that do not say (an imported card), never a guess about what the model outputs."""
    return node.passes or "output of this step"


def mermaid(answer, model_name: str | None = None) -> str:
    """A mermaid flowchart of the workflow (for Markdown)."""
    nodes, edges = build_graph(answer, model_name)
    if not nodes:
        return ""
    lines = ["flowchart LR"]
    for i, node in enumerate(nodes):
        shape = ('(["', '"])') if node.stage in ("input", "output") else ('["', '"]')
        lines.append(f"  n{i}{shape[0]}{_mm(node.title)}{shape[1]}")
    for edge in edges:
        lines.append(f'  n{edge.source} -->|"{_mm(edge.label)}"| n{edge.target}')
    return "\n".join(lines)


def _mm(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", " ")
