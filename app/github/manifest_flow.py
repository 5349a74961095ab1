"""Registering the App from a manifest (GitHub's "manifest flow", as Probot does it).

    1. The setup page posts `manifest(base_url)` to `new_app_url(api_url, org)?state=...`.
    2. The person confirms on GitHub; GitHub sends the browser to our redirect URL with a code.
    3. `convert(api_url, code)` trades the code for the new App's id, key and webhook secret
       (`POST /app-manifests/{code}/conversions`, no authentication, one use, one hour).
    4. `app.github.manifest_check.check(api_url, registration, manifest)` compares the App
       GitHub made with the manifest we sent (permissions, events, home and webhook URLs):
       an App made from an edited manifest is refused before anything is saved.
    5. `save(data_dir, registration)` writes them where `app.settings` reads them on next start.

Errors, each with a `reason` safe to show and log (never a code, key or secret):

    GitHubError (app.github.types)
    └── ManifestError      the code was refused (404: expired or used; 422), or no answer
        └── NotOurApp      GitHub made an App, but not the one our manifest describes
    BackendReviewError (app.errors)
    └── SaveError          the App could not be written to the data directory
        └── AlreadyRegistered   one is there already: nothing is overwritten

The permissions and events are a constant here, not read from `deploy/app-manifest.yml`: the
package ships without the `deploy/` folder, and `tests/web/test_setup.py` keeps the two equal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from githubkit import GitHub
from githubkit.exception import GitHubException, RequestError, RequestFailed

from app import __version__
from app.errors import BackendReviewError
from app.github.errors import message_of
from app.github.parse import read_data
from app.github.types import GitHubError
from app.settings import (
    REGISTERED_APP_FILE,
    REGISTERED_KEY_FILE,
    registered_app_dir,
)

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = f"backend-review/{__version__}"


def setup_client(
    api_url: str, transport: httpx.AsyncBaseTransport | None, auth: Any = None
) -> GitHub[Any]:
    """A client for the registration's few calls: no cache, no retry (a code works once)."""
    return GitHub(
        auth,
        base_url=api_url,
        user_agent=USER_AGENT,
        timeout=TIMEOUT,
        async_transport=transport,
        http_cache=False,
        auto_retry=False,
    )


# Keep equal to deploy/app-manifest.yml (tests/web/test_setup.py checks it).
MANIFEST: dict[str, Any] = {
    "name": "backend-review",
    "description": (
        "Reviews pull requests as a senior backend engineer would, "
        "with a check that can block merges."
    ),
    "public": False,
    "default_permissions": {
        "pull_requests": "write",
        "checks": "write",
        "issues": "write",
        "contents": "read",
        "metadata": "read",
        "merge_queues": "read",
    },
    "default_events": [
        "pull_request",
        "issue_comment",
        "pull_request_review_comment",
        "check_run",
        "check_suite",
        "merge_group",
    ],
}
WEBHOOK_PATH = "/webhooks/github"
CALLBACK_PATH = "/setup/callback"

# GitHub's codes are short hex strings; anything else must not reach the URL path we call.
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_ORG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")


class ManifestError(GitHubError):
    """The code could not be traded for an App."""


class NotOurApp(ManifestError):
    """The App GitHub created differs from our manifest (or could not be compared with it)."""


class SaveError(BackendReviewError):
    """The App GitHub created could not be written to the data directory."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AlreadyRegistered(SaveError):
    """The data directory already holds a registered App: nothing was overwritten."""


@dataclass(frozen=True)
class Registration:
    """The App GitHub created. Only `pem` and `webhook_secret` are secret."""

    app_id: int
    slug: str
    name: str
    html_url: str
    owner: str
    client_id: str
    pem: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    external_url: str = ""
    permissions: dict[str, str] = field(default_factory=dict)
    events: tuple[str, ...] = ()


def manifest(base_url: str, webhook_url: str | None = None) -> dict[str, Any]:
    """The manifest for this server, reached by browsers at `base_url` and by GitHub's webhooks
    at `webhook_url` (default: our endpoint under `base_url`; a webhook channel's URL when the
    server takes its deliveries from one)."""
    base = base_url.rstrip("/")
    return {
        **MANIFEST,
        "url": f"{base}/",
        "hook_attributes": {"url": webhook_url or f"{base}{WEBHOOK_PATH}", "active": True},
        "redirect_url": f"{base}{CALLBACK_PATH}",
    }


def web_url(api_url: str) -> str:
    """GitHub's web address for its API address.

    `https://api.github.com` -> `https://github.com`; GHE.com `https://api.X.ghe.com` ->
    `https://X.ghe.com`; GHES `https://HOST/api/v3` -> `https://HOST`; anything else (a local
    fake) keeps its origin.
    """
    url = httpx.URL(api_url)
    host, path = url.host, url.path.rstrip("/")
    if path.endswith("/api/v3"):
        path = path.removesuffix("/api/v3")
    elif host == "api.github.com" or (host.startswith("api.") and host.endswith(".ghe.com")):
        host, path = host.removeprefix("api."), ""
    else:
        path = ""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{host}{port}{path}"


def valid_code(code: str) -> bool:
    """The code has the shape of one GitHub gives (checked before anything is sent)."""
    return bool(_CODE.fullmatch(code))


def valid_org(org: str) -> bool:
    return bool(_ORG.fullmatch(org))


def new_app_url(api_url: str, org: str | None = None) -> str:
    """Where the manifest is posted: the person's own account, or the organization `org`."""
    web = web_url(api_url)
    if org is None:
        return f"{web}/settings/apps/new"
    if not valid_org(org):
        raise ValueError("not an organization name")
    return f"{web}/organizations/{org}/settings/apps/new"


