"""`backend-review review` with the model: the SDK talks real HTTP to a loopback FakeAnthropic.

Only the network edge is fake (`tests.fakes.anthropic_server`); the settings come from the
environment, as on a developer's machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import model as cli_model
from app.cli.main import main
from app.errors import ConfigError
from app.review.findings import FindingsReport
from tests.fakes.anthropic_api import error, hang, tool_answer
from tests.fakes.anthropic_server import AnthropicServer

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = "app/api/refunds.py"
# A new endpoint, lines 1-9. The rules see a route with no idempotency key (info) and no test
# change (minor): nothing that fails the check.
REFUNDS = """\
diff --git a/app/api/refunds.py b/app/api/refunds.py
new file mode 100644
--- /dev/null
+++ b/app/api/refunds.py
@@ -0,0 +1,9 @@
+from fastapi import APIRouter
+
+router = APIRouter()
+
+
+@router.post("/refunds")
+async def create_refund(order_id: int, amount: int):
+    order = await db.get(order_id)
+    return await payments.refund(order, amount)
"""
# The same file with a live key in it: the secrets rule fails the check whatever the model says.
WITH_SECRET = REFUNDS.replace("@@ -0,0 +1,9 @@", "@@ -0,0 +1,10 @@") + (
    '+STRIPE_KEY = "sk_live_51HqLyjWDarjtT1zdp7dcXAMPLEkeyABCDEF"\n'
)
USAGE = {
    "input_tokens": 2104,
    "output_tokens": 233,
    "cache_read_input_tokens": 1790,
    "cache_creation_input_tokens": 310,
}


def model_finding(lines: str = "9", rule: str = "general") -> dict[str, Any]:
    return {
        "rule": rule,
        "type": "evidence",
        "category": "security",
        "severity": "major",
        "title": "Refund amount is not checked against the order",
        "where": {"path": ENDPOINT, "lines": lines},
        "evidence": "`payments.refund(order, amount)` takes any amount.",
        "recommendation": "Refuse an amount above what is left to refund on the order.",
        "confidence": 0.9,  # sure enough to block (model.block_confidence: 0.8)
    }


def answer(*findings: dict[str, Any]) -> dict[str, Any]:
    return {
        "findings": list(findings),
        "summary": {"summary": "Adds a refunds endpoint.", "recommendation": "fix the amount"},
    }


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what each test sets: no key, model or persona directory from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "BACKEND_REVIEW_", "AWS_", "CLOUD_ML_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # loopback never goes through a proxy
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)  # not a repository: config and personas are read from here


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    """A fake API on 127.0.0.1 with the key and base URL in the environment."""
    with AnthropicServer() as running:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", running.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", running.fake.api_key)
        yield running


@pytest.fixture
def refunds(tmp_path: Path) -> Path:
    path = tmp_path / "refunds.diff"
    path.write_text(REFUNDS, encoding="utf-8")
    return path


@pytest.fixture
def with_secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.diff"
    path.write_text(WITH_SECRET, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["review", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def rule_ids_offered(body: dict[str, Any]) -> list[str]:
    finding = body["tools"][0]["input_schema"]["$defs"]["Finding"]
    return list(finding["properties"]["rule"]["enum"])


def test_a_guess_does_not_fail_the_cli_and_is_shown_as_advisory(
    capsys: pytest.CaptureFixture[str], server: AnthropicServer, refunds: Path, tmp_path: Path
) -> None:
    # Issue 14: a critical question at confidence 0.1 used to exit 1 ("1 blocking finding").
    guess = model_finding(lines="9") | {
        "type": "question",
        "severity": "critical",
        "confidence": 0.1,
        "title": "maybe SQLi?",
    }
    server.fake.enqueue(tool_answer(answer(guess), usage=USAGE))
    json_path = tmp_path / "findings.json"

    code, out, _ = run(capsys, str(refunds), "--format", f"text,json={json_path}")

    assert code == 0
    assert f"CRITICAL {ENDPOINT}:9  maybe SQLi?" in out
    assert "advisory, does not block: a question, not evidence" in out
    assert "PASS: No blocking findings" in out
    report = FindingsReport.model_validate_json(json_path.read_text(encoding="utf-8"))
    [llm] = [f for f in report.findings if f.source.value == "llm"]
    assert report.advisory == {llm.id: "a question, not evidence"}


def test_a_model_finding_on_a_diff_line_is_reported_in_text_and_json(
    capsys: pytest.CaptureFixture[str], server: AnthropicServer, refunds: Path, tmp_path: Path
) -> None:
    server.fake.enqueue(tool_answer(answer(model_finding(lines="9")), usage=USAGE))
    json_path = tmp_path / "findings.json"

    code, out, err = run(capsys, str(refunds), "--format", f"text,json={json_path}")

    assert code == 1  # the model's major finding fails the check, as it would on the PR
    assert out.startswith(
        "backend-review (rules + claude-sonnet-4-6)\n"
        f"reviewed {refunds}: 1 file(s), +9 -0 lines"
        "\n\n  Adds a refunds endpoint.\n  Recommendation: fix the amount\n\n"
    )
    assert f"MAJOR    {ENDPOINT}:9  Refund amount is not checked against the order" in out
    assert f"INFO     {ENDPOINT}:7  Is `POST /refunds` safe to retry?" in out  # the rules' too
    report = FindingsReport.model_validate_json(json_path.read_text(encoding="utf-8"))
    assert report.status == "ready"
    assert report.summary is not None
    assert report.summary.summary == "Adds a refunds endpoint."
    [llm] = [f for f in report.findings if f.source.value == "llm"]
    assert (llm.where.path, llm.where.lines, llm.rule) == (ENDPOINT, "9", "general")
    assert {f.rule for f in report.findings} >= {"tests-missing", "idempotency-key-missing"}

    assert err.splitlines() == [
        "backend-review: model: reviewing 1 file(s) with claude-sonnet-4-6",
        "backend-review: model: 1/1 part(s) reviewed",
        "backend-review: tokens: 1 call(s), input 2104, output 233, cache read 1790, "
        "cache write 310, model claude-sonnet-4-6",
    ]
    [request] = server.fake.requests
    assert request.headers["authorization"] == f"Bearer {server.fake.api_key}"
    assert request.json["model"] == "claude-sonnet-4-6"
    [user, instruction] = request.json["messages"][0]["content"]
    assert f"FILE {ENDPOINT} (added)" in user["text"]
    # Sonnet 4.6 thinks first (BACKEND_REVIEW_LLM_THINKING_BUDGET), so the tool is asked for.
    assert "calling the submit_review tool" in instruction["text"]
    assert request.json["thinking"] == {"type": "enabled", "budget_tokens": 4000}
    assert request.json["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert "security.authz-boundary" in rule_ids_offered(request.json)  # the default persona


def test_without_a_key_the_rules_decide_and_stderr_stays_empty(
    capsys: pytest.CaptureFixture[str],
    server: AnthropicServer,
    monkeypatch: pytest.MonkeyPatch,
    refunds: Path,
    with_secret: Path,
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")

    code, out, err = run(capsys, str(refunds))
    assert (code, err) == (0, "")
    assert out.startswith("backend-review (rules only: ANTHROPIC_API_KEY is not set)\n")
    assert "tests-missing" in out

    code, out, err = run(capsys, str(with_secret), "--format", "json")
    assert (code, err) == (1, "")
    report = FindingsReport.model_validate_json(out)
    assert report.status == "partial"  # a model was wanted and none ran
    assert '"summary"' not in out  # no model, no summary key at all
    assert "hardcoded-secret" in {f.rule for f in report.findings}
    assert server.fake.requests == []


def test_an_empty_key_is_no_key(
    capsys: pytest.CaptureFixture[str],
    server: AnthropicServer,
    monkeypatch: pytest.MonkeyPatch,
    refunds: Path,
) -> None:
    """A CI secret a fork's pull request cannot read arrives as an empty variable."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    code, out, err = run(capsys, str(refunds))
    assert (code, err) == (0, "")
    assert out.startswith("backend-review (rules only: ANTHROPIC_API_KEY is not set)\n")
    assert server.fake.requests == []


