"""GET /: what this server is, and exactly what is left to configure.

Once the App is configured it says what GitHub says (app.web.status: doctor's checks, asked of
GitHub and kept a minute), where the App is installed, what arrived last and what failed last.
While setup is open it offers to register the App in a click (app.web.setup), to the browser
that brought the setup token printed at start-up; anyone else is told where to find that link.
"""

from __future__ import annotations

from html import escape

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.github import manifest_flow
from app.settings import Settings
from app.store.jobs import JobStatus
from app.web import status_page
from app.web.channel_offer import NEW_CHANNEL, channel_offer, restart_command
from app.web.services import services
from app.web.setup import (
    STATE_COOKIE,
    page,
    registration_form,
    remember,
    webhook_channel,
    wrong_host,
)
from app.web.setup_gate import (
    TOKEN_COOKIE,
    gate_of,
    github_settings_present,
    host_allowed,
    on_public_host,
    public_base_url,
    reachable_by_github,
    registered_on_disk,
    token_of,
)

router = APIRouter()


@router.get("/", response_class=HTMLResponse, name="home", response_model=None)
async def home(request: Request, org: str = "") -> HTMLResponse | RedirectResponse:
    settings = services(request).settings
    if not host_allowed(request, settings):
        return wrong_host()
    base = public_base_url(request, settings)
    webhook_url = escape(base + request.app.url_path_for("receive"))
    missing = settings.missing_github_app()
    if not missing:
        return await _configured(request, settings, base)
    if registered_on_disk(settings):
        return page(
            "<p><strong>A GitHub App was registered.</strong> Restart backend-review to "
            "connect with it.</p>"
        )
    trusted = gate_of(request).accepts(token_of(request))
    by_hand = _by_hand(missing, _webhook_advice(settings, base, webhook_url, trusted=trusted))
    present = github_settings_present(settings)
    if present:
        names = ", ".join(f"<code>{escape(name)}</code>" for name in present)
        return page(
            f"<p><strong>Partly configured:</strong> {names} set, the rest missing. One-click "
            "registration is off while any GitHub setting is set: it would mix a new App's "
            "credentials with these. Finish by hand, or unset them and restart.</p>" + by_hand
        )
    gate = gate_of(request)
    token = token_of(request)
    if not gate.accepts(token):
        return page(
            "<p><strong>Not connected to GitHub yet.</strong></p>"
            "<h2>Register the GitHub App</h2><p>To register it in one click, open the link "
            "the server printed in its log when it started (it ends in "
            "<code>/?token=…</code>); restarting prints a new one.</p>" + by_hand,
            403 if token else 200,
        )
    if not on_public_host(request, settings):
        link = f"{base}/?token={gate.token}"
        return page(
            "<p><strong>Not connected to GitHub yet.</strong></p><h2>Register the GitHub App"
            f'</h2><p>Open <a href="{escape(link)}">this page at <code>{escape(base)}</code>'
            "</a> (<code>BACKEND_REVIEW_PUBLIC_URL</code>) to register the App: GitHub sends "
            "the browser back there, and the registration must finish where it started.</p>"
            + by_hand
        )
    return _form_page(request, settings, org, token or "", by_hand)


RECENT_FAILURES = 5


async def _configured(
    request: Request, settings: Settings, base: str
) -> HTMLResponse | RedirectResponse:
    svc = services(request)
    webhook_url = base + request.app.url_path_for("receive")  # escaped where it is shown
    github = await request.app.state.github_status.get()
    offer = ""
    if svc.forwarder is None and not reachable_by_github(base):
        offer = channel_offer(base, settings, registered=True)
    token = token_of(request)
    if gate_of(request).shows_details(request.query_params.get("token")):
        # Keep the token in a cookie and out of the address bar, the history and bookmarks.
        moved = RedirectResponse(request.app.url_path_for("home"), status_code=303)
        remember(moved, TOKEN_COOKIE, token or "", base)
        return moved
    if not gate_of(request).shows_details(token):
        # Anyone who can reach the server sees whether it works; what it reviews, what
        # arrived and what failed is for the operator.
        return page(
            status_page.github_section(
                github, settings.github_app_id, str(settings.github_api_url), details=False
            )
            + status_page.webhooks_section(webhook_url, None, svc.forwarder, offer, details=False)
            + status_page.DETAILS_HIDDEN
            + _probes(github.checked_at)
        )
    last = await svc.store.list_deliveries(limit=1)
    jobs = await svc.store.list_jobs(limit=50)
    failed = [
        job for job in jobs if job.last_error and job.status in (JobStatus.QUEUED, JobStatus.DEAD)
    ][:RECENT_FAILURES]
    return page(
        status_page.github_section(github, settings.github_app_id, str(settings.github_api_url))
        + status_page.webhooks_section(webhook_url, last[0] if last else None, svc.forwarder, offer)
        + status_page.failures_section(failed)
        + _probes(github.checked_at)
    )


