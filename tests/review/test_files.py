from __future__ import annotations

import pytest

from app.review.files import FileKind, classify, ignored_reason, is_code
from app.review.globs import (
    TOO_LARGE,
    GlobError,
    compile_globs,
    glob_problem,
    last_match,
    match_glob,
    set_problem,
)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("package-lock.json", "lock file"),
        ("services/api/poetry.lock", "lock file"),
        ("go.sum", "lock file"),
        (
            "venv/lib/python3.12/site-packages/django/contrib/auth/migrations/0001_initial.py",
            "vendored",
        ),
        ("db/structure.sql", "schema dump"),
        ("db/schema.rb", "schema dump"),
        ("db/animals_schema.rb", "schema dump"),
        ("vendor/github.com/x/y.go", "vendored"),
        ("web/node_modules/left-pad/index.js", "vendored"),
        ("static/app.min.js", "minified"),
        ("static/app.js.map", "minified"),
        ("proto/user_pb2.py", "generated"),
        ("api/user.pb.go", "generated"),
        ("src/__generated__/types.ts", "generated"),
        ("assets/logo.png", "binary"),
        ("fonts/Inter.woff2", "binary"),
        ("app/service.py", None),
        ("app/vendor_client.py", None),
        ("docs/lockfile-policy.md", None),
    ],
)
def test_default_ignores(path: str, reason: str | None) -> None:
    assert ignored_reason(path) == reason


def test_config_globs_add_and_remove_ignores() -> None:
    assert ignored_reason("fixtures/big.json", ["fixtures/**"]) == "ignored by config (fixtures/**)"
    assert ignored_reason("app/fixtures/big.json", ["fixtures/**"]) is None  # anchored: has "/"
    assert ignored_reason("a/b/snapshot.json", ["*.json"]) == "ignored by config (*.json)"
    # "!" un-ignores a default ...
    assert ignored_reason("src/__generated__/types.ts", ["!**/__generated__/**"]) is None
    # ... or an earlier entry; the last matching entry wins, as in .gitignore.
    patterns = ["docs/**", "!docs/adr/**"]
    assert ignored_reason("docs/adr/0001.md", patterns) is None
    assert ignored_reason("docs/guide.md", patterns) == "ignored by config (docs/**)"


@pytest.mark.parametrize(
    ("path", "pattern", "hit"),
    [
        ("a/b/c.py", "*.py", True),
        ("a/b/c.py", "a/*.py", False),
        ("a/b/c.py", "a/**/*.py", True),
        ("a/c.py", "a/**/c.py", True),
        ("a/b/c.py", "a", True),
        ("ab/c.py", "a", False),
    ],
)
def test_match_glob(path: str, pattern: str, hit: bool) -> None:
    assert match_glob(path, pattern) is hit


@pytest.mark.parametrize(
    ("path", "pattern", "hit"),
    [
        ("src/x.py", "src/[xy].py", True),  # a character class
        ("src/z.py", "src/[xy].py", False),
        ("src/z.py", "src/[!xy].py", True),
        ("a/b.pyc", "*.py[co]", True),
        ("a/b.py", "*.py[co]", False),
        ("build/out.o", "build/", True),  # a trailing "/" names a directory ...
        ("app/build/out.o", "build/", True),
        ("build", "build/", False),  # ... never a file of that name
        ("a/b/c", "**", True),
        ("a/x/y/b.py", "a/**/b.py", True),
        ("x/a/b.py", "a/**/b.py", False),  # anchored: it has a "/"
        ("!important.py", "\\!important.py", True),  # an escaped "!" is a literal one
        ("docs/a.md", "/docs/*.md", True),  # a leading "/" anchors too
        ("app/docs/a.md", "/docs/*.md", False),
    ],
)
def test_globs_follow_git(path: str, pattern: str, hit: bool) -> None:
    """The cases where the hand-written matcher differed from git (issue 15)."""
    assert match_glob(path, pattern) is hit


def test_config_negation_and_directory_patterns() -> None:
    assert ignored_reason("build", ["build/"]) is None  # a file named build is reviewed
    assert ignored_reason("build/gen.py", ["build/"]) == "ignored by config (build/)"
    assert ignored_reason("app/x.pyc", ["*.py[co]"]) == "ignored by config (*.py[co])"
    assert ignored_reason("gen/keep.py", ["gen/**", "!gen/keep.py"]) is None
    assert ignored_reason("gen/other.py", ["gen/**", "!gen/keep.py"]) == (
        "ignored by config (gen/**)"
    )
    assert ignored_reason("x.py", ["  ", "x.py"]) == "ignored by config (x.py)"  # blanks skipped