def test_no_llm_sends_nothing(
    capsys: pytest.CaptureFixture[str], server: AnthropicServer, with_secret: Path
) -> None:
    server.fake.enqueue(tool_answer(answer(model_finding())))

    code, out, err = run(capsys, str(with_secret), "--no-llm", "--format", "json")

    assert (code, err) == (1, "")
    report = FindingsReport.model_validate_json(out)
    assert report.status == "ready"
    assert {f.source.value for f in report.findings} == {"rule"}
    assert server.fake.requests == []
    code, out, _ = run(capsys, str(with_secret), "--no-llm")
    assert out.startswith("backend-review (rules only)\n")


OVERLOADED = [error(529, "overloaded_error", "Overloaded", retry_after=0)] * 3


@pytest.mark.parametrize(
    ("answers", "key", "notice", "requests"),
    [
        pytest.param(
            OVERLOADED,
            None,
            "the model was unavailable: overloaded (529 overloaded_error) after 3 attempts: "
            "Overloaded",
            3,
            id="529-three-times",
        ),
        pytest.param(
            [],
            "sk-ant-api03-Wr0ngWr0ngWr0ngKeyKeyKey-0123456789abcdefABCDEF-xyzAA",
            "the model API refused the request: authentication failed (401 "
            "authentication_error): check ANTHROPIC_API_KEY",
            1,
            id="401-bad-key",
        ),
    ],
)
@pytest.mark.parametrize(("diff", "expected_code"), [("refunds", 0), ("with_secret", 1)])
def test_a_failing_model_leaves_the_rules_findings_and_their_exit_code(
    capsys: pytest.CaptureFixture[str],
    server: AnthropicServer,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    answers: list[Any],
    key: str | None,
    notice: str,
    requests: int,
    diff: str,
    expected_code: int,
) -> None:
    server.fake.enqueue(*answers)
    if key is not None:
        monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    secrets = [key or server.fake.api_key]
    path: Path = request.getfixturevalue(diff)

    code, out, err = run(capsys, str(path))

    assert code == expected_code
    assert out.startswith(f"backend-review (rules only: {notice})\n")
    assert "tests-missing" in out
    assert "Refund amount" not in out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("FAIL: " if expected_code else "NEUTRAL: Review incomplete: ")
    assert f"backend-review: model: {notice}; the rules' findings are shown\n" in err
    # Progress never claims what the notice then denies (issue 15).
    assert "part(s) reviewed" not in err
    assert "backend-review: model: part 1 of 1 not reviewed\n" in err
    assert err.endswith(
        f"backend-review: tokens: {requests} call(s), input 0, output 0, cache read 0, "
        "cache write 0, model claude-sonnet-4-6\n"
    )
    assert len(server.fake.requests) == requests
    for secret in secrets:
        assert secret not in out + err