def _probes(checked_at: float) -> str:
    return (
        '<p>Probes: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, '
        '<a href="/metrics">/metrics</a>. GitHub was asked at '
        f"{status_page.checked_at(checked_at)}; asked again after a minute.</p>"
    )


def _form_page(
    request: Request, settings: Settings, org: str, token: str, by_hand: str
) -> HTMLResponse:
    notice = ""
    chosen = org.strip() or None
    if chosen is not None and not manifest_flow.valid_org(chosen):
        notice = (
            f"<p><strong><code>{escape(chosen)}</code> is not an organization name.</strong> "
            "The form below registers the App for your own account.</p>"
        )
        chosen = None
    form, state = registration_form(request, settings, chosen)
    response = page(
        "<p><strong>Not connected to GitHub yet.</strong></p>" + notice + form + by_hand
    )
    base = public_base_url(request, settings)
    remember(response, STATE_COOKIE, state, base)
    # The callback needs the token too, and GitHub's redirect will not carry it in the address.
    remember(response, TOKEN_COOKIE, token, base)
    return response


def _by_hand(missing: list[str], webhook: str) -> str:
    items = "".join(f"<li><code>{escape(name)}</code></li>" for name in missing)
    return (
        "<h2>Or configure it by hand</h2>"
        "<p>The server runs and stores nothing until these settings are present (environment "
        "variables, or a <code>.env</code> file in the working directory):</p>"
        f"<ul>{items}</ul>"
        "<p>Create a GitHub App (Settings → Developer settings → GitHub Apps), set its "
        "webhook secret to the value of <code>GITHUB_WEBHOOK_SECRET</code> and its webhook URL "
        f"as said below, download a private key, then restart.</p>{webhook}"
    )


def _webhook_advice(settings: Settings, base: str, webhook_url: str, *, trusted: bool) -> str:
    """The App's webhook URL, as HTML (`webhook_url` escaped already): the channel's address
    when deliveries come through one; this server's endpoint only when GitHub can reach it."""
    channel = webhook_channel(settings)
    if channel is not None:
        # The channel's address is enough to read what goes through it: only the browser with
        # the setup link sees it whole, anyone else its host.
        shown = (
            f"<code>{escape(channel)}</code>"
            if trusted
            else f"the address on <code>{escape(httpx.URL(channel).host)}</code> given to "
            "<code>--webhook-proxy</code> (<code>BACKEND_REVIEW_WEBHOOK_PROXY_URL</code>)"
        )
        return (
            "<p>Webhook URL: this server takes its webhooks from a webhook channel, so set it "
            f"to the channel's address, {shown}.</p>"
        )
    if not reachable_by_github(base):
        command = escape(restart_command(settings))
        return (
            f"<p>Webhook URL: GitHub cannot reach <code>{escape(base)}</code>, so "
            f"<code>{webhook_url}</code> would never be called. Either give this server a public "
            "address (set <code>BACKEND_REVIEW_PUBLIC_URL</code> to it, and the webhook URL to "
            "it followed by <code>/webhooks/github</code>), or take the webhooks through a "
            f'webhook channel: open <a href="{NEW_CHANNEL}">{NEW_CHANNEL}</a>, set the webhook '
            f"URL to the channel's address and restart with <code>{command}</code> (see "
            "<em>On a laptop</em> in docs/github-app.md).</p>"
        )
    return f"<p>Webhook URL: <code>{webhook_url}</code>.</p>"