async def convert(
    api_url: str,
    code: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Registration:
    """Trade the code GitHub gave the browser for the new App, or raise ManifestError."""
    if not valid_code(code):
        raise ManifestError("the code in the address is not one GitHub gives")
    # No authentication: the code itself is the credential. No retry: a code works once.
    gh = setup_client(api_url, transport)
    try:
        async with gh:
            response = await gh.rest.apps.async_create_from_manifest(code)
            data = response.json()
    except RequestFailed as exc:
        status = exc.response.status_code
        reason = _refusal(status, message_of(exc.response.raw_response))
        raise ManifestError(reason, status=status, transient=status >= 500) from None
    except (GitHubException, httpx.HTTPError, httpx.InvalidURL) as exc:
        # Never str(exc): its text names the URL, and so the code, which still works for an hour.
        cause = exc.exc if isinstance(exc, RequestError) else exc
        reason = f"GitHub at {api_url} could not be reached ({type(cause).__name__})"
        raise ManifestError(reason, transient=True) from None
    try:
        return read_data("the new App", _registration, data)
    except GitHubError as exc:
        raise ManifestError(exc.reason) from None


def _refusal(status: int, message: str) -> str:
    if status == 404:
        return (
            "GitHub does not know this code: it has expired (codes last an hour) or was "
            "already used. Register the App again from the home page."
        )
    return f"GitHub refused the code ({status}: {message or 'no message'})"


def _registration(data: Any) -> Registration:
    owner = data.get("owner") or {}
    pem, secret = data["pem"], data["webhook_secret"]
    if not (isinstance(pem, str) and pem.startswith("-----BEGIN")):
        raise ValueError("pem")
    if not (isinstance(secret, str) and secret):
        raise ValueError("webhook_secret")
    permissions = data.get("permissions") or {}
    events = data.get("events") or []
    if not (isinstance(permissions, dict) and isinstance(events, list)):
        raise ValueError("permissions")
    return Registration(
        external_url=str(data.get("external_url") or ""),
        permissions={str(k): str(v) for k, v in permissions.items()},
        events=tuple(str(e) for e in events),
        app_id=int(data["id"]),
        slug=str(data["slug"]),
        name=str(data["name"]),
        html_url=str(data["html_url"]),
        owner=str(owner.get("login") or ""),
        client_id=str(data.get("client_id") or ""),
        pem=pem,
        webhook_secret=secret,
    )


def save(data_dir: Path, registration: Registration, *, api_url: str) -> Path:
    """Write the App where the settings read it on the next start; returns the folder.

    Both files are created 0600 in a private temporary folder that is then renamed into place,
    so a reader sees the whole App or none of it, and an existing App is never overwritten.
    The OAuth client secret is not kept: nothing here uses it, and GitHub makes new ones.
    """
    target = registered_app_dir(data_dir)
    if (target / REGISTERED_APP_FILE).exists():
        raise AlreadyRegistered(f"{target} already holds a registered App")
    record = {
        "id": registration.app_id,
        "slug": registration.slug,
        "name": registration.name,
        "html_url": registration.html_url,
        "owner": registration.owner,
        "client_id": registration.client_id,
        "api_url": api_url,
        "webhook_secret": registration.webhook_secret,
    }
    staging: Path | None = None
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".github-app-", dir=data_dir))  # mode 0700
        _write_private(staging / REGISTERED_KEY_FILE, registration.pem)
        _write_private(staging / REGISTERED_APP_FILE, json.dumps(record, indent=2) + "\n")
        # Replaces only an absent or empty folder: an existing App stays as it is.
        staging.rename(target)
    except OSError as exc:
        if (target / REGISTERED_APP_FILE).exists():
            raise AlreadyRegistered(f"{target} already holds a registered App") from None
        reason = exc.strerror or type(exc).__name__
        raise SaveError(f"cannot write {target}: {reason}") from None
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_private(path: Path, text: str) -> None:
    # Created with its final mode: never readable by others, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)  # whatever the umask took away
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
