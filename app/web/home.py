"""GET /: what this server is, and exactly what is left to configure."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import __version__
from app.web.services import services

router = APIRouter()

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>backend-review</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}}
code{{background:#f3f3f3;padding:.1rem .3rem}}</style></head>
<body><h1>backend-review {version}</h1>{body}</body></html>"""


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    settings = services(request).settings
    webhook_url = escape(str(request.url_for("receive")))
    missing = settings.missing_github_app()
    if missing:
        items = "".join(f"<li><code>{escape(name)}</code></li>" for name in missing)
        body = (
            "<p><strong>Not connected to GitHub yet.</strong> The server runs and stores nothing "
            "until these settings are present (environment variables, or a <code>.env</code> "
            "file in the working directory):</p>"
            f"<ul>{items}</ul>"
            "<p>Create a GitHub App (Settings → Developer settings → GitHub Apps), set its "
            f"webhook URL to <code>{webhook_url}</code> and its webhook secret to the value of "
            "<code>GITHUB_WEBHOOK_SECRET</code>, download a private key, then restart.</p>"
        )
    else:
        body = (
            f"<p>Connected as GitHub App <code>{settings.github_app_id}</code> "
            f"on <code>{escape(str(settings.github_api_url))}</code>.</p>"
            f"<p>Webhooks: <code>{webhook_url}</code>. "
            'Probes: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, '
            '<a href="/metrics">/metrics</a>.</p>'
        )
    return HTMLResponse(_PAGE.format(version=__version__, body=body))
