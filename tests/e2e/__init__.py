"""End-to-end: the real `python -m app serve` process against the fake GitHub and the fake
Messages API, both served over loopback HTTP in threads of the test process.

    with e2e_world(tmp_path) as w:          # fake GitHub + fake Anthropic + one server
        pr = w.pull(REFUNDS)
        w.deliver("pull_request", pull_request_event(pr, "opened"))
        w.wait_for("a completed check", lambda: w.completed_check(pr.head_sha))

The webhook bodies are built here from the fake's own objects (repository id and name, the
installation, the PR's SHAs, comment ids), so the jobs they start find what they name. On exit
the servers are stopped (killed if they do not stop), their output is read in full, and it is
checked for secrets; the fakes' own errors fail the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.anthropic_server import AnthropicServer
from tests.fakes.github_objects import CheckRun, IssueComment, Pull, Repo, Review, User
from tests.fakes.github_payloads import sign
from tests.fakes.github_server import FakeGitHub, serve

REFUNDS = (Path(__file__).parent.parent / "diffs" / "refunds.diff").read_text(encoding="utf-8")
ENDPOINT = "app/api/refunds.py"  # new file: the hard-coded key is on line 4
LEDGER = "app/services/ledger.py"
# The service file alone: no rule blocks on it, only the minor "no tests" finding.
LEDGER_ONLY = REFUNDS[REFUNDS.index("diff --git a/app/services/ledger.py") :]
REPO = "acme/payments"
# Distinct from the unit tests' secret: a leak found in a log is then this run's.
WEBHOOK_SECRET = "e2e-webhook-secret-4f1c9a7d2b"
T = TypeVar("T")


# --- webhook bodies ---------------------------------------------------------------------------


def repository_json(repo: Repo) -> dict[str, Any]:
    return {
        "id": repo.id,
        "node_id": f"R_{repo.id}",
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": {"login": repo.owner.login, "id": repo.owner.id, "type": repo.owner.type},
        "html_url": f"https://github.com/{repo.full_name}",
        "default_branch": repo.default_branch,
    }


def _installation(repo: Repo) -> dict[str, Any]:
    return {"id": repo.installation_id, "node_id": f"I_{repo.installation_id}"}


def _user(user: User) -> dict[str, Any]:
    return {"login": user.login, "id": user.id, "type": user.type}


def pull_request_event(pull: Pull, action: str, *, before: str | None = None) -> dict[str, Any]:
    """A `pull_request` delivery for the fake's PR as it is now (its current head)."""
    repo = repository_json(pull.repo)
    body: dict[str, Any] = {
        "action": action,
        "number": pull.number,
        "pull_request": {
            "id": pull.id,
            "number": pull.number,
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "draft": pull.draft,
            "user": _user(pull.author),
            "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": repo},
            "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": repo},
        },
        "repository": repo,
        "sender": _user(pull.author),
        "installation": _installation(pull.repo),
    }
    if before is not None:
        body["before"], body["after"] = before, pull.head_sha
    return body


def issue_comment_event(pull: Pull, comment: IssueComment) -> dict[str, Any]:
    """GitHub's `issue_comment.created` for a comment the fake holds on the PR."""
    author = _user(comment.user)
    return {
        "action": "created",
        "issue": {
            "number": pull.number,
            "title": pull.title,
            "state": pull.state,
            "user": _user(pull.author),
            "pull_request": {"url": f"https://api.github.com/repos/{REPO}/pulls/{pull.number}"},
        },
        "comment": {"id": comment.id, "body": comment.body, "user": author},
        "repository": repository_json(pull.repo),
        "sender": author,
        "installation": _installation(pull.repo),
    }


