"""The way past "GitHub cannot reach this server" on a laptop: a webhook channel (smee.io).

GitHub posts to a public channel, and `serve --webhook-proxy URL` reads it and posts each
delivery to its own endpoint, where it is checked like any other (app.webhook_proxy).
"""

from __future__ import annotations

from html import escape

NEW_CHANNEL = "https://smee.io/new"


def channel_offer(base_url: str, *, registered: bool = False) -> str:
    """What to do when GitHub cannot reach `base_url` and no channel is set; `registered`: the
    App exists already, and its webhook URL must be changed to the channel's."""
    last = (
        "<li>on the App's settings page on GitHub, set its <em>Webhook URL</em> to the "
        "channel's address.</li>"
        if registered
        else "<li>reload this page: the App is then registered with the channel as its "
        "webhook.</li>"
    )
    return (
        f"<p><strong>GitHub cannot reach <code>{escape(base_url)}</code></strong>, so its "
        "webhooks would never arrive. On a laptop, take them through a webhook channel:</p><ol>"
        f'<li>open <a href="{NEW_CHANNEL}">{NEW_CHANNEL}</a> and copy the address it gives you '
        "(<code>https://smee.io/…</code>);</li>"
        "<li>restart with <code>backend-review serve --webhook-proxy https://smee.io/…</code> "
        "(or set <code>BACKEND_REVIEW_WEBHOOK_PROXY_URL</code>);</li>"
        + last
        + "</ol><p>On a server GitHub can reach, set <code>BACKEND_REVIEW_PUBLIC_URL</code> to its "
        "address instead. Anyone who knows a channel's address can read what goes through it: "
        "use one for trying backend-review out, not for private code.</p>"
    )
