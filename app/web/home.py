"""GET /: what this server is, and exactly what is left to configure.

With no App configured it offers to register one in a click (app.web.setup).
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.github import manifest_flow
from app.web.services import services
from app.web.setup import (
    page,
    public_base_url,
    registered_on_disk,
    registration_form,
    remember_state,
)

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, org: str = "") -> HTMLResponse:
    settings = services(request).settings
    base = public_base_url(request, settings)
    webhook_url = escape(base + request.app.url_path_for("receive"))
    missing = settings.missing_github_app()
    if not missing:
        return page(
            f"<p>Connected as GitHub App <code>{settings.github_app_id}</code> "
            f"on <code>{escape(str(settings.github_api_url))}</code>.</p>"
            f"<p>Webhooks: <code>{webhook_url}</code>. "
            'Probes: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, '
            '<a href="/metrics">/metrics</a>.</p>'
        )
    if registered_on_disk(settings):
        return page(
            "<p><strong>A GitHub App was registered.</strong> Restart backend-review to "
            "connect with it.</p>"
        )
    notice = ""
    chosen = org.strip() or None
    if chosen is not None and not manifest_flow.valid_org(chosen):
        notice = (
            f"<p><strong><code>{escape(chosen)}</code> is not an organization name.</strong> "
            "The form below registers the App for your own account.</p>"
        )
        chosen = None
    form, state = registration_form(request, settings, chosen)
    items = "".join(f"<li><code>{escape(name)}</code></li>" for name in missing)
    body = (
        "<p><strong>Not connected to GitHub yet.</strong></p>"
        f"{notice}{form}"
        "<h2>Or configure it by hand</h2>"
        "<p>The server runs and stores nothing until these settings are present (environment "
        "variables, or a <code>.env</code> file in the working directory):</p>"
        f"<ul>{items}</ul>"
        "<p>Create a GitHub App (Settings → Developer settings → GitHub Apps), set its "
        f"webhook URL to <code>{webhook_url}</code> and its webhook secret to the value of "
        "<code>GITHUB_WEBHOOK_SECRET</code>, download a private key, then restart.</p>"
    )
    response = page(body)
    remember_state(response, state, base)
    return response
