"""The layering docs/architecture.md describes, checked on the source: imports point down only.

Each module's imports are read with `ast` (nothing is imported), so a violation names the file
and the line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"

TOP_LEVEL = {"__init__", "__main__", "errors", "logs", "metrics", "runtime", "settings", "tracing"}
ADAPTERS = ("app.github", "app.llm", "app.linear", "app.store", "app.webhook_proxy")
ABOVE_ADAPTERS = ("app.jobs", "app.web", "app.cli", "app.admin", "app.runtime")
# Libraries that do I/O or need a process around them: the core never imports them.
IO_LIBRARIES = ("httpx", "httpx2", "githubkit", "anthropic", "sqlalchemy", "fastapi", "asyncio")


def imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def modules(package: str) -> Iterator[Path]:
    yield from sorted((APP / package).rglob("*.py"))


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_only_cross_cutting_modules_sit_at_the_top_of_app() -> None:
    loose = {p.stem for p in APP.glob("*.py")} - TOP_LEVEL
    assert loose == set(), f"give these a home (docs/architecture.md): {sorted(loose)}"


def test_the_core_imports_nothing_with_io_and_nothing_above_it() -> None:
    found = [
        f"{path.relative_to(APP.parent)}:{line} imports {name}"
        for path in modules("review")
        for line, name in imports(path)
        if under(name, IO_LIBRARIES)
        or (name.startswith("app.") and not under(name, ("app.review",)))
    ]
    assert found == []


def test_adapters_import_neither_each_other_nor_the_layers_above() -> None:
    found = []
    for adapter in ADAPTERS:
        for path in modules(adapter.removeprefix("app.")):
            for line, name in imports(path):
                others = tuple(a for a in ADAPTERS if a != adapter)
                if under(name, others + ABOVE_ADAPTERS):
                    found.append(f"{path.relative_to(APP.parent)}:{line} imports {name}")
    assert found == []


def test_adapters_take_a_small_config_not_the_settings() -> None:
    """The composition side builds each adapter's config (`AppCredentials`, `LLMConfig`, ...)."""
    # The setup flow writes the App's registration where the settings read it: one place for
    # the two file names. Nothing else of an adapter may read `app.settings`.
    allowed = {"github/manifest_flow.py"}
    found = [
        f"{path.relative_to(APP.parent)}:{line} imports {name}"
        for adapter in ADAPTERS
        for path in modules(adapter.removeprefix("app."))
        if path.relative_to(APP).as_posix() not in allowed
        for line, name in imports(path)
        if under(name, ("app.settings",))
    ]
    assert found == []


def test_sdks_stay_in_their_adapter() -> None:
    homes = {"anthropic": "llm", "githubkit": "github", "sqlalchemy": "store"}
    found = [
        f"{path.relative_to(APP.parent)}:{line} imports {name}"
        for path in sorted(APP.rglob("*.py"))
        for line, name in imports(path)
        for sdk, home in homes.items()
        if under(name, (sdk,))
        and path.relative_to(APP).parts[0] != home
        # The settings validate DATABASE_URL with SQLAlchemy's URL parser; admin reads its path.
        and path.relative_to(APP).as_posix() not in ("settings.py", "admin/common.py")
    ]
    assert found == []


def test_the_worker_command_is_built_by_the_composition_root_not_the_web_app() -> None:
    tree = ast.parse((APP / "cli" / "main.py").read_text(encoding="utf-8"))
    worker = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name in ("cmd_worker", "_run_worker")
    ]
    assert len(worker) == 2
    used = {
        n.module
        for f in worker
        for n in ast.walk(f)
        if isinstance(n, ast.ImportFrom) and n.module is not None
    } | {a.name for f in worker for n in ast.walk(f) if isinstance(n, ast.Import) for a in n.names}
    assert not any(under(name, ("app.web",)) for name in used)
    assert "app" in used  # `from app import runtime`
