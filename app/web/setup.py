"""Register the GitHub App in one click, and the page shell the setup and home pages share.

While setup is open (app.web.setup_gate: no GitHub setting anywhere) and the browser brought
the setup token printed at start-up, GET / (app.web.home) shows `registration_form`: a form that
posts our manifest to GitHub with a `state`. GitHub sends the browser back to GET /setup/callback
with a code; we check the token, the state and the Host, trade the code
(app.github.manifest_flow), compare the App GitHub made with the manifest we sent, and only then
write it to the data directory, where the settings read it on the next start. We ask for that
restart rather than swapping settings under a running worker.

The state is random, remembered by this process for an hour with the address the manifest was
made for, good once, and also set as a cookie on the browser that was shown the form: a callback
needs the state, its cookie and the token's cookie, so a link crafted by someone else (CSRF)
cannot register their App here. With several replicas, register through one of them.
"""

from __future__ import annotations

import hmac
import json
import logging
from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app import __version__
from app.github import manifest_check, manifest_flow
from app.github.manifest_flow import (
    CALLBACK_PATH,
    AlreadyRegistered,
    ManifestError,
    NotOurApp,
    Registration,
    SaveError,
)
from app.settings import Settings
from app.web.channel_offer import channel_offer
from app.web.services import services
from app.web.setup_gate import (
    STATE_SECONDS,
    TOKEN_COOKIE,
    gate_of,
    host_allowed,
    public_base_url,
    reachable_by_github,
    setup_closed,
)

log = logging.getLogger(__name__)
router = APIRouter()

STATE_COOKIE = "backend_review_setup_state"

