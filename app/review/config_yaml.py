"""YAML for the repo config: PyYAML's safe loader, plus a duplicated key as a problem.

YAML says keys are unique, but PyYAML keeps the last of two silently; in a config that means
a setting written twice takes effect from whichever is lower in the file, unnoticed. Each
duplicate is recorded with its line (and the first one's), so it is reported with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

try:  # libyaml's parser, about 5 times faster: a 1 MB file is read on the event loop
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # a PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

KEY_SHOWN = 80  # characters of a key a problem repeats


def shown_key(key: str) -> str:
    """A key as a problem names it: one of a megabyte is named by its start."""
    return key if len(key) <= KEY_SHOWN else f"{key[: KEY_SHOWN - 1]}…"


class YamlProblem(ValueError):
    """Text that is not YAML at all: one readable line, with the position when known."""


class _Loader(_SafeLoader):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.duplicates: list[str] = []
        self.top_lines: dict[str, int] | None = None  # the root mapping's keys: first line

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, int] = {}
        if self.top_lines is None:  # the root is constructed first, before what it holds
            self.top_lines = seen
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = str(self.construct_object(key_node))
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(
                    f"line {line}: {shown_key(key)}: duplicate key (first on line {seen[key]})"
                )
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class Loaded:
    data: Any
    duplicates: list[str]  # one problem per duplicated key, with its line
    top_lines: dict[str, int]  # a top-level key -> the line it is first on

    def order(self, problems: list[str]) -> list[str]:
        """`problems` (each "line N: ..." or "key.path: ...") in the order of the file."""

        def line(problem: str) -> int:
            head = problem.split(":", 1)[0]
            if head.startswith("line ") and head[5:].isdigit():
                return int(head[5:])
            top = head.split(".", 1)[0].split("[", 1)[0]
            return self.top_lines.get(top, 1 << 30)

        return sorted(problems, key=line)  # stable: one key's problems keep their order


def load_yaml(text: str) -> Loaded:
    """The document's data, its duplicated keys and key lines; YamlProblem if not YAML."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        if "expected alphabetic or numeric character" in problem:
            # YAML reads a leading `*` as an alias: the usual cause is an unquoted glob.
            problem += " (a value starting with * or & must be quoted, as in '*.py')"
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise YamlProblem(f"{where}{problem}") from exc
    finally:
        loader.dispose()
    return Loaded(data, loader.duplicates, loader.top_lines or {})