# --- the server process -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One `python -m app serve`; its output is read as it comes, by a thread."""

    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if not _ours(k)}
        full_env |= {**env, "BACKEND_REVIEW_PORT": str(self.port)}
        self._lines: list[str] = []
        # cwd outside the checkout: no .env there to be read.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=data.parent,
        )
        self._reader = threading.Thread(target=self._read, name="server-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for raw in self.proc.stdout:
                self._lines.append(raw.decode("utf-8", "replace"))

    @property
    def log(self) -> str:
        return "".join(self._lines)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=1) as client:
            while time.monotonic() < deadline:
                assert self.alive(), f"the server exited:\n{self.log}"
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return
                time.sleep(0.05)
        raise AssertionError(f"the server did not become ready:\n{self.log}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.alive():
            self.proc.kill()
        self._finish()

    def stop(self) -> None:
        """SIGTERM, as a supervisor would; SIGKILL if it has not stopped within 15 s."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._finish()

    def _finish(self) -> None:
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)


def _ours(name: str) -> bool:
    # Settings the developer's shell may hold must not reach the server under test.
    return name.startswith(("GITHUB_", "ANTHROPIC_", "BACKEND_REVIEW_", "LINEAR_")) or name in {
        "DATABASE_URL",
        "AWS_REGION",
        "CLOUD_ML_REGION",
    }


# --- the world --------------------------------------------------------------------------------


@dataclass
class E2E:
    github: FakeGitHub
    github_url: str
    anthropic: AnthropicServer
    repo: Repo
    data: Path
    servers: list[Server] = field(default_factory=list)

    @property
    def llm(self) -> FakeAnthropic:
        return self.anthropic.fake

    @property
    def server(self) -> Server:
        return self.servers[-1]

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "GITHUB_APP_ID": str(self.github.app_id),
            "GITHUB_PRIVATE_KEY": self.github.private_key_pem,
            "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GITHUB_API_URL": self.github_url,
            "ANTHROPIC_API_KEY": self.llm.api_key,
            "ANTHROPIC_BASE_URL": self.anthropic.base_url,
            "BACKEND_REVIEW_DATA_DIR": str(self.data),
            "BACKEND_REVIEW_JOB_POLL_SECONDS": "0.1",
            "BACKEND_REVIEW_WORKER_CONCURRENCY": "2",
            # One retry of the model, after a backoff of at most a second.
            "BACKEND_REVIEW_LLM_MAX_ATTEMPTS": "2",
            "BACKEND_REVIEW_DRAIN_SECONDS": "2",
            "BACKEND_REVIEW_LOG_FORMAT": "json",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            **extra,
        }

    def start_server(self, **env: str) -> Server:
        server = Server(self.data, self.env(**env))
        self.servers.append(server)
        server.wait_ready()
        return server

    def pull(self, diff: str = REFUNDS, **kwargs: Any) -> Pull:
        with self.github.lock:
            return self.github.add_pull(self.repo, diff=diff, **kwargs)

    def deliver(
        self, event: str, payload: dict[str, Any], *, delivery: str | None = None
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(WEBHOOK_SECRET, body),
            "User-Agent": "GitHub-Hookshot/e2e",
        }
        with httpx.Client(trust_env=False, timeout=10) as client:
            return client.post(f"{self.server.url}/webhooks/github", content=body, headers=headers)

    def wait_for(self, what: str, found: Callable[[], T | None], timeout: float = 15) -> T:
        """Poll `found` until it returns something truthy; fail early if the server died."""
        deadline = time.monotonic() + timeout
        while True:
            with self.github.lock:
                result = found()
            if result:
                return result
            if not self.server.alive():
                raise AssertionError(f"the server exited waiting for {what}:\n{self.server.log}")
            if time.monotonic() > deadline:
                tail = "".join(self.server.log.splitlines(keepends=True)[-30:])
                raise AssertionError(f"no {what} after {timeout:.0f}s; server log tail:\n{tail}")
            time.sleep(0.05)

    # --- what the fake GitHub holds (read under its lock: the server thread writes it) -------

    def reviews(self, number: int) -> list[Review]:
        with self.github.lock:
            return list(self.github.reviews_on(self.repo, number))

    def bot_comments(self, number: int) -> list[IssueComment]:
        with self.github.lock:
            return list(self.github.issue_comments_on(self.repo, number))

    def summaries(self, number: int) -> list[IssueComment]:
        return [c for c in self.bot_comments(number) if "backend-review:summary" in c.body]

    def checks(self, head_sha: str | None = None) -> list[CheckRun]:
        with self.github.lock:
            return list(self.github.check_runs_for(self.repo, head_sha, "backend-review"))

    def completed_check(self, head_sha: str) -> CheckRun | None:
        done = [c for c in self.checks(head_sha) if c.status == "completed"]
        return done[-1] if done else None

    def jobs(self) -> list[tuple[str, str, int]]:
        """(kind, status, attempts) of every job in the server's database, oldest first."""
        with contextlib.closing(sqlite3.connect(self.data / "backend-review.db", timeout=5)) as db:
            query = "SELECT kind, status, attempts FROM jobs ORDER BY id"
            return [(row[0], row[1], row[2]) for row in db.execute(query)]

    def all_jobs_finished(self) -> bool:
        jobs = self.jobs()
        return bool(jobs) and all(status in ("done", "dead", "superseded") for _, status, _ in jobs)

    # --- what must never be in the output ------------------------------------------------------

    def secrets(self) -> list[str]:
        pem_lines = [
            line
            for line in self.github.private_key_pem.splitlines()
            if line and not line.startswith("-----")
        ]
        return [WEBHOOK_SECRET, self.llm.api_key, "ghs_", *pem_lines]


def leaked(log: str, secrets: list[str]) -> list[str]:
    """The secrets found in `log`, shortened so the failure message does not print them."""
    return [s[:6] + "…" for s in secrets if s in log]


@contextlib.contextmanager
def e2e_world(tmp_path: Path, *, api_prefix: str = "/api/v3") -> Iterator[E2E]:
    """The fakes and their state, with no server yet (`start_server` starts one)."""
    github = FakeGitHub(api_prefix=api_prefix, max_hang=10)
    repo = github.add_repo(REPO)
    github.set_permission(repo, "maintainer", "write")
    github.set_permission(repo, "reader", "read")
    data = tmp_path / "data"
    with serve(github) as github_url, AnthropicServer() as anthropic:
        world = E2E(github, github_url, anthropic, repo, data)
        try:
            yield world
        except BaseException:
            for server in world.servers:
                server.stop()
                tail = "".join(server.log.splitlines(keepends=True)[-40:])
                print(f"--- server on port {server.port}, last lines:\n{tail}")
            raise
        finally:
            for server in world.servers:
                server.stop()
    for index, server in enumerate(world.servers):
        # The output was read (a leak check over nothing would pass) ...
        assert "Application startup complete." in server.log, f"server {index}: no output"
        # ... and holds no secret, even from a process killed mid-review.
        assert not leaked(server.log, world.secrets()), f"server {index} logged a secret"
    assert github.errors == []