def test_retries_show_as_progress(
    capsys: pytest.CaptureFixture[str], server: AnthropicServer, refunds: Path
) -> None:
    server.fake.enqueue(
        error(529, "overloaded_error", "Overloaded", retry_after=0),
        tool_answer(answer(model_finding())),
    )
    code, out, err = run(capsys, str(refunds), "--format", "json")
    assert code == 1
    assert FindingsReport.model_validate_json(out).status == "ready"
    assert (
        "backend-review: model call failed: overloaded (529 overloaded_error); "
        "retrying in 0.0s (attempt 2 of 3)\n"
    ) in err
    assert "backend-review: tokens: 2 call(s), input 1520, output 318" in err


def test_a_long_call_prints_a_heartbeat(
    capsys: pytest.CaptureFixture[str],
    server: AnthropicServer,
    monkeypatch: pytest.MonkeyPatch,
    refunds: Path,
) -> None:
    monkeypatch.setattr(cli_model, "HEARTBEAT_SECONDS", 0.1)
    server.fake.enqueue(hang(0.6, then=tool_answer(answer())))
    code, _, err = run(capsys, str(refunds))
    assert code == 0
    assert "backend-review: model: still waiting for claude-sonnet-4-6 (0s)" in err
    assert err.index("still waiting") < err.index("1/1 part(s) reviewed")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ANTHROPIC_BASE_URL", "not a url", "ANTHROPIC_BASE_URL: Input should be a valid URL"),
        ("BACKEND_REVIEW_LLM_MAX_ATTEMPTS", "0", "BACKEND_REVIEW_LLM_MAX_ATTEMPTS: Input should"),
    ],
)
def test_a_malformed_setting_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    server: AnthropicServer,
    monkeypatch: pytest.MonkeyPatch,
    refunds: Path,
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    code, out, err = run(capsys, str(refunds))
    assert (code, out) == (2, "")
    assert err.startswith(f"backend-review: configuration error: {message}")
    assert err.count("\n") == 1
    assert server.fake.api_key not in err
    assert server.fake.requests == []


