"""GitHub faked at the wire with respx, for the adapter's tests: a real key pair, a token
exchange that verifies the App's JWT, GitHub-shaped JSON, and a sleep that only records."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import httpx
import jwt
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.github.client import GitHubApp
from app.runtime import github_credentials
from app.settings import Settings

API = "https://api.github.com"
APP_ID = 4242
INSTALLATION = 42
REPO = "acme/payments"
HEAD_SHA = "a" * 40
BASE_SHA = "b" * 40


@cache
def key_pair() -> tuple[str, rsa.RSAPublicKey]:
    """A fresh RSA key (PEM) and its public half: generated once per test session."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


def make_settings(api_url: str = API) -> Settings:
    pem, _ = key_pair()
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        github_app_id=APP_ID,
        github_private_key=pem,
        github_api_url=api_url,
    )


class Sleeps:
    """Stands in for asyncio.sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Tokens:
    """The token exchange, as GitHub does it: the JWT must verify with the App's public key."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.jwts: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        scheme, _, token = request.headers["authorization"].partition(" ")
        if scheme != "Bearer":
            return error(401, "A JSON web token could not be decoded")
        _, public = key_pair()
        claims = jwt.decode(token, public, algorithms=["RS256"])
        assert claims["iss"] == str(APP_ID)
        assert claims["exp"] - claims["iat"] <= 600  # GitHub refuses a JWT living over 10 min
        self.jwts.append(token)
        issued = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")
        self.issued.append(issued)
        expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return httpx.Response(
            201,
            json={
                "token": issued,
                "expires_at": expires,
                "permissions": {"pull_requests": "write", "checks": "write", "contents": "read"},
                "repository_selection": "all",
            },
        )

    @property
    def last(self) -> str:
        return self.issued[-1]


def error(status: int, message: str, **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", None)
    body = {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": str(status),
        **extra,
    }
    return httpx.Response(status, json=body, headers=headers)


@asynccontextmanager
async def github(
    api_url: str = API, **kwargs: Any
) -> AsyncIterator[tuple[respx.MockRouter, GitHubApp, Tokens, Sleeps]]:
    """respx routes on `api_url` with the token exchange in place, and an App client on them.

    The router serves the App through `httpx.MockTransport(router.handler)`, so its routes and
    calls outlive the block for the test's assertions.
    """
    tokens, sleeps = Tokens(), Sleeps()
    router = respx.MockRouter(base_url=api_url, assert_all_called=False)
    router.post(f"/app/installations/{INSTALLATION}/access_tokens", name="token").mock(
        side_effect=tokens
    )
    transport = httpx.MockTransport(router.handler)
    async with GitHubApp(
        github_credentials(make_settings(api_url)),
        async_transport=transport,
        sleep=sleeps,
        **kwargs,
    ) as app:
        yield router, app, tokens, sleeps


def user(login: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "login": login,
        "id": 1000 + sum(map(ord, login)),
        "node_id": "MDQ6VXNlcjE=",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "Bot" if bot else "User",
        "site_admin": False,
    }


def repo_json(full_name: str = REPO) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": 1296269,
        "name": name,
        "full_name": full_name,
        "private": True,
        "owner": user(owner),
        "default_branch": "main",
    }


def pull_json(number: int = 7, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "url": f"{API}/repos/{REPO}/pulls/{number}",
        "id": 1,
        "number": number,
        "state": "open",
        "locked": False,
        "title": "Add refunds endpoint",
        "user": user("octocat"),
        "body": "Implements PAY-12.",
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-21T10:00:00Z",
        "draft": False,
        "merged": False,
        "merged_at": None,
        "head": {
            "label": "octocat:refunds",
            "ref": "refunds",
            "sha": HEAD_SHA,
            "user": user("octocat"),
            "repo": repo_json("octocat/payments"),
        },
        "base": {
            "label": "acme:main",
            "ref": "main",
            "sha": BASE_SHA,
            "user": user("acme"),
            "repo": repo_json(),
        },
        "additions": 120,
        "deletions": 4,
        "changed_files": 5,
    }
    data.update(overrides)
    return data


def next_link(url: str) -> dict[str, str]:
    return {"link": f'<{url}>; rel="next", <{url}>; rel="last"'}
