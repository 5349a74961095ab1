"""The way past "GitHub cannot reach this server" on a laptop: a webhook channel (smee.io).

GitHub posts to a public channel, and `serve --webhook-proxy URL` reads it and posts each
delivery to its own endpoint, where it is checked like any other (app.webhook_proxy).
"""

from __future__ import annotations

import shlex
from html import escape

from app.settings import Settings

NEW_CHANNEL = "https://smee.io/new"
CHANNEL_PLACEHOLDER = "https://smee.io/…"


def restart_command(settings: Settings, channel: str = CHANNEL_PLACEHOLDER) -> str:
    """`./scripts/serve` with the channel and this server's own host and port, so that the
    restarted server is where the browser looks for it (defaults left out: they need no saying).
    """
    words = ["./scripts/serve", "--webhook-proxy", channel]
    fields = Settings.model_fields
    if settings.host != fields["host"].default:
        words += ["--host", shlex.quote(settings.host)]
    if settings.port != fields["port"].default:
        words += ["--port", str(settings.port)]
    return " ".join(words)


def channel_offer(base_url: str, settings: Settings, *, registered: bool = False) -> str:
    """What to do when GitHub cannot reach `base_url` and no channel is set; `registered`: the
    App exists already, and its webhook URL must be changed to the channel's."""
    command = escape(restart_command(settings))
    # A restart makes a new setup (or status) token: the link this browser came with is dead.
    reopen = "open the new link it prints in its log (the link you used stops working)"
    last = (
        f"<li>{reopen}, and on the App's settings page on GitHub set its "
        "<em>Webhook URL</em> to the channel's address.</li>"
        if registered
        else f"<li>{reopen}: the App is then registered with the channel as its webhook.</li>"
    )
    return (
        f"<p><strong>GitHub cannot reach <code>{escape(base_url)}</code></strong>, so its "
        "webhooks would never arrive. On a laptop, take them through a webhook channel:</p><ol>"
        f'<li>open <a href="{NEW_CHANNEL}">{NEW_CHANNEL}</a> and copy the address it gives you '
        "(<code>https://smee.io/…</code>);</li>"
        f"<li>stop this server and start it again with <code>{command}</code> (the same "
        "options work with <code>backend-review serve</code>; or set "
        "<code>BACKEND_REVIEW_WEBHOOK_PROXY_URL</code>);</li>"
        + last
        + "</ol><p>On a server GitHub can reach, set <code>BACKEND_REVIEW_PUBLIC_URL</code> to its "
        "address instead. Anyone who knows a channel's address can read what goes through it: "
        "use one for trying backend-review out, not for private code.</p>"
    )
