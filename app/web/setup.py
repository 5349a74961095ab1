"""Register the GitHub App in one click, and the page shell the setup and home pages share.

While no App is configured, GET / (app.web.home) shows `registration_form`: a form that posts
our manifest to GitHub with a `state`. GitHub sends the browser back to GET /setup/callback with
a code; we check the state, trade the code (app.github.manifest_flow) and write the App to the
data directory, where the settings read it on the next start. We ask for that restart rather
than swapping settings under a running worker.

The state is random, remembered by this process for an hour, good once, and also set as a cookie
on the browser that was shown the form: a callback needs both, so a link crafted by someone
else (CSRF) cannot register their App here. With several replicas, register through one of them.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import secrets
import time
from collections.abc import Callable
from html import escape
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import __version__
from app.github import manifest_flow
from app.github.manifest_flow import (
    CALLBACK_PATH,
    AlreadyRegistered,
    ManifestError,
    Registration,
    SaveError,
)
from app.settings import REGISTERED_APP_FILE, Settings, registered_app_dir
from app.web.services import services

log = logging.getLogger(__name__)
router = APIRouter()

STATE_COOKIE = "backend_review_setup_state"
STATE_SECONDS = 3600.0  # as long as GitHub's code lives
MAX_PENDING = 64  # a crawler reloading / must not grow this without bound

_SHELL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>backend-review</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}}
code{{background:#f3f3f3;padding:.1rem .3rem}}
button{{font-size:1rem;padding:.4rem .9rem}}</style></head>
<body><h1>backend-review {version}</h1>{body}</body></html>"""


def page(body: str, status_code: int = 200) -> HTMLResponse:
    """A page of ours around `body` (HTML the caller has escaped)."""
    return HTMLResponse(_SHELL.format(version=__version__, body=body), status_code=status_code)


def public_base_url(request: Request, settings: Settings) -> str:
    """Where GitHub and browsers reach us: BACKEND_REVIEW_PUBLIC_URL, else the request's own."""
    if settings.public_url is not None:
        return str(settings.public_url).rstrip("/")
    return str(request.base_url).rstrip("/")


def registered_on_disk(settings: Settings) -> bool:
    """An App was registered here and waits for a restart to be used (or is in use)."""
    return (registered_app_dir(settings.data_dir) / REGISTERED_APP_FILE).exists()


