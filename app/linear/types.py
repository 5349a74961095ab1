"""What the Linear adapter hands the pipeline: a plain frozen issue, read from Linear's JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LinearIssue:
    identifier: str  # "ENG-123"
    title: str
    description: str  # Markdown; empty when the issue has none
    url: str
    state: str  # the workflow state's name, e.g. "In Progress"
    state_type: str  # triage, backlog, unstarted, started, completed, canceled
    priority: int  # 0 none, 1 urgent, 2 high, 3 medium, 4 low
    priority_label: str
    labels: tuple[str, ...]
    parent: tuple[str, str] | None  # (identifier, title)
    project: str | None  # the project's name


def parse_issue(node: Mapping[str, Any]) -> LinearIssue | None:
    """The issue in one alias of Linear's answer, or None when it is not shaped as asked."""
    state = node.get("state")
    labels = node.get("labels")
    parent = node.get("parent")
    project = node.get("project")
    priority = node.get("priority")
    description = node.get("description")
    required = (node.get("identifier"), node.get("title"), node.get("url"))
    if not all(isinstance(value, str) for value in required):
        return None
    if not isinstance(state, Mapping) or not isinstance(labels, Mapping):
        return None
    # Linear types priority as Float; its values are the integers 0-4.
    if isinstance(priority, bool) or not isinstance(priority, int | float):
        return None
    label_nodes = labels.get("nodes")
    if not isinstance(label_nodes, list):
        return None
    return LinearIssue(
        identifier=node["identifier"],
        title=node["title"],
        description=description if isinstance(description, str) else "",
        url=node["url"],
        state=_text(state.get("name")),
        state_type=_text(state.get("type")),
        priority=round(priority),
        priority_label=_text(node.get("priorityLabel")),
        labels=tuple(
            n["name"]
            for n in label_nodes
            if isinstance(n, Mapping) and isinstance(n.get("name"), str)
        ),
        parent=(
            (_text(parent.get("identifier")), _text(parent.get("title")))
            if isinstance(parent, Mapping)
            else None
        ),
        project=_text(project.get("name")) if isinstance(project, Mapping) else None,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