@pytest.mark.parametrize("no_llm", [False, True])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "persona file not found: persona.md"),
        ("---\nname: x\nchecklists: [a\n---\nBe strict.\n", "persona.md: invalid YAML"),
        ("---\nname: x\n---\n\n", "persona.md: the persona is empty"),
    ],
)
def test_a_bad_persona_file_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    server: AnthropicServer,
    refunds: Path,
    tmp_path: Path,
    text: str | None,
    message: str,
    no_llm: bool,
) -> None:
    if text is not None:
        (tmp_path / "persona.md").write_text(text, encoding="utf-8")
    argv = [str(refunds), "--persona", "persona.md", *(["--no-llm"] if no_llm else [])]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("backend-review: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert server.fake.requests == []


PAYMENTS_PERSONA = """\
---
name: payments-reviewer
description: Reviews money movement.
model: claude-opus-4-6
checklists:
  Money:
    - "`refund-limit` A refund never exceeds what was paid."
---
You review payment code. Money that leaves must be bounded by money that came in.
"""


def test_the_repo_config_picks_a_persona_from_the_repository(
    capsys: pytest.CaptureFixture[str], server: AnthropicServer, refunds: Path, tmp_path: Path
) -> None:
    personas = tmp_path / ".github" / "backend-review" / "personas"
    personas.mkdir(parents=True)
    (personas / "payments.md").write_text(PAYMENTS_PERSONA, encoding="utf-8")
    (tmp_path / ".github" / "backend-review.yml").write_text(
        "persona: payments\n", encoding="utf-8"
    )
    [rule_id] = _checklist_ids(PAYMENTS_PERSONA)
    server.fake.enqueue(tool_answer(answer(model_finding(rule=rule_id))))

    code, out, err = run(capsys, str(refunds))

    assert code == 1
    [body] = server.fake.bodies
    assert body["model"] == "claude-opus-4-6"  # the persona's model wins on the direct API
    system = "\n".join(block["text"] for block in body["system"])
    assert "You review payment code." in system
    offered = rule_ids_offered(body)  # the persona's item on top of the built-in 27
    assert offered[-2:] == [rule_id, "general"]
    assert len(offered) == 29
    assert "security.authz-boundary" in offered
    assert out.startswith("backend-review (rules + claude-opus-4-6)\n")
    assert f"[{rule_id}]" in out
    assert "with claude-opus-4-6" in err


def test_a_persona_naming_an_unknown_model_leaves_the_review_incomplete(
    capsys: pytest.CaptureFixture[str], server: AnthropicServer, refunds: Path, tmp_path: Path
) -> None:
    personas = tmp_path / ".github" / "backend-review" / "personas"
    personas.mkdir(parents=True)
    persona = PAYMENTS_PERSONA.replace("model: claude-opus-4-6", "model: claude-foo")
    (personas / "payments.md").write_text(persona, encoding="utf-8")
    (tmp_path / ".github" / "backend-review.yml").write_text(
        "persona: payments\n", encoding="utf-8"
    )

    code, out, _ = run(capsys, str(refunds))

    assert server.fake.requests == []  # the model part did not run
    refused = "the persona's model 'claude-foo' is not a model backend-review knows on anthropic"
    assert out.startswith(f"backend-review (rules only: {refused} (known: claude-opus-5-5, ")
    assert "tests-missing" in out  # the rules' findings are shown
    # Never success, whatever the rules found: the review says why the model did not run.
    assert out.rstrip().splitlines()[-1].startswith(f"NEUTRAL: Review incomplete: {refused}")
    assert code == 0


def test_a_model_whose_client_cannot_be_built_leaves_the_review_incomplete(
    capsys: pytest.CaptureFixture[str],
    server: AnthropicServer,
    refunds: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A provider's extra is missing (vertex without google-auth): a model was configured and
    # did not review, so the verdict is NEUTRAL with the reason, never a plain PASS.
    problem = "vertex needs the Google extra: pip install 'anthropic[vertex]'"

    def no_client(*_: Any, **__: Any) -> Any:
        raise ConfigError("BACKEND_REVIEW_LLM_PROVIDER", problem)

    monkeypatch.setattr(cli_model, "model_of_one_run", no_client)

    code, out, _ = run(capsys, str(refunds))

    assert server.fake.requests == []
    why = f"BACKEND_REVIEW_LLM_PROVIDER: {problem}"
    assert out.startswith(f"backend-review (rules only: {why})")
    assert out.rstrip().splitlines()[-1].startswith(f"NEUTRAL: Review incomplete: {why}")
    assert code == 0  # the rules' verdict: the model never changes what the codes mean


def _checklist_ids(text: str) -> list[str]:
    from app.review.persona import parse_persona

    return list(parse_persona(text, source="payments.md").checklist_ids)


def test_a_persona_without_checklists_gets_the_default_ones(
    capsys: pytest.CaptureFixture[str], server: AnthropicServer, refunds: Path, tmp_path: Path
) -> None:
    (tmp_path / "plain.md").write_text(
        "# Terse reviewer\n\nOnly report what breaks production.\n", encoding="utf-8"
    )
    server.fake.enqueue(tool_answer(answer()))

    code, out, _ = run(capsys, str(refunds), "--persona", "plain.md")

    assert code == 0
    [body] = server.fake.bodies
    assert "Only report what breaks production." in "\n".join(b["text"] for b in body["system"])
    offered = rule_ids_offered(body)
    assert "security.authz-boundary" in offered
    assert "api.idempotency" in offered
    assert out.startswith("backend-review (rules + claude-sonnet-4-6)\n")


@pytest.mark.slow
def test_the_console_command_in_a_subprocess(refunds: Path, tmp_path: Path) -> None:
    """`python -m app review` as CI runs it: a real process, real HTTP, the JSON on stdout."""
    with AnthropicServer() as server:
        server.fake.enqueue(tool_answer(answer(model_finding(lines="8")), usage=USAGE))
        env = {
            **os.environ,
            "ANTHROPIC_BASE_URL": server.base_url,
            "ANTHROPIC_API_KEY": server.fake.api_key,
            "PYTHONPATH": str(ROOT),
        }
        done = subprocess.run(
            [sys.executable, "-m", "app", "review", str(refunds), "--format", "json"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    [llm] = [f for f in report["findings"] if f["source"] == "llm"]
    assert llm["where"] == {"path": ENDPOINT, "lines": "8", "side": "RIGHT"}
    assert done.stderr.splitlines()[-1] == (
        "backend-review: tokens: 1 call(s), input 2104, output 233, cache read 1790, "
        "cache write 310, model claude-sonnet-4-6"
    )
    assert server.fake.api_key not in done.stdout + done.stderr
    assert len(server.fake.requests) == 1


# --- the loopback server itself, as the end-to-end tests will use it ------------------------


def test_the_server_closes_promptly_with_a_call_still_hanging() -> None:
    import time

    import httpx2

    server = AnthropicServer().start()
    server.fake.enqueue(hang(3600))
    with httpx2.Client(timeout=0.3) as client, pytest.raises(httpx2.ReadTimeout):
        client.post(
            f"{server.base_url}/v1/messages",
            headers={"x-api-key": server.fake.api_key, "anthropic-version": "2023-06-01"},
            json={"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}]},
        )
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 3
    assert len(server.fake.requests) == 1
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(server.base_url, timeout=1)


@pytest.mark.slow
def test_the_server_as_a_process(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    refunds: Path,
    tmp_path: Path,
) -> None:
    from tests.fakes.anthropic_api import FakeAnthropic
    from tests.fakes.anthropic_server import answer_json

    answers, seen = tmp_path / "answers.json", tmp_path / "requests.json"
    queued = [tool_answer(answer(model_finding(lines="9")))]
    answers.write_text(json.dumps([answer_json(a) for a in queued]), encoding="utf-8")
    argv = ["--answers", str(answers), "--requests", str(seen)]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.anthropic_server", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", FakeAnthropic.API_KEY)
        code, out, _ = run(capsys, str(refunds))
        assert code == 1
        assert f"{ENDPOINT}:9  Refund amount is not checked" in out
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    [recorded] = json.loads(seen.read_text(encoding="utf-8"))
    assert (recorded["method"], recorded["path"]) == ("POST", "/v1/messages")
    assert recorded["json"]["tools"][0]["name"] == "submit_review"


def test_model_verify_a_refuted_finding_is_advisory_in_every_report(
    capsys: pytest.CaptureFixture[str], server: AnthropicServer, refunds: Path, tmp_path: Path
) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "backend-review.yml").write_text(
        "model:\n  verify: true\n", encoding="utf-8"
    )
    refuted = {
        "reason": "Line 8 reads the order; the amount is checked by payments.",
        "confirmed": False,
    }
    server.fake.enqueue(tool_answer(answer(model_finding()), usage=USAGE), tool_answer(refuted))
    json_path, sarif_path = tmp_path / "findings.json", tmp_path / "findings.sarif"

    code, out, _ = run(
        capsys, str(refunds), "--format", f"text,json={json_path},sarif={sarif_path}"
    )

    why = f"verification did not confirm: {refuted['reason']}"
    assert code == 0
    assert [b["tools"][0]["name"] for b in server.fake.bodies] == [
        "submit_review",
        "verify_finding",
    ]
    assert "advisory, does not block: verification did not confirm: Line 8" in out
    report = FindingsReport.model_validate_json(json_path.read_text(encoding="utf-8"))
    [llm] = [f for f in report.findings if f.source.value == "llm"]
    assert report.advisory == {llm.id: why}
    sarif = json.loads(sarif_path.read_text(encoding="utf-8"))
    levels = {r["ruleId"]: r["level"] for r in sarif["runs"][0]["results"]}
    assert "error" not in levels.values()