class PendingStates:
    """States handed out with the form, each good once and for STATE_SECONDS."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self.lock = asyncio.Lock()  # one code traded at a time: never two Apps for one server

    def issue(self) -> str:
        now = self._clock()
        self._expiry = {s: t for s, t in self._expiry.items() if t > now}
        while len(self._expiry) >= MAX_PENDING:
            del self._expiry[next(iter(self._expiry))]  # the oldest
        state = secrets.token_urlsafe(24)
        self._expiry[state] = now + STATE_SECONDS
        return state

    def take(self, state: str) -> bool:
        expiry = self._expiry.pop(state, None)
        return expiry is not None and expiry > self._clock()


def _pending(request: Request) -> PendingStates:
    state = request.app.state
    if not hasattr(state, "setup_states"):
        state.setup_states = PendingStates()
    found: PendingStates = state.setup_states
    return found


def registration_form(request: Request, settings: Settings, org: str | None) -> tuple[str, str]:
    """The "Register GitHub App" section of the home page, and the state to set as the cookie."""
    base = public_base_url(request, settings)
    api_url = str(settings.github_api_url)
    state = _pending(request).issue()
    target = manifest_flow.new_app_url(api_url, org)
    action = f"{target}?{urlencode({'state': state})}"
    manifest = json.dumps(manifest_flow.manifest(base))
    who = f"the organization <code>{escape(org)}</code>" if org else "your own account"
    html = (
        "<h2>Register the GitHub App</h2>"
        f"<p>One click creates the App on <code>{escape(manifest_flow.web_url(api_url))}</code> "
        f"for {who}, with exactly the permissions and events it needs, its webhook pointing "
        f"at <code>{escape(base)}</code>. GitHub then sends you back here and the App's "
        "id, key and webhook secret are saved in the data directory.</p>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="manifest" value="{escape(manifest)}">'
        '<button type="submit">Register GitHub App</button></form>'
        '<form method="get" action="/" style="margin-top:1rem">'
        '<label>For an organization instead: <input name="org" size="20" '
        f'value="{escape(org or "")}" placeholder="organization"></label> '
        '<button type="submit">Use this organization</button></form>'
    )
    if not _reachable_by_github(base):
        html += (
            f"<p><strong>GitHub cannot reach <code>{escape(base)}</code>.</strong> Set "
            "<code>BACKEND_REVIEW_PUBLIC_URL</code> to the address it can (behind a proxy, "
            "or a tunnel while trying it out) and reload this page.</p>"
        )
    return html, state


def remember_state(response: HTMLResponse, state: str, base_url: str) -> None:
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=int(STATE_SECONDS),
        httponly=True,
        samesite="lax",  # sent on GitHub's redirect back to us (a top-level GET)
        secure=base_url.startswith("https://"),
    )


def _reachable_by_github(base_url: str) -> bool:
    host = httpx.URL(base_url).host
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: we cannot tell from here
    return address.is_global


@router.get(CALLBACK_PATH, response_class=HTMLResponse)
async def callback(request: Request, code: str = "", state: str = "") -> HTMLResponse:
    """GitHub's redirect after the App was created: trade the code, keep the App."""
    settings = services(request).settings
    if not settings.missing_github_app() or registered_on_disk(settings):
        return _already_configured()
    pending = _pending(request)
    cookie = request.cookies.get(STATE_COOKIE, "")
    if not (state and cookie and hmac.compare_digest(state, cookie) and pending.take(state)):
        log.warning("App registration refused: unknown, expired or mismatched state")
        return page(
            "<h2>This registration link is not valid here</h2>"
            "<p>It was not started from this browser on this server, was already used, or is "
            'more than an hour old. Start again from the <a href="/">home page</a>, opened '
            f"at <code>{escape(public_base_url(request, settings))}</code>.</p>",
            400,
        )
    if not code:
        return page("<h2>GitHub sent no code</h2><p>Start again from the "
                    '<a href="/">home page</a>.</p>', 400)  # fmt: skip
    api_url = str(settings.github_api_url)
    async with pending.lock:
        if registered_on_disk(settings):
            return _already_configured()
        try:
            registration = await manifest_flow.convert(api_url, code)
        except ManifestError as exc:
            log.warning("App registration failed: %s", exc.reason)
            status = 400 if exc.status is not None and exc.status < 500 else 502
            return page(
                "<h2>The App could not be registered</h2>"
                f"<p>{escape(exc.reason)}</p><p>Nothing was saved. "
                '<a href="/">Back to the home page</a>.</p>',
                status,
            )
        try:
            folder = manifest_flow.save(settings.data_dir, registration, api_url=api_url)
        except SaveError as exc:
            log.error("App %s created on GitHub but not saved: %s", registration.slug, exc.reason)
            return _not_saved(registration, exc, 409 if isinstance(exc, AlreadyRegistered) else 500)
    log.info(
        "registered GitHub App %s (id %d) in %s; restart to use it",
        registration.slug,
        registration.app_id,
        folder,
    )
    response = page(_registered(registration, settings, str(folder)))
    response.delete_cookie(STATE_COOKIE)
    return response


def _already_configured() -> HTMLResponse:
    return page(
        "<h2>A GitHub App is already configured</h2><p>Nothing was changed. To register a "
        "different App, remove the current one's settings (or its folder in the data "
        'directory) and restart. <a href="/">Home</a>.</p>',
        409,
    )


def _not_saved(registration: Registration, exc: SaveError, status: int) -> HTMLResponse:
    return page(
        "<h2>The App was created on GitHub, but not saved here</h2>"
        f"<p>{escape(exc.reason)}.</p><p>Delete the App "
        f'<a href="{escape(registration.html_url)}">{escape(registration.slug)}</a> in '
        "GitHub's settings (Developer settings → GitHub Apps), fix the data directory, "
        'and register again from the <a href="/">home page</a>.</p>',
        status,
    )


def _registered(registration: Registration, settings: Settings, folder: str) -> str:
    app_link = escape(registration.html_url)
    overridden = [
        name
        for name, value in (
            ("GITHUB_APP_ID", settings.github_app_id),
            ("GITHUB_PRIVATE_KEY", settings.github_private_key),
            ("GITHUB_PRIVATE_KEY_PATH", settings.github_private_key_path),
            ("GITHUB_WEBHOOK_SECRET", settings.github_webhook_secret),
        )
        if value is not None
    ]
    warning = ""
    if overridden:
        names = ", ".join(f"<code>{name}</code>" for name in overridden)
        warning = (
            f"<p><strong>Unset {names} before restarting:</strong> a value in the environment "
            "wins over the registered App's, and GitHub signs deliveries with the App's own "
            "secret.</p>"
        )
    return (
        f'<h2>Registered GitHub App <a href="{app_link}">{escape(registration.name)}</a></h2>'
        f"<p>App id <code>{registration.app_id}</code>, owned by "
        f"<code>{escape(registration.owner)}</code>. Its id, private key and webhook secret are "
        f"saved in <code>{escape(folder)}</code>, readable only by this server's user.</p>"
        f"{warning}"
        "<ol><li><strong>Restart backend-review</strong>: it reads the App when it starts.</li>"
        f'<li><a href="{app_link}/installations/new">Install the App</a> on the repositories '
        "to review.</li></ol>"
    )
