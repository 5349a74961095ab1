"""The home page of a configured server: what GitHub says (app.web.status), where the App is
installed, what arrived last and what failed last. Every value from outside is escaped; no
setting's value is shown but the App's id and the API's address (the webhook channel shows as
its host only: its address is enough to read what goes through it)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from app.admin.doctor import Check
from app.store.deliveries import StoredDelivery
from app.store.job_admin import JobRow
from app.web.status import MAX_REPOS, GitHubStatus, InstallView
from app.webhook_proxy import ProxyStatus

MAX_ERROR_CHARS = 300


DETAILS_HIDDEN = (
    "<p>Where the App is installed, the last delivery and recent failures are shown to the "
    "browser that opens the status link the server printed in its log at start-up "
    "(<code>/?token=…</code>), or with <code>backend-review doctor</code>, "
    "<code>deliveries list</code> and <code>jobs list</code>.</p>"
)


def github_section(
    status: GitHubStatus, app_id: int | None, api_url: str, *, details: bool = True
) -> str:
    api = f"<code>{escape(api_url)}</code>"
    if status.app is None:
        head = _not_connected(status, app_id, api)
    else:
        link = escape(status.app.html_url)
        name = escape(status.app.slug)
        head = (
            f'<p><strong>Connected</strong> as GitHub App <a href="{link}">{name}</a> '
            f"(id <code>{app_id}</code>) on {api}: GitHub accepted its key.</p>"
        )
    if not details:
        return head + checks_list(status.checks) + install_link(status)
    return head + checks_list(status.checks) + installs_section(status)


def _not_connected(status: GitHubStatus, app_id: int | None, api: str) -> str:
    """The headline, by cause: an App GitHub refused needs fixing, a GitHub out of reach
    does not (the same App may well work once the network does)."""
    app = f"GitHub App <code>{app_id}</code>"
    if status.failure == "unreachable":
        why = (
            f"{app} is configured, but {api} could not be reached, so no review can run. "
            "Check the network and what is named below; GitHub is asked again after a minute."
        )
    elif status.failure == "not asked":
        why = (
            f"{app} is configured, but its settings cannot be used, so GitHub was not asked "
            "and no review can run. Fix what is named below and restart."
        )
    else:
        why = (
            f"{app} is configured, but {api} refused it, so no review can run. Fix what is "
            "named below and restart."
        )
    return (
        f"<p><strong>Not connected to GitHub.</strong> {why} (The checks below are those of "
        "<code>backend-review doctor</code>.)</p>"
    )


def install_link(status: GitHubStatus) -> str:
    if status.app is None:
        return ""
    install = escape(f"{status.app.html_url}/installations/new")
    return f'<p><a href="{install}">Install the App</a> on the repositories to review.</p>'


def checks_list(checks: tuple[Check, ...]) -> str:
    items = "".join(
        f"<li><strong>{escape(c.level)}</strong> {escape(c.name)}: {escape(c.message)}</li>"
        for c in checks
    )
    return f"<ul>{items}</ul>"


def installs_section(status: GitHubStatus) -> str:
    if status.app is None:
        return ""
    install = f"{status.app.html_url}/installations/new"
    link = f'<a href="{escape(install)}">Install the App</a>'
    if status.installs_error is not None:
        return (
            f"<h2>Installations</h2><p>GitHub did not list them: "
            f"{escape(status.installs_error)}. {link} on the repositories to review.</p>"
        )
    if not status.installs:
        return (
            "<h2>Installations</h2><p><strong>Not installed anywhere yet.</strong> "
            f"{link} on the repositories to review: pull requests there are then reviewed.</p>"
        )
    rows = "".join(_install(view) for view in status.installs)
    more = "<p>And more installations than listed here.</p>" if status.more_installs else ""
    return (
        f"<h2>Installations</h2><ul>{rows}</ul>{more}"
        f"<p>{link} on other repositories or accounts.</p>"
    )


def _install(view: InstallView) -> str:
    who = view.installation
    head = f"<code>{escape(who.account)}</code> ({escape(who.account_type or 'account')})"
    if view.repos is None:
        return f"<li>{head}: repositories not listed ({escape(view.error or '?')})</li>"
    names = ", ".join(f"<code>{escape(n)}</code>" for n in view.repos.names[:MAX_REPOS])
    rest = view.repos.total - len(view.repos.names[:MAX_REPOS])
    extra = f" and {rest} more" if rest > 0 else ""
    scope = "all repositories" if who.repository_selection == "all" else "selected repositories"
    if not names:
        return f"<li>{head}, {scope}: none</li>"
    return f"<li>{head}, {scope}: {names}{extra}</li>"


def webhooks_section(
    webhook_url: str,
    last: StoredDelivery | None,
    proxy: ProxyStatus | None,
    offer: str,
    *,
    details: bool = True,
) -> str:
    html = f"<h2>Webhooks</h2><p>Endpoint: <code>{escape(webhook_url)}</code>.</p>"
    if proxy is not None:
        state = "connected" if proxy.connected else "not connected"
        html += (
            f"<p>Taking deliveries from the webhook channel on "
            f"<code>{escape(proxy.channel_origin)}</code>: {state}; {proxy.forwarded} "
            f"forwarded, {proxy.refused} refused by the endpoint, {proxy.dropped} dropped."
        )
        if proxy.last_error:
            html += f" Last problem: {escape(proxy.last_error)}."
        html += "</p>"
    if not details:
        return html + offer
    if last is None:
        html += "<p><strong>No delivery received yet.</strong></p>" + offer
    else:
        action = f".{last.action}" if last.action else ""
        where = f" on <code>{escape(last.repository)}</code>" if last.repository else ""
        html += (
            f"<p>Last delivery received: <code>{escape(last.event + action)}</code>{where}, "
            f"{_when(last.received_at)} ({escape(last.outcome)}).</p>"
        )
    return html


def failures_section(failed: list[JobRow]) -> str:
    if not failed:
        return "<h2>Recent failures</h2><p>None.</p>"
    items = "".join(
        f"<li>job {job.id} <code>{escape(job.kind)}</code>, {escape(job.status)} after "
        f"{job.attempts}/{job.max_attempts} attempts, {_when(job.updated_at)}: "
        f"{escape((job.last_error or '')[:MAX_ERROR_CHARS])}</li>"
        for job in failed
    )
    return (
        f"<h2>Recent failures</h2><ul>{items}</ul><p>More with <code>backend-review jobs "
        "list</code>.</p>"
    )


def checked_at(epoch: float) -> str:
    return _when(datetime.fromtimestamp(epoch, UTC))


def _when(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
