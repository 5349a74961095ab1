"""GitHub's App manifest flow, for the fake: `POST /app-manifests/{code}/conversions`.

The person confirming the manifest on GitHub's page is played by the test:
`code = manifest_code(fake, manifest)` is the code GitHub would put in the redirect back to us,
for the manifest our form posted. GitHub answers the conversion without authentication
(`auth="none"`); a code works once, and a used or unknown one gets 404 "Not Found".

The App "created" is the fake's own (its id, slug and key), so the credentials it hands out
authenticate against the same fake; its webhook and client secrets are new each time. Its
webhook configuration (`GET /app/hook/config`, as the App) is the converted manifest's.
"""

from __future__ import annotations

import secrets
import weakref
from typing import Any
from urllib.parse import urlsplit

from tests.fakes import github_json as js
from tests.fakes.github_http import Ctx, Reply, Route, not_found, route
from tests.fakes.github_objects import iso
from tests.fakes.github_routes import SetupError
from tests.fakes.github_state import GitHubState

ROUTES: list[Route] = []
DOC = "/apps/apps#create-a-github-app-from-a-manifest"
# The permission a subscription needs (any one of them), from GitHub's webhook event docs.
EVENT_NEEDS = {
    "pull_request": ("pull_requests",),
    "issue_comment": ("issues", "pull_requests"),
    "pull_request_review_comment": ("pull_requests",),
    "check_run": ("checks",),
    "check_suite": ("checks",),
    "merge_group": ("merge_queues",),
}

_codes: weakref.WeakKeyDictionary[GitHubState, dict[str, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)
_hooks: weakref.WeakKeyDictionary[GitHubState, dict[str, Any]] = weakref.WeakKeyDictionary()
HOOK_DOC = "/apps/webhooks#get-a-webhook-configuration-for-an-app"


def manifest_code(state: GitHubState, manifest: dict[str, Any]) -> str:
    """The code GitHub redirects with once `manifest` was confirmed (SetupError if GitHub's
    page would have refused it)."""
    _check(manifest)
    code = secrets.token_hex(10)  # GitHub's are 20 hex characters
    with state.lock:
        _codes.setdefault(state, {})[code] = manifest
    return code


def pending_codes(state: GitHubState) -> set[str]:
    with state.lock:
        return set(_codes.get(state, {}))


def _check(manifest: dict[str, Any]) -> None:
    hook = manifest.get("hook_attributes") or {}
    for name, url in (("url", manifest.get("url")), ("hook_attributes.url", hook.get("url"))):
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise SetupError(f"manifest {name} must be an http(s) URL, got {url!r}")
    permissions = manifest.get("default_permissions") or {}
    for event in manifest.get("default_events") or []:
        needs = EVENT_NEEDS.get(event, ())
        if needs and not any(permissions.get(p) in ("read", "write") for p in needs):
            raise SetupError(f"manifest event {event!r} needs one of {needs}")


@route(ROUTES, "POST", "/app-manifests/{code}/conversions", "none")
def convert(state: GitHubState, ctx: Ctx) -> Reply:
    manifest = _codes.get(state, {}).pop(ctx.params["code"], None)
    if manifest is None:
        raise not_found(DOC)
    now = iso(state.now())
    hook = manifest.get("hook_attributes") or {}
    _hooks[state] = {"content_type": "json", "insecure_ssl": "0", "url": hook.get("url", "")}
    body = {
        "id": state.app_id,
        "slug": state.app_slug,
        "node_id": js.node_id("A", state.app_id),
        "owner": js.user(ctx.api, state.app_owner),
        "name": manifest.get("name") or state.app_slug,
        "description": manifest.get("description"),
        "external_url": manifest["url"],
        "html_url": f"{js.WEB}/apps/{state.app_slug}",
        "created_at": now,
        "updated_at": now,
        "permissions": dict(manifest.get("default_permissions") or {}),
        "events": list(manifest.get("default_events") or []),
        "client_id": f"Iv23li{state.app_id}",
        "client_secret": secrets.token_hex(20),
        "webhook_secret": secrets.token_hex(20),
        "pem": state.private_key_pem,
    }
    return Reply(201, body)


@route(ROUTES, "GET", "/app/hook/config", "jwt")
def hook_config(state: GitHubState, ctx: Ctx) -> Reply:
    config = _hooks.get(state)
    if config is None:
        raise not_found(HOOK_DOC)
    return Reply(200, {**config, "secret": "********"})