# no-referrer: the page's own address may carry the setup token; it must not travel to GitHub.
_SHELL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>backend-review</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}}
code{{background:#f3f3f3;padding:.1rem .3rem}}
button{{font-size:1rem;padding:.4rem .9rem}}</style></head>
<body><h1>backend-review {version}</h1>{body}</body></html>"""


def page(body: str, status_code: int = 200) -> HTMLResponse:
    """A page of ours around `body` (HTML the caller has escaped)."""
    return HTMLResponse(_SHELL.format(version=__version__, body=body), status_code=status_code)


def wrong_host() -> HTMLResponse:
    return page(
        "<h2>Not on this address</h2><p>This page answers only on <code>localhost</code> and "
        "on the host of <code>BACKEND_REVIEW_PUBLIC_URL</code>.</p>",
        400,
    )


def registration_form(request: Request, settings: Settings, org: str | None) -> tuple[str, str]:
    """The "Register GitHub App" section of the home page, and the state to set as the cookie."""
    base = public_base_url(request, settings)
    api_url = str(settings.github_api_url)
    state = gate_of(request).states.issue(base)
    target = manifest_flow.new_app_url(api_url, org)
    action = f"{target}?{urlencode({'state': state})}"
    channel = webhook_channel(settings)
    manifest = json.dumps(manifest_flow.manifest(base, channel))
    who = f"the organization <code>{escape(org)}</code>" if org else "your own account"
    hook = "the webhook channel" if channel else f"<code>{escape(base)}</code>"
    unreachable = channel is None and not reachable_by_github(base)
    html = (
        "<h2>Register the GitHub App</h2>"
        + (channel_offer(base, settings) if unreachable else "")
        + f"<p>One click creates the App on <code>{escape(manifest_flow.web_url(api_url))}</code> "
        f"for {who}, with exactly the permissions and events it needs, its webhook pointing "
        f"at {hook}. GitHub then sends you back here and the App's "
        "id, key and webhook secret are saved in the data directory.</p>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="manifest" value="{escape(manifest)}">'
        f'<button type="submit">Register GitHub App{" anyway" if unreachable else ""}</button>'
        "</form>"
        '<form method="get" action="/" style="margin-top:1rem">'
        '<label>For an organization instead: <input name="org" size="20" '
        f'value="{escape(org or "")}" placeholder="organization"></label> '
        '<button type="submit">Use this organization</button></form>'
    )
    return html, state


def webhook_channel(settings: Settings) -> str | None:
    """The webhook channel's URL, when GitHub's deliveries come through one (app.webhook_proxy)."""
    channel = settings.webhook_proxy_url
    return None if channel is None else str(channel)


def remember(response: Response, name: str, value: str, base_url: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(STATE_SECONDS),
        httponly=True,
        samesite="lax",  # sent on GitHub's redirect back to us (a top-level GET)
        secure=base_url.startswith("https://"),
    )


@router.get(CALLBACK_PATH, response_class=HTMLResponse)
async def callback(request: Request, code: str = "", state: str = "") -> HTMLResponse:
    """GitHub's redirect after the App was created: trade the code, check the App, keep it."""
    settings = services(request).settings
    if not host_allowed(request, settings):
        return wrong_host()
    if setup_closed(settings):
        return _already_configured()
    gate = gate_of(request)
    if not gate.accepts(request.cookies.get(TOKEN_COOKIE)):
        log.warning("App registration refused: the browser did not bring the setup token")
        return page(
            "<h2>Setup needs its link</h2><p>Registration can only be finished in the browser "
            "that opened the setup link printed in the server's log at start-up. Open that "
            "link and start again. Nothing was asked of GitHub.</p>",
            403,
        )
    cookie = request.cookies.get(STATE_COOKIE, "")
    # Bytes: compare_digest refuses str with non-ASCII characters, and these are anyone's.
    same = bool(state) and hmac.compare_digest(state.encode(), cookie.encode())
    pending = gate.states.take(state) if same else None
    if pending is None:
        log.warning("App registration refused: unknown, expired or mismatched state")
        return page(
            "<h2>This registration link is not valid here</h2>"
            "<p>It was not started from this browser on this server, was already used, or is "
            'more than an hour old. Start again from the <a href="/">home page</a>, opened '
            f"at <code>{escape(public_base_url(request, settings))}</code>.</p>",
            400,
        )
    if not manifest_flow.valid_code(code):
        # Missing or not the shape of GitHub's codes: a mangled or forged address, never sent on.
        log.warning("App registration refused: the address carries no code GitHub gives")
        return page(
            "<h2>The address has no code from GitHub</h2><p>GitHub sends you back here with a "
            "short code of letters and digits; this address has none, or one that is not "
            "GitHub's. Nothing was sent to GitHub and nothing was saved. Start again from the "
            '<a href="/">home page</a>.</p>',
            400,
        )
    api_url = str(settings.github_api_url)
    async with gate.states.lock:
        if setup_closed(settings):
            return _already_configured()
        try:
            registration = await manifest_flow.convert(api_url, code)
        except ManifestError as exc:
            log.warning("App registration failed: %s", exc.reason)
            return _not_converted(exc, api_url)
        try:
            expected = manifest_flow.manifest(pending.base_url, webhook_channel(settings))
            await manifest_check.check(api_url, registration, expected)
        except NotOurApp as exc:
            log.error("App %s created on GitHub but refused: %s", registration.slug, exc.reason)
            return _not_saved(registration, exc.reason, 502 if exc.transient else 400)
        try:
            folder = manifest_flow.save(settings.data_dir, registration, api_url=api_url)
        except SaveError as exc:
            log.error("App %s created on GitHub but not saved: %s", registration.slug, exc.reason)
            status = 409 if isinstance(exc, AlreadyRegistered) else 500
            return _not_saved(registration, exc.reason, status)
    gate.close()
    log.info(
        "registered GitHub App %s (id %d) in %s; restart to use it",
        registration.slug,
        registration.app_id,
        folder,
    )
    response = page(_registered(registration, settings, str(folder)))
    response.delete_cookie(STATE_COOKIE)
    response.delete_cookie(TOKEN_COOKIE)
    return response


def _not_converted(exc: ManifestError, api_url: str) -> HTMLResponse:
    status = 400 if exc.status is not None and exc.status < 500 else 502
    maybe = ""
    if status == 502:
        # The request may have reached GitHub and created the App before the answer was lost.
        maybe = (
            "<p><strong>GitHub may have created the App even so.</strong> Look under "
            f'<a href="{escape(manifest_flow.web_url(api_url))}/settings/apps">Developer '
            "settings → GitHub Apps</a> (or your organization's settings): if a backend-review "
            "App appeared just now, delete it (its page → Advanced → Delete GitHub App) "
            "before registering again.</p>"
        )
    return page(
        "<h2>The App could not be registered</h2>"
        f"<p>{escape(exc.reason)}</p><p>Nothing was saved here.</p>{maybe}"
        '<p><a href="/">Back to the home page</a>.</p>',
        status,
    )


def _already_configured() -> HTMLResponse:
    return page(
        "<h2>A GitHub App is already configured</h2><p>Nothing was changed. To register a "
        "different App, remove the current one's settings (or its folder in the data "
        'directory) and restart. <a href="/">Home</a>.</p>',
        409,
    )


def _not_saved(registration: Registration, reason: str, status: int) -> HTMLResponse:
    return page(
        "<h2>GitHub created an App, but it was not saved here</h2>"
        f'<p>GitHub now has an App named <a href="{escape(registration.html_url)}">'
        f"{escape(registration.slug)}</a> (id <code>{registration.app_id}</code>, owned by "
        f"<code>{escape(registration.owner)}</code>), and this server did not keep it: "
        f"{escape(reason)}.</p>"
        "<p>To recover: delete that App on GitHub (Settings → Developer settings → GitHub Apps "
        "→ the App → Advanced → Delete GitHub App; for an organization's App, the "
        "organization's settings), fix what is named above, and register again from the "
        '<a href="/">home page</a>. Its private key and webhook secret were not stored '
        "anywhere.</p>",
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