def test_glob_problems_are_reported_not_raised() -> None:
    assert glob_problem("src/**/*.py") is None
    assert glob_problem("!") is not None
    assert glob_problem("  ") == "an empty glob matches nothing"
    assert glob_problem("src/[z-a].py") == "bad character range z-a"
    # RE2's error is neither a ValueError nor re.error: it escaped as "failed to compile Set".
    assert glob_problem("?" * 8_188) == TOO_LARGE


def test_globs_too_large_together_are_a_problem_and_a_glob_error() -> None:
    each = [f"vendor{i}/**/*.py[co]" for i in range(2_200)]
    assert all(glob_problem(p) is None for p in each[:5])
    assert set_problem(each[:500]) is None
    assert (
        set_problem(each)
        == f"these 2200 globs together are {TOO_LARGE}; use fewer or simpler globs"
    )
    with pytest.raises(GlobError):
        last_match("vendor1/a.pyc", tuple(each))
    assert set_problem(["  ", " a/ "]) is None  # compiled as a review matches: stripped


def test_globs_run_on_re2_in_linear_time() -> None:
    """RE2, not Python's backtracking `re`: pathspec's own choice could fall back silently."""
    backend = compile_globs(("*.py",))._backend  # which engine, nothing else
    assert type(backend).__module__.startswith("pathspec._backends.re2")
    assert match_glob("a" * 300, "**/a*a*a*b/**") is False  # hostile for a backtracking engine


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("app/store/migrations/versions/3f2a_add_users.py", FileKind("migration", "alembic")),
        ("alembic/versions/0001_init.py", FileKind("migration", "alembic")),
        ("shop/migrations/0007_order_status.py", FileKind("migration", "django")),
        ("db/migrate/20240101120000_add_status.rb", FileKind("migration", "rails")),
        ("db/migrate/20241122183828_change_rate.rb.rb", FileKind("migration", "rails")),
        ("prisma/migrations/20240101_init/migration.sql", FileKind("migration", "prisma")),
        ("src/main/resources/db/migration/V3__add_status.sql", FileKind("migration", "flyway")),
        ("db/changelog/db.changelog-master.yaml", FileKind("migration", "liquibase")),
        ("migrations/20240101120000_add_status.js", FileKind("migration", "knex")),
        ("migrations/000012_add_status.up.sql", FileKind("migration", "golang-migrate")),
        ("db/migrations/add_status.sql", FileKind("migration", "sql")),
        ("db/structure.sql", FileKind("model")),  # schema dumps are not migrations
        ("db/animals_structure.sql", FileKind("model")),
        ("db/schema.sql", FileKind("model")),
        ("db/schema.rb", FileKind("model")),
        ("db/seeds.sql", FileKind("other")),
        ("db/migrate/20240101_structure.sql", FileKind("migration", "sql")),
        ("app/store/migrations/versions/__init__.py", FileKind("other")),
        ("shop/migrations/__init__.py", FileKind("other")),
        ("tests/store/test_migrations.py", FileKind("test")),
        ("app/api/orders.py", FileKind("route")),
        ("shop/views.py", FileKind("route")),
        ("src/orders/orders.controller.ts", FileKind("route")),
        ("shop/models.py", FileKind("model")),
        ("app/models/user.py", FileKind("model")),
        ("prisma/schema.prisma", FileKind("model")),
        ("src/user.entity.ts", FileKind("model")),
        ("src/orders/orders.service.spec.ts", FileKind("test")),
        ("pkg/orders/handler_test.go", FileKind("test")),
        ("spec/models/user_spec.rb", FileKind("test")),
        ("README.md", FileKind("docs")),
        ("docs/architecture.md", FileKind("docs")),
        ("app/service.py", FileKind("other")),
    ],
)
def test_classify(path: str, kind: FileKind) -> None:
    assert classify(path) == kind


def test_is_code() -> None:
    assert is_code("app/x.py")
    assert is_code("src/x.ts")
    assert not is_code("config/settings.yaml")
    assert not is_code("Makefile")
