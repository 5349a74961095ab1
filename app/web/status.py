"""What the home page says about GitHub, asked of GitHub itself and kept for a minute.

`probe_github` runs `backend-review doctor`'s GitHub checks (app.admin.doctor: the App's key
accepted by `GET /app`, its permissions and events against deploy/app-manifest.yml, read when
it is there and else the copy the code carries) and lists where the App is installed with the
first repositories of each. `StatusCache` keeps the answer `ttl` seconds (clock injectable):
reloading the page does not call GitHub each time, and concurrent loads share one probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from app.admin.doctor import Check, app_checks
from app.errors import ConfigError
from app.github.client import GitHubApp
from app.github.deliveries import AppInfo
from app.github.installations import (
    Installation,
    InstalledRepos,
    installation_repos,
    installations,
)
from app.github.retry import RetryPolicy
from app.github.types import GitHubError
from app.runtime import github_credentials
from app.settings import Settings

TTL_SECONDS = 60.0
MAX_INSTALLATIONS = 10
MAX_REPOS = 20
PROBE_SECONDS = 20.0
# In a checkout; the installed package has no deploy/ folder, and then the code's copy is used.
MANIFEST_FILE = Path(__file__).resolve().parents[2] / "deploy" / "app-manifest.yml"
_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class InstallView:
    installation: Installation
    repos: InstalledRepos | None
    error: str | None = None  # why its repositories could not be listed


# Why `GitHubStatus.app` is None: the page's headline names the cause the checks below detail.
Failure = Literal["refused", "unreachable", "not asked"]


@dataclass(frozen=True)
class GitHubStatus:
    checks: tuple[Check, ...]
    app: AppInfo | None  # None unless GitHub answered GET /app
    installs: tuple[InstallView, ...] = ()
    more_installs: bool = False
    installs_error: str | None = None
    checked_at: float = field(default_factory=time.time)
    failure: Failure = "refused"  # read only when `app` is None


Probe = Callable[[], Awaitable[GitHubStatus]]


async def probe_github(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> GitHubStatus:
    manifest = MANIFEST_FILE if MANIFEST_FILE.exists() else None
    try:
        github = GitHubApp(
            github_credentials(settings),
            async_transport=transport,
            timeout=_TIMEOUT,
            policy=RetryPolicy(max_retries=0),
        )
    except ConfigError as exc:
        check = Check("FAIL", "github", f"{exc}: GitHub was not asked")
        return GitHubStatus((check,), None, failure="not asked")
    async with github:
        try:
            async with asyncio.timeout(PROBE_SECONDS):
                answer = await app_checks(github, str(settings.github_api_url), manifest)
                if answer.info is None:
                    failure: Failure = "refused" if answer.reached else "unreachable"
                    return GitHubStatus(tuple(answer.checks), None, failure=failure)
                return await _with_installs(github, tuple(answer.checks), answer.info)
        except TimeoutError:
            reason = f"GitHub took over {PROBE_SECONDS:.0f}s to answer"
            return GitHubStatus((Check("FAIL", "github", reason),), None, failure="unreachable")


async def _with_installs(
    github: GitHubApp, checks: tuple[Check, ...], info: AppInfo
) -> GitHubStatus:
    try:
        found = await installations(github, limit=MAX_INSTALLATIONS)
    except GitHubError as exc:
        return GitHubStatus(checks, info, installs_error=exc.reason)
    views = []
    for install in found.items:
        if install.suspended:
            views.append(InstallView(install, None, "suspended"))
            continue
        try:
            repos = await installation_repos(github, install.id, limit=MAX_REPOS)
        except GitHubError as exc:
            views.append(InstallView(install, None, exc.reason))
        else:
            views.append(InstallView(install, repos))
    return GitHubStatus(checks, info, tuple(views), found.more)


class StatusCache:
    """One probe's answer, kept `ttl` seconds; a failed probe is kept as long (GitHub being
    out of reach is an answer too, and asking again on every reload would not change it)."""

    def __init__(
        self, probe: Probe, *, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._probe = probe
        self._ttl = ttl
        self._clock = clock
        self._lock = asyncio.Lock()
        self._kept: tuple[float, GitHubStatus] | None = None

    async def get(self) -> GitHubStatus:
        async with self._lock:
            now = self._clock()
            if self._kept is None or now - self._kept[0] >= self._ttl:
                self._kept = (now, await self._probe())
            return self._kept[1]
