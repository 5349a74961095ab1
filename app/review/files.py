"""What a changed file is: skipped by default (and why), or which kind of backend file.

Both answers come from the path alone, so they are cheap on huge diffs and identical in the
CLI, the App and the benchmarks. Content-based judgement belongs to the rules.

Ignore globs are git's (`app.review.globs`): the repo config's entries are read as the lines of
a .gitignore, after the defaults, so a leading "!" brings back a default or an earlier entry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.review.globs import gitignore_lines, last_match

Kind = Literal["migration", "route", "model", "test", "docs", "other"]
MigrationFramework = Literal[
    "alembic", "django", "rails", "prisma", "flyway", "liquibase", "sql", "knex", "golang-migrate"
]


@dataclass(frozen=True, slots=True)
class FileKind:
    kind: Kind
    framework: MigrationFramework | None = None  # set for migrations only


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "bun.lock",
        "poetry.lock",
        "pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "cargo.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "mix.lock",
        "pubspec.lock",
        "podfile.lock",
        "packages.lock.json",
        "flake.lock",
        "gradle.lockfile",
        "package.resolved",
    }
)
_GENERATED = re.compile(
    r"(_pb2(_grpc)?\.pyi?|\.pb(\.gw)?\.go|\.pb\.(cc|h)|[._]generated\.\w+|\.gen\.go|\.g\.dart"
    r"|\.freezed\.dart|^zz_generated.*\.go|\.snap)$"
)
_GENERATED_DIRS = frozenset({"generated", "__generated__", "gen-src"})
_VENDORED_DIRS = frozenset(
    {
        "vendor",
        "node_modules",
        "third_party",
        "third-party",
        "bower_components",
        ".yarn",
        "site-packages",  # a committed virtualenv: Django's own migrations, not the project's
        "dist-packages",
    }
)
_MINIFIED = re.compile(r"\.min\.(js|css|mjs)$|\.(js|css)\.map$")
_BINARY_EXT = frozenset(
    [
        "png",
        "jpg",
        "jpeg",
        "gif",
        "webp",
        "ico",
        "bmp",
        "tif",
        "tiff",
        "psd",
        "pdf",
        "zip",
        "gz",
        "tgz",
        "bz2",
        "xz",
        "7z",
        "rar",
        "tar",
        "jar",
        "war",
        "ear",
        "whl",
        "egg",
        "so",
        "dylib",
        "dll",
        "exe",
        "bin",
        "o",
        "a",
        "lib",
        "pyc",
        "pyo",
        "class",
        "woff",
        "woff2",
        "ttf",
        "otf",
        "eot",
        "mp3",
        "mp4",
        "m4a",
        "mov",
        "avi",
        "webm",
        "wav",
        "ogg",
        "flac",
        "sqlite",
        "sqlite3",
        "db",
        "parquet",
        "avro",
        "xlsx",
        "xls",
        "docx",
        "doc",
        "pptx",
        "ppt",
        "keystore",
        "p12",
        "pfx",
        "jks",
        "dat",
    ]
)


def _schema_dump(name: str) -> bool:
    """A schema dump written by tools, not a migration: Rails' `structure.sql`
    (`<db>_structure.sql` with several databases), dbmate's or pg_dump's `schema.sql`."""
    if name in ("structure.sql", "schema.sql"):
        return True
    return name.endswith("_structure.sql") and not name[:1].isdigit()


def _default_reason(path: str) -> str | None:
    parts = path.lower().split("/")
    name = parts[-1]
    if name in _LOCK_FILES:
        return "lock file"
    if any(p in _VENDORED_DIRS for p in parts[:-1]):
        return "vendored"
    if _MINIFIED.search(name):
        return "minified"
    if _GENERATED.search(name) or any(p in _GENERATED_DIRS for p in parts[:-1]):
        return "generated"
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext in _BINARY_EXT:
        return "binary"
    if _schema_dump(name) or (name.endswith("schema.rb") and "db" in parts[:-1]):
        return "schema dump"  # written by the framework from the migrations
    return None


def ignored_reason(path: str, extra_ignore: Sequence[str] = ()) -> str | None:
    """Why `path` is not reviewed, or None when it is.

    `extra_ignore` comes from the repo config and is applied in order after the defaults, so
    `["!**/generated/**"]` brings generated code back and `["docs/**", "!docs/adr/**"]` works
    as it would in a .gitignore.
    """
    reason = _default_reason(path)
    entries = gitignore_lines(extra_ignore)
    decided = last_match(path, entries) if entries else None
    if decided is not None:
        ignored, index = decided
        reason = f"ignored by config ({entries[index]})" if ignored else None
    return reason


_TEST = re.compile(
    r"(^|/)(tests?|__tests__|spec|specs|testdata|test_utils)/"
    r"|(^|/)test_[^/]*\.py$|_test\.(py|go)$|\.(test|spec)\.[cm]?[jt]sx?$|_spec\.rb$"
    r"|(^|/)conftest\.py$|(Test|Tests|IT)\.(java|kt|cs)$"
)
_DOCS_EXT = re.compile(r"\.(md|markdown|rst|adoc|txt)$", re.IGNORECASE)
_DOCS_DIR = re.compile(r"(^|/)(docs?|documentation)/")
_DOCS_NAMES = frozenset({"license", "licence", "changelog", "authors", "contributing", "notice"})

_GOLANG_MIGRATE = re.compile(r"(^|/)\d+_[\w.-]+\.(up|down)\.sql$")
_FLYWAY = re.compile(r"(^|/)([VU]\d+([._]\d+)*|R)__[^/]+\.sql$")
_RAILS = re.compile(r"(^|/)db/migrate/\d+_[^/]*\.rb$")  # also a stray "x.rb.rb"
_PRISMA = re.compile(r"(^|/)migrations/[^/]+/migration\.sql$")
_DJANGO = re.compile(r"(^|/)migrations/\d{4}_\w+\.py$")
_ALEMBIC = re.compile(r"(^|/)(alembic|migrations|migration)/versions/(?!__init__\.py$)[^/]+\.py$")
# Atomic: the name is searched once for "changelog", not once per way of splitting it.
_LIQUIBASE = re.compile(r"(^|/)(?>[^/]*changelog)[^/]*\.(xml|ya?ml|json|sql)$|(^|/)changelogs?/")
_JS_MIGRATION = re.compile(r"(^|/)migrations?/[^/]+\.[cm]?[jt]s$")
_SQL_MIGRATION = re.compile(r"(^|/)(migrations?|migrate|db|database|schema)/.*\.sql$")

_ROUTE = re.compile(
    r"(^|/)(routes?|routers?|views?|controllers?|handlers?|endpoints?|api|resources)(/|\.py$)"
    r"|(^|/)urls\.py$|\.(controller|routes?|router|handler)\.[cm]?[jt]s$|_(controller|handler)\.(rb|go)$"
)
_MODEL = re.compile(
    r"(^|/)(models?|entities|entity|schemas?|tables)(/|\.py$)|\.entity\.[jt]s$|\.prisma$"
    r"|(^|/)db/(schema\.rb|structure\.sql)$|(^|/)(orm|tables)\.py$"
)


_MIGRATION_CHECKS: tuple[tuple[re.Pattern[str], MigrationFramework], ...] = (
    (_GOLANG_MIGRATE, "golang-migrate"),
    (_FLYWAY, "flyway"),
    (_RAILS, "rails"),
    (_PRISMA, "prisma"),
    (_DJANGO, "django"),
    (_ALEMBIC, "alembic"),
    (_LIQUIBASE, "liquibase"),
    (_JS_MIGRATION, "knex"),
    (_SQL_MIGRATION, "sql"),
)
# Every pattern above needs one of these in the path: most paths skip the nine regexes.
_MIGRATION_HINTS = ("migrat", "versions/", "changelog", ".sql")


def _migration_framework(path: str) -> MigrationFramework | None:
    if not any(hint in path for hint in _MIGRATION_HINTS):
        return None
    for pattern, framework in _MIGRATION_CHECKS:
        if pattern.search(path):
            return framework
    return None


def classify(path: str) -> FileKind:
    """The kind of backend file `path` is, judged from the path alone."""
    if _TEST.search(path):
        return FileKind("test")
    name = path.rsplit("/", 1)[-1].lower()
    if _DOCS_EXT.search(path) or name.split(".")[0] in _DOCS_NAMES:
        return FileKind("docs")
    if _schema_dump(name):
        return FileKind("model")
    if name in ("seeds.sql", "seed.sql"):  # data for a fresh database, run by hand
        return FileKind("other")
    framework = _migration_framework(path)
    if framework is not None:
        return FileKind("migration", framework)
    if _DOCS_DIR.search(path):
        return FileKind("docs")
    if _MODEL.search(path):
        return FileKind("model")
    if _ROUTE.search(path):
        return FileKind("route")
    return FileKind("other")


_CODE_EXT = frozenset(
    [
        "py",
        "pyi",
        "js",
        "jsx",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "go",
        "rb",
        "java",
        "kt",
        "kts",
        "scala",
        "rs",
        "cs",
        "php",
        "ex",
        "exs",
        "erl",
        "clj",
        "swift",
        "c",
        "cc",
        "cpp",
        "h",
        "hpp",
        "m",
        "sql",
        "prisma",
    ]
)


def is_code(path: str) -> bool:
    """Source code a reviewer reads as code (not config, data or prose)."""
    name = path.rsplit("/", 1)[-1]
    return "." in name and name.rsplit(".", 1)[-1].lower() in _CODE_EXT
