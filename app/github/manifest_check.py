"""Is the App GitHub created the one our manifest asked for? (step 4 of app.github.manifest_flow)

Someone who edited the form's manifest on its way to GitHub (more permissions, their own
webhook URL) would get an App that does not match: it is refused before anything is saved.
Permissions, events and the home URL come with the conversion's answer; the webhook URL is not
in it, so it is read as the new App itself (`GET /app/hook/config`, a JWT from the new key).
"""

from __future__ import annotations

from typing import Any

import httpx
from githubkit import AppAuthStrategy
from githubkit.exception import GitHubException, RequestError, RequestFailed

from app.github.manifest_flow import NotOurApp, Registration, setup_client


async def check(
    api_url: str,
    registration: Registration,
    expected: dict[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Raise NotOurApp unless GitHub's new App is the one `expected` (our manifest) describes."""
    problems = differences(registration, expected)
    wanted = expected["hook_attributes"]["url"]
    try:
        hook_url = await _hook_url(api_url, registration, transport)
    except NotOurApp as exc:
        if not problems:
            raise
        problems.append(exc.reason)  # the differences found so far still say the most
    else:
        if hook_url != wanted:
            problems.append(f"its webhook URL is {hook_url!r}, not {wanted!r}")
    if problems:
        raise NotOurApp("; ".join(problems))


def differences(registration: Registration, expected: dict[str, Any]) -> list[str]:
    """How the App's permissions, events and home URL differ from the manifest's."""
    problems = []
    want_permissions = expected["default_permissions"]
    if registration.permissions != want_permissions:
        extra = sorted(
            f"{name}: {level}"
            for name, level in registration.permissions.items()
            if want_permissions.get(name) != level
        )
        missing = sorted(set(want_permissions) - set(registration.permissions))
        problems.append(
            "its permissions differ from the manifest's"
            + (f" (not asked for: {', '.join(extra)})" if extra else "")
            + (f" (missing: {', '.join(missing)})" if missing else "")
        )
    if set(registration.events) != set(expected["default_events"]):
        problems.append(
            f"its events are {sorted(registration.events)}, "
            f"not {sorted(expected['default_events'])}"
        )
    if registration.external_url.rstrip("/") != expected["url"].rstrip("/"):
        problems.append(f"its home URL is {registration.external_url!r}, not {expected['url']!r}")
    return problems


async def _hook_url(
    api_url: str, registration: Registration, transport: httpx.AsyncBaseTransport | None
) -> str:
    gh = setup_client(api_url, transport, AppAuthStrategy(registration.app_id, registration.pem))
    try:
        async with gh:
            response = await gh.rest.apps.async_get_webhook_config_for_app()
            url = response.parsed_data.url
    except RequestFailed as exc:
        status = exc.response.status_code
        reason = f"GitHub did not show the new App's webhook ({status})"
        raise NotOurApp(reason, status=status, transient=status >= 500) from None
    except (GitHubException, httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        cause = exc.exc if isinstance(exc, RequestError) else exc
        reason = f"the new App's webhook could not be read ({type(cause).__name__})"
        raise NotOurApp(reason, transient=True) from None
    return str(url or "")
