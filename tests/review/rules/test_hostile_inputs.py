"""The reported denial-of-service inputs, end to end through run_rules and the CLI.

Each once froze a review: a knex migration whose down() held 21 "//" (97.8 s), a 6,400-character
decorator line of "@auth" (32 s), a PEM header followed by a 60k-character line (13 s), "sk-"
repeated (quadratic). Speed is asserted as growth, never as a time: the CPU time of the whole
rule run at 8n over that at n (about 8 when linear; the old code grew exponentially or
quadratically, or ran past the CPU cap, which counts as unbounded). The findings are checked too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.cli.main import main
from app.review.diff import parse_diff
from app.review.file_context import FileContext, FileText
from app.review.findings import Severity
from app.review.rules import RuleContext, run_rules
from app.review.rules.base import Change
from app.review.rules.clip import LINE_LIMIT, clip_text
from bench import regex_audit as audit
from tests.review.rules.builders import added, modified, of, review

PEM_HEAD = "-----BEGIN RSA " + "PRIVATE KEY-----"


def knex(slashes: int, then: str = "  return knex.schema.dropTable('t');") -> str:
    return added(
        "migrations/20240101120000_t.js",
        "exports.up = function (knex) {\n  return knex.schema.createTable('t', (t) => {});\n};\n"
        f"exports.down = function (knex) {{\n  {'//' * slashes}\n{then}\n}};\n",
    )


def decorators(size: int) -> str:
    return added(
        "app/api.py",
        "from fastapi import APIRouter\nrouter = APIRouter()\n\n"
        f"@router.get('/a')\n{'@auth' * (size // 5)}\ndef a():\n    return 1\n",
    )


def one_decorator_name(size: int) -> str:
    return added("app/api.py", f"@router.get('/a')\n@{'auth' * (size // 4)}\ndef a():\n    pass\n")


def removed_decorator(size: int) -> str:
    return modified(
        "app/api.py",
        f"""
         @router.get('/a')
        -@{"auth" * (size // 4)}
         def a():
        """,
    )


def pem_then_long_line(size: int, fill: str = "n") -> str:
    return added("app/keys.py", f"KEY = '''{PEM_HEAD}\n{fill * size}!\n'''\n")


def sk_repeated(size: int) -> str:
    return added("app/settings.py", f"KEY = '{'sk-' * (size // 3)}'\n")


def _rules_on(diff_of: Callable[[int], str]) -> Callable[[int], Callable[[], object]]:
    def build(size: int) -> Callable[[], object]:
        diff = parse_diff(diff_of(size))
        return lambda: run_rules(diff, RuleContext())

    return build


@pytest.mark.parametrize(
    ("diff_of", "n"),
    [
        (knex, 2_000),  # slashes: 21 took 97.8 s, each one more x2.4
        (lambda k: knex(k, then="  knex.raw('x');"), 2_000),
        (decorators, 8_000),
        (one_decorator_name, 8_000),
        (removed_decorator, 8_000),
        (pem_then_long_line, 16_000),
        (lambda n: pem_then_long_line(n, "'"), 16_000),
        (sk_repeated, 16_000),
    ],
    ids=[
        "knex-down-slashes",
        "knex-down-slashes-raw",
        "decorator-@auth-repeated",
        "decorator-one-long-name",
        "decorator-removed",
        "pem-long-line",
        "pem-long-quotes",
        "sk-repeated",
    ],
)
def test_reported_inputs_review_in_linear_time(diff_of: Callable[[int], str], n: int) -> None:
    assert audit.growth(_rules_on(diff_of), n) <= audit.LINEAR_RATIO


def test_reported_inputs_still_give_the_right_findings() -> None:
    # A down() of comments only is still empty; one that does something is not.
    assert of(review(knex(21, then="")), "migration-missing-rollback")
    assert of(review(knex(21)), "migration-missing-rollback") == []
    # A long junk line after a PEM header is no key body; base64 material is.
    assert of(review(pem_then_long_line(60_000)), "hardcoded-secret") == []
    body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
    assert of(review(added("app/k.py", f"K = '''{PEM_HEAD}\n{body}\n'''\n")), "hardcoded-secret")
    # "sk-" repeated is no key.
    assert of(review(sk_repeated(30_000)), "hardcoded-secret") == []


def test_guard_names_are_still_recognised() -> None:
    route = "@router.post('/items/{i}')\n{guard}\ndef handler_{i}():\n    return 1\n\n"
    for guard in ("@login_required", "@auth.login_required", "@my_auth_required"):
        text = "".join(route.format(i=i, guard=guard) for i in range(3))
        bare = text + "@router.post('/open')\ndef open_one():\n    return 1\n"
        found = of(review(added("app/api.py", bare)), "authz-unguarded-route")
        assert [f.title for f in found] == [
            "New route `POST /open` has no auth guard; its siblings do"
        ]


def test_the_cli_reviews_the_reported_knex_migration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    diff = tmp_path / "hostile.diff"
    diff.write_text(knex(21) + decorators(6_400) + pem_then_long_line(60_000) + sk_repeated(9_000))
    code = -1

    def run() -> None:
        nonlocal code
        code = main(["review", str(diff), "--no-llm"])

    assert audit.cpu(run, cap=60.0) != float("inf")  # finished (the old code: minutes)
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("backend-review (rules only)")


def test_a_long_line_is_read_in_a_window_and_noted_once_per_file() -> None:
    long = "DATA = '" + "x" * 5_000 + "'"
    findings = review(added("app/data.py", f"A = 1\n{long}\n{long}\nB = 2\n"))
    notes = of(findings, "long-line-not-reviewed")
    assert len(notes) == 1
    note = notes[0]
    assert (note.type, note.severity, note.where.lines) == ("question", Severity.INFO, "2")
    assert "Line(s) 2, 3 are up to 5,009 characters long" in note.evidence
    assert f"first {LINE_LIMIT:,} characters" in note.evidence
    # An ignored file is not reviewed at all, so there is nothing to note.
    assert of(review(added("static/app.min.js", long)), "long-line-not-reviewed") == []


def test_the_secrets_scan_reads_long_lines_whole() -> None:
    token = "ghp" + "_" + "R8x2Lq9ZtK3vWm7NcY4bHs6DpF1aJe5GuQ0o"
    line = "BLOB = '" + "a " * 3_000 + f"' ; TOKEN = '{token}'"
    found = of(review(added("app/blob.py", f"{line}\n")), "hardcoded-secret")
    assert [f.title for f in found] == ["GitHub token committed in blob.py"]
    assert token[8:] not in found[0].model_dump_json()


def test_rules_read_long_lines_and_gathered_texts_cut_to_the_limit() -> None:
    long = "y = '" + "z" * 9_000 + "'"
    diff = parse_diff(added("app/y.py", f"{long}\n"))
    context = FileContext.of(
        [FileText("app/y.py", f"{long}\n", None), FileText("app/o.py", long, long)]
    )
    change = Change.build(diff, (), context)
    (f,) = change.files
    assert [len(ln.text) for ln in f.visible] == [LINE_LIMIT]
    assert [len(ln.text) for ln in f.long_lines] == [len(long)]
    assert f.head_text is not None
    assert max(map(len, f.head_text.split("\n"))) == LINE_LIMIT
    other = change.context.get("app/o.py")
    assert other is not None
    assert other.head == other.base == long[:LINE_LIMIT]
    assert clip_text("short\nlines") == "short\nlines"
