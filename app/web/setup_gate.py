"""Who may use one-click setup: the operator, on an address of ours, while nothing is configured.

Three locks, each enough to stop a visitor who can reach an unconfigured server:

- a one-time **setup token**, made at start-up and printed in the log as a ready link (as
  Jupyter does); the home page shows the registration form only to a browser that brought it,
  and keeps it in an HttpOnly cookie that the callback requires as well;
- a **Host allow-list**: the setup and home pages answer only on loopback names and on the host
  of BACKEND_REVIEW_PUBLIC_URL (400 otherwise), so a DNS name pointed at this server (DNS
  rebinding) can neither reach them nor put itself into the manifest's URLs;
- setup is **closed** as soon as any GitHub setting exists (from the environment, a `.env` or
  the data directory), partial ones included: a second App's credentials never mix with a
  first's.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from fastapi import Request

from app.settings import REGISTERED_APP_FILE, Settings, registered_app_dir

log = logging.getLogger(__name__)

TOKEN_COOKIE = "backend_review_setup_token"  # noqa: S105 - a cookie name
STATE_SECONDS = 3600.0  # as long as GitHub's code lives
MAX_PENDING = 64  # a crawler reloading / must not grow this without bound


def registered_on_disk(settings: Settings) -> bool:
    """An App was registered here and waits for a restart to be used (or is in use)."""
    return (registered_app_dir(settings.data_dir) / REGISTERED_APP_FILE).exists()


def github_settings_present(settings: Settings) -> list[str]:
    """The GitHub App settings that have a value, wherever it came from."""
    secret = settings.github_webhook_secret
    present = {
        "GITHUB_APP_ID": settings.github_app_id is not None,
        "GITHUB_PRIVATE_KEY": settings.github_private_key is not None,
        "GITHUB_PRIVATE_KEY_PATH": settings.github_private_key_path is not None,
        "GITHUB_WEBHOOK_SECRET": secret is not None and bool(secret.get_secret_value()),
    }
    return [name for name, value in present.items() if value]


def setup_closed(settings: Settings) -> bool:
    return bool(github_settings_present(settings)) or registered_on_disk(settings)


def public_base_url(request: Request, settings: Settings) -> str:
    """Where GitHub and browsers reach us: BACKEND_REVIEW_PUBLIC_URL, else the request's own.

    The request's own is only ever a loopback address: `host_allowed` refuses any other Host.
    """
    if settings.public_url is not None:
        return str(settings.public_url).rstrip("/")
    return str(request.base_url).rstrip("/")


def host_of(header: str | None) -> str | None:
    """The host name of a Host header value (lower case, no port, no brackets), or None."""
    if not header or len(header) > 300:
        return None
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1 :] if end > 0 else "?"
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        return value[1:end]
    name, colon, port = value.rpartition(":")
    if not colon:
        name = value
    elif not port.isdigit():
        return None
    return name or None


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_allowed(request: Request, settings: Settings) -> bool:
    host = host_of(request.headers.get("host"))
    if host is None:
        return False
    if is_loopback(host):
        return True
    public = settings.public_url
    return public is not None and public.host is not None and host == public.host.lower()


def on_public_host(request: Request, settings: Settings) -> bool:
    """The request came to BACKEND_REVIEW_PUBLIC_URL's host (True when that is unset)."""
    public = settings.public_url
    if public is None or public.host is None:
        return True
    return host_of(request.headers.get("host")) == public.host.lower()


def reachable_by_github(base_url: str) -> bool:
    host = httpx.URL(base_url).host
    if is_loopback(host):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: we cannot tell from here
    return address.is_global


@dataclass(frozen=True)
class Pending:
    expiry: float
    base_url: str  # the address the manifest was made for: the callback must come back there


class PendingStates:
    """States handed out with the form, each good once and for STATE_SECONDS."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pending: dict[str, Pending] = {}
        self.lock = asyncio.Lock()  # one code traded at a time: never two Apps for one server

    def issue(self, base_url: str = "") -> str:
        now = self._clock()
        self._pending = {s: p for s, p in self._pending.items() if p.expiry > now}
        while len(self._pending) >= MAX_PENDING:
            del self._pending[next(iter(self._pending))]  # the oldest
        state = secrets.token_urlsafe(24)
        self._pending[state] = Pending(now + STATE_SECONDS, base_url)
        return state

    def take(self, state: str) -> Pending | None:
        pending = self._pending.pop(state, None)
        if pending is None or pending.expiry <= self._clock():
            return None
        return pending


class SetupGate:
    """This process's setup token and the states it handed out with the form."""

    def __init__(self, settings: Settings) -> None:
        # Hex: no shape the log redactor takes for a secret, so the link prints whole.
        self.token: str | None = None if setup_closed(settings) else secrets.token_hex(20)
        # Once the App is configured, the home page's private part (installations and their
        # repositories, the last delivery, failed jobs' errors) is for the operator: the
        # browser that opened the status link printed at start-up, as the setup link is.
        self.status_token = secrets.token_hex(20)
        self.states = PendingStates()

    def accepts(self, token: str | None) -> bool:
        return _same(token, self.token)

    def shows_details(self, token: str | None) -> bool:
        return _same(token, self.status_token)

    def close(self) -> None:
        self.token = None

    def link(self, settings: Settings) -> str | None:
        if self.token is None:
            return None
        return f"{_base(settings)}/?token={self.token}"

    def announce(self, settings: Settings) -> None:
        """Print the setup link at start-up (or, setup closed, the status link), where only
        the operator reads it."""
        link = self.link(settings)
        if link is not None:
            log.warning(
                "to register the GitHub App in one click, open %s (good until an App is "
                "registered or the server restarts)",
                link,
            )
        else:
            log.warning(
                "the home page shows installations, deliveries and failures to a browser that "
                "opens %s/?token=%s (good until the server restarts)",
                _base(settings),
                self.status_token,
            )


def _same(given: str | None, expected: str | None) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters, and `given` is anyone's.
    return bool(expected and given and hmac.compare_digest(given.encode(), expected.encode()))


def _base(settings: Settings) -> str:
    if settings.public_url is not None:
        return str(settings.public_url).rstrip("/")
    host = settings.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def gate_of(request: Request) -> SetupGate:
    found: SetupGate = request.app.state.setup_gate
    return found


def token_of(request: Request) -> str | None:
    return request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)
