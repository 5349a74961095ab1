"""`backend-review doctor`: is this installation ready? One line per check, OK / WARN / FAIL,
each with what to do in plain words; exit 1 when any check fails.

Checked: the settings (by name, never a value), the database (reachable, at the newest
migration), GitHub (the App's JWT accepted) and the App's permissions and events against the
manifest (the code's copy of `deploy/app-manifest.yml`, which the image does not ship), whether
a model and Linear are configured (neither is called).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from app.admin.common import AdminError, Subparsers, reachable_revision, run, sqlite_path
from app.errors import ConfigError
from app.github.client import GitHubApp
from app.github.deliveries import AppHooks, AppInfo
from app.github.manifest_flow import MANIFEST
from app.github.retry import RetryPolicy
from app.github.types import GitHubError
from app.runtime import github_credentials
from app.settings import Settings, load_settings, registered_app_dir
from app.store import migrate
from app.store.facade import Store

Level = Literal["OK", "WARN", "FAIL"]
_RANK = {"none": 0, "read": 1, "write": 2, "admin": 3}
_APP_SETTINGS = "the App's settings page on GitHub (Settings → Developer settings → GitHub Apps)"


@dataclass(frozen=True)
class Check:
    level: Level
    name: str
    message: str

    def line(self) -> str:
        return f"{self.level:<4}  {self.name}: {self.message}"


def register(sub: Subparsers) -> None:
    doctor = sub.add_parser("doctor", help="check settings, database, GitHub App and keys")
    doctor.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = run(diagnose())
    for check in checks:
        print(check.line())
    failed = sum(c.level == "FAIL" for c in checks)
    warned = sum(c.level == "WARN" for c in checks)
    print(f"doctor: {len(checks) - failed - warned} ok, {warned} warnings, {failed} failures")
    return 1 if failed else 0


async def diagnose(manifest: Path | None = None) -> list[Check]:
    try:
        settings = load_settings()
    except ConfigError as exc:
        return [
            Check(
                "FAIL",
                "settings",
                f"{exc}: fix this variable (environment or .env); nothing else was checked",
            )
        ]
    checks = [_settings_check(settings), await _database_check(settings)]
    if not settings.missing_github_app():
        checks += await github_checks(settings, manifest)
    checks += [_model_check(settings), _model_capability_check(settings), _linear_check(settings)]
    return checks


def _settings_check(settings: Settings) -> Check:
    missing = settings.missing_github_app()
    if missing:
        return Check("FAIL", "settings", _unconfigured(settings, missing))
    return Check("OK", "settings", "GitHub App id, private key and webhook secret are set")


def _unconfigured(settings: Settings, missing: list[str]) -> str:
    """The two ways to an App: the README's (one click through `serve`'s setup link, kept in
    the data directory, which doctor finds only from the same working directory or
    BACKEND_REVIEW_DATA_DIR), and by hand."""
    kept = registered_app_dir(settings.data_dir).resolve()
    return (
        f"{', '.join(missing)} not set (GitHub was not checked). To register the App in one "
        "click, start `./scripts/serve` (or `backend-review serve`) and open the setup link it "
        f"prints: the App is kept in {kept}/, where doctor reads it when run from the same "
        "directory as serve (./data is relative to the working directory) or with the same "
        "BACKEND_REVIEW_DATA_DIR. Or by hand: the App's id and a private key are on "
        f"{_APP_SETTINGS}, the webhook secret is the one entered there; put them in the "
        "environment or .env"
    )


async def _database_check(settings: Settings) -> Check:
    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return Check(
            "WARN",
            "database",
            f"no database yet at {path}: `backend-review serve` creates and migrates it at "
            "start (check BACKEND_REVIEW_DATA_DIR if one should be there)",
        )
    store = Store.open(url, create=False)
    try:
        revision = await reachable_revision(store)
    except AdminError as exc:
        return Check("FAIL", "database", exc.message)
    finally:
        await store.close()
    head = migrate.head_revision()
    if revision != head:
        return Check(
            "WARN",
            "database",
            f"at revision {revision or 'none (empty)'}, the newest is {head}: run "
            "`backend-review db upgrade` (serve also migrates at start)",
        )
    return Check("OK", "database", f"reachable, at the newest migration ({head})")


async def github_checks(settings: Settings, manifest: Path | None) -> list[Check]:
    try:
        # No retries: a check says what is wrong now, it does not wait for it to pass.
        async with GitHubApp(
            github_credentials(settings), policy=RetryPolicy(max_retries=0)
        ) as github:
            answer = await app_checks(github, str(settings.github_api_url), manifest)
    except ConfigError as exc:
        return [Check("FAIL", "github", f"{exc}: GitHub was not asked")]
    return answer.checks


@dataclass(frozen=True)
class AppAnswer:
    """The App as GitHub has it (None unless GitHub answered) and the checks on it."""

    info: AppInfo | None
    checks: list[Check]
    # False when GitHub gave no answer at all (the network), rather than refusing the App.
    reached: bool = True


async def app_checks(github: GitHubApp, api: str, manifest: Path | None) -> AppAnswer:
    try:
        info = await AppHooks(github).app()
    except GitHubError as exc:
        return AppAnswer(
            None, [Check("FAIL", "github", _github_fix(exc, api))], exc.status is not None
        )
    checks = [Check("OK", "github", f"{api} accepts the App's key: App '{info.slug}'")]
    try:
        wanted = read_manifest(manifest) if manifest is not None else _built_in_manifest()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        checks.append(
            Check("WARN", "permissions", f"{manifest} unreadable ({reason}): not compared")
        )
        return AppAnswer(info, checks)
    permissions, events = wanted
    return AppAnswer(info, [*checks, *compare(info, permissions, events)])


def _github_fix(exc: GitHubError, api: str) -> str:
    if exc.status == 401:
        return (
            f"GitHub refused the App's JWT ({exc.reason}): check that GITHUB_APP_ID is the App "
            "the private key belongs to, and that this machine's clock is right"
        )
    if exc.status is None:
        return (
            f"cannot reach {api} ({exc.reason}): check GITHUB_API_URL, the network and any "
            "HTTPS_PROXY"
        )
    return f"{exc.reason}: check GITHUB_API_URL and the App"


def _built_in_manifest() -> tuple[dict[str, str], frozenset[str]]:
    """What the App needs, as the code knows it (the image ships no deploy/ folder; a test keeps
    this equal to deploy/app-manifest.yml)."""
    return dict(MANIFEST["default_permissions"]), frozenset(MANIFEST["default_events"])


def read_manifest(path: Path) -> tuple[dict[str, str], frozenset[str]]:
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        permissions = {str(k): str(v) for k, v in data["default_permissions"].items()}
        events = frozenset(str(e) for e in data["default_events"])
    except (KeyError, TypeError, AttributeError):
        raise ValueError("no default_permissions and default_events") from None
    return permissions, events


def compare(info: AppInfo, permissions: Mapping[str, str], events: Set[str]) -> list[Check]:
    """The App as registered on GitHub against the manifest: what it lacks fails (the code
    uses all of it), what it has beyond is a warning (more access than it needs)."""
    has = info.permissions
    lacking = [
        f"{name}: {level}" + (f" (has {has[name]})" if name in has else "")
        for name, level in sorted(permissions.items())
        if _RANK.get(info.permissions.get(name, "none"), 0) < _RANK.get(level, 0)
    ]
    extra = [
        f"{name}: {level}"
        for name, level in sorted(info.permissions.items())
        if name not in permissions or _RANK.get(level, 0) > _RANK.get(permissions[name], 0)
    ]
    checks = []
    if lacking:
        checks.append(
            Check(
                "FAIL",
                "permissions",
                f"the App lacks {', '.join(lacking)}: grant them on {_APP_SETTINGS} → "
                "Permissions and events, then accept them on each installation",
            )
        )
    if extra:
        checks.append(
            Check(
                "WARN",
                "permissions",
                f"the App has more than it needs: {', '.join(extra)}; remove them on the App's "
                "settings page",
            )
        )
    if not lacking and not extra:
        checks.append(Check("OK", "permissions", "exactly the ones deploy/app-manifest.yml asks"))
    missing_events = sorted(events - info.events)
    extra_events = sorted(info.events - events)
    if missing_events:
        checks.append(
            Check(
                "FAIL",
                "events",
                f"the App is not subscribed to {', '.join(missing_events)}: tick them under "
                f"'Subscribe to events' on {_APP_SETTINGS}",
            )
        )
    if extra_events:
        checks.append(
            Check(
                "WARN",
                "events",
                f"subscribed to events nothing here handles: {', '.join(extra_events)}; "
                "untick them to save deliveries",
            )
        )
    if not missing_events and not extra_events:
        checks.append(Check("OK", "events", "exactly the ones deploy/app-manifest.yml asks"))
    return checks


def _model_check(settings: Settings) -> Check:
    missing = settings.llm_missing()
    if missing:
        return Check(
            "WARN",
            "model",
            f"{missing}: reviews run on the rules alone; set it for the model's review",
        )
    return Check(
        "OK", "model", f"{settings.llm_provider} configured for {settings.model} (not called)"
    )


def _model_capability_check(settings: Settings) -> Check:
    """The configured model against the capability table (app/llm/capabilities.py)."""
    from app.llm.call_options import call_options
    from app.llm.capabilities import lookup, refusal

    refused = refusal(settings.llm_provider, settings.model)
    spec = lookup(settings.llm_provider, settings.model)
    if refused is not None or spec is None:
        return Check(
            "FAIL",
            "model table",
            f'{refused}: set BACKEND_REVIEW_MODEL to one of them (docs/llm.md, "Models")',
        )
    options = call_options(
        spec,
        tool_name="submit_review",
        max_output_tokens=settings.llm_max_output_tokens,
        thinking_budget=settings.llm_thinking_budget,
    )
    thinking = options.thinking.get("type", "off") if isinstance(options.thinking, dict) else "off"
    prices = "custom prices" if settings.llm_price_per_mtok else "list prices"
    return Check(
        "OK",
        "model table",
        f"{spec.name}: tool choice {options.tool_choice['type']}, thinking {thinking}, "
        f"max_tokens {options.max_tokens}, cost at {prices}",
    )


def _linear_check(settings: Settings) -> Check:
    key = settings.linear_api_key
    if key is None or not key.get_secret_value():
        return Check(
            "WARN",
            "linear",
            "LINEAR_API_KEY not set: linked Linear issues are not read (optional; set it to "
            "review against their acceptance criteria)",
        )
    return Check("OK", "linear", "LINEAR_API_KEY is set (not called)")
