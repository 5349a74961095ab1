"""How long parsing a large or hostile `.github/backend-review.yml` takes (`parse_repo_config`,
which the review job and the `config`/`ignore` commands run on the event loop).

    .venv/bin/python -m bench.config_parse

Prints, for each shape, the file's size, the wall time of the parse and what came of it: ok,
the number of problems and their characters, or the exception that escaped the parse or a
review's first match of a path against the accepted `ignore` list. Asserts nothing.
"""

from __future__ import annotations

import time

from app.review.files import ignored_reason
from app.review.repo_config import RepoConfig, RepoConfigError, parse_repo_config


def _list(n: int, glob: str) -> str:
    return "ignore:\n" + "".join(f"  - '{glob.format(i=i)}'\n" for i in range(n))


SHAPES: dict[str, str] = {
    "500 ordinary ignore globs": _list(500, "vendor{i}/**/*.py[co]"),
    "2,200 ordinary ignore globs": _list(2_200, "vendor{i}/**/*.py[co]"),
    "40,000 ignore globs (1 MB)": _list(40_000, "v{i}/**/*.py[co]"),
    "one glob of 8,188 '?'": _list(1, "?" * 8_188),
    "20 globs of 990 '?'": _list(20, "d{i}/" + "?" * 985),
    "500 globs of 1,000 '?'": _list(500, "d{i}/" + "?" * 990),
    "200 path_instructions": "path_instructions:\n"
    + "".join(f"  'app/m{i}/**': x\n" for i in range(200)),
    "40,000 path_instructions": "path_instructions:\n"
    + "".join(f"  'v{i}/**/*.py': x\n" for i in range(40_000)),
    "40,000 duplicate keys": "max_files: 3\n" * 40_000,
}


def _escaped(exc: Exception) -> str:
    return f"escaped: {type(exc).__module__}.{type(exc).__name__}: {exc}"


def _parsed(text: str) -> RepoConfig | str:
    try:
        return parse_repo_config(text)
    except RepoConfigError as exc:
        chars = sum(len(p) for p in exc.problems)
        return f"{len(exc.problems):,} problems, {chars:,} characters"
    except Exception as exc:  # noqa: BLE001 - what escaped before the limits: re2's error
        return _escaped(exc)


def _matched(config: RepoConfig) -> str:
    try:
        ignored_reason("vendor1/a.pyc", config.ignore)
    except Exception as exc:  # noqa: BLE001 - a review's crash, shown rather than raised
        return f"parsed, then a review's match {_escaped(exc)}"
    return "ok"


def main() -> None:
    for name, text in SHAPES.items():
        start = time.perf_counter()
        parsed = _parsed(text)
        took = time.perf_counter() - start
        outcome = parsed if isinstance(parsed, str) else _matched(parsed)
        print(f"{name:30} {len(text) / 1024:6.0f} KiB {took:6.2f} s  {outcome}")


if __name__ == "__main__":
    main()
