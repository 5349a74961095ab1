"""YAML for the repo config: PyYAML's safe loader, plus a duplicated key as a problem.

YAML says keys are unique, but PyYAML keeps the last of two silently; in a config that means
a setting written twice takes effect from whichever is lower in the file, unnoticed. Each
duplicate is recorded with its line (and the first one's), so it is reported with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

try:  # libyaml's parser, about 5 times faster: a 1 MB file is read on the event loop
    from yaml import CSafeLoader as _FastLoader
except ImportError:  # a PyYAML built without libyaml
    from yaml import SafeLoader as _FastLoader  # type: ignore[assignment]

KEY_SHOWN = 80  # characters of a key a problem repeats


def shown_key(key: str) -> str:
    """A key as a problem names it: one of a megabyte is named by its start."""
    return key if len(key) <= KEY_SHOWN else f"{key[: KEY_SHOWN - 1]}…"


class YamlProblem(ValueError):
    """Text that is not YAML at all: one readable line, with the position when known."""


class _Checks:
    """What both loaders record beyond PyYAML: duplicated keys and the top-level keys' lines."""

    duplicates: list[str]
    top_lines: dict[str, int] | None

    if TYPE_CHECKING:  # the loader's own, which this mixin must not shadow

        def construct_object(self, node: Any, deep: bool = False) -> Any: ...

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
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)  # type: ignore[misc]
        return mapping


class _Loader(_Checks, _FastLoader):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.duplicates = []
        self.top_lines = None  # the root mapping's keys: first line


class _PureLoader(_Checks, yaml.SafeLoader):
    """PyYAML's own parser: what `_Loader` is where libyaml is missing (and its messages)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.duplicates = []
        self.top_lines = None


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


def load_yaml(text: str, loader_class: type[_Loader | _PureLoader] | None = None) -> Loaded:
    """The document's data, its duplicated keys and key lines; YamlProblem if not YAML."""
    loader: _Loader | _PureLoader | None = None
    try:
        # PyYAML's own reader rejects a control character while it is being built.
        loader = (loader_class or _Loader)(text)
        data = loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        raise YamlProblem(f"{_position(text, exc.position)}: {_unreadable(exc)}") from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(_problem(text, exc)) from exc
    finally:
        if loader is not None:
            loader.dispose()
    return Loaded(data, loader.duplicates, loader.top_lines or {})


def _problem(text: str, exc: yaml.YAMLError) -> str:
    """One line for a YAML error, the same from either parser (libyaml names less)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "not valid YAML"
    if mark is None:
        return problem
    at = _char_at(text, mark.line, mark.column)
    if "expected alphabetic or numeric character" in problem:
        # YAML reads a leading `*` as an alias: the usual cause is an unquoted glob.
        problem += " (a value starting with * or & must be quoted, as in '*.py')"
    elif "cannot start any token" in problem and at == "\t":
        problem = "found a tab that cannot start any token (YAML indents with spaces)"
    elif problem == "found undefined alias":  # libyaml leaves the alias out
        problem += f" '{_word_after(text, mark.line, mark.column)}'"
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


def _word_after(text: str, line: int, column: int) -> str:
    rest = text.split("\n", line + 1)[line][column + 1 : column + 1 + KEY_SHOWN]
    word = ""
    for ch in rest:
        if not (ch.isalnum() or ch in "_-."):
            break
        word += ch
    return word


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset)
    return f"line {line + 1}, column {offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def _unreadable(exc: yaml.reader.ReaderError) -> str:
    # Text (which is all we parse) gives the code point, as an int.
    char = exc.character
    code = ord(char) if isinstance(char, str) else char
    return f"U+{code:04X} is not allowed in YAML (a control character)"
