"""The answer's workflow as a node graph: Input -> processing -> Model -> Output, with what flows on each edge.

Node contents are the workflow steps (card facts); edge labels name the data passing between
stages, taking any numbers (such as the value range) verbatim from the steps' own text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.answer import WORKFLOW_STAGES

STAGE_TITLES = {"input": "Input", "preprocess": "Preprocess", "model": "Model",
                "postprocess": "Postprocess", "output": "Output"}


@dataclass
class Node:
    stage: str
    title: str
    steps: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


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
        nodes.append(node)
    edges = [Edge(i, i + 1, _flow_after(nodes[i])) for i in range(len(nodes) - 1)]
    return nodes, edges


def _flow_after(node: Node) -> str:
    text = " ".join(node.steps)
    if node.stage == "input":
        label = "RGB tensor"
        value_range = re.search(r"\[\s*0\s*,\s*1\s*\]", text)
        shape = re.search(r"B\s*[x×]\s*3\s*[x×]\s*H\s*[x×]\s*W", text)
        if value_range:
            label += f" in {value_range.group(0)}"
        return f"{label}, {shape.group(0)}" if shape else label
    if node.stage == "preprocess":
        return "padded tensor" if re.search(r"\bpad", text, re.I) else "prepared tensor"
    if node.stage == "model":
        return "restored tensor"
    if node.stage == "postprocess":
        bits = re.search(r"\b\d+-bit\b", text)
        return f"{bits.group(0)} image" if bits else "image"
    return "result"


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
