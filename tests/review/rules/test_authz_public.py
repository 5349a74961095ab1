"""Which new unguarded routes count as public by design: whole words only, and never silence
for a write to one resource or a read of every row among guarded siblings."""

from __future__ import annotations

import pytest

from app.review.findings import Severity
from app.review.rules.route_model import public_name
from tests.review.rules.builders import of, whole

UNGUARDED = "authz-unguarded-route"

MAIN = """
from fastapi import Depends, FastAPI

app = FastAPI()


@app.get("/orders/{order_id}")
def get_order(order_id: int, user=Depends(get_current_user)):
    return ORDERS[order_id]


@app.post("/orders")
def create_order(body: dict, user=Depends(get_current_user)):
    return ORDERS.add(body)


@app.delete("/orders/{order_id}")
def delete_order(order_id: int, user=Depends(get_current_user)):
    return ORDERS.pop(order_id)
"""


def _added(route: str) -> list[tuple[str, Severity | None]]:
    found = of(whole({"app/main.py": MAIN}, {"app/main.py": MAIN + route}), UNGUARDED)
    return [(f.type, f.severity) for f in found]


@pytest.mark.parametrize(
    "route",
    [
        '@app.post("/orders/{order_id}/delivery")\ndef schedule_delivery(order_id: int):\n'
        "    return ORDERS.deliver(order_id)\n",
        '@app.put("/users/{user_id}/password")\ndef set_password(user_id: int, body: dict):\n'
        "    return USERS.set_password(user_id, body)\n",
        '@app.post("/orders/{order_id}/already-paid")\ndef mark_already_paid(order_id: int):\n'
        "    return ORDERS.paid(order_id)\n",
        '@app.post("/publications")\ndef create_publications(body: dict):\n'
        "    return PUBLICATIONS.add(body)\n",
    ],
    ids=["delivery", "password", "already", "publications"],
)
def test_a_public_word_inside_another_word_does_not_exempt_a_write(route: str) -> None:
    assert _added("\n\n" + route) == [("evidence", Severity.MAJOR)]


def test_an_api_token_revoked_by_id_is_not_a_credential_in_the_path() -> None:
    route = (
        '\n\n@app.delete("/api-tokens/{token_id}")\ndef revoke(token_id: int):\n'
        "    return TOKENS.revoke(token_id)\n"
    )
    assert _added(route) == [("evidence", Severity.MAJOR)]


def test_a_public_sounding_write_to_one_resource_is_still_a_question() -> None:
    route = (
        '\n\n@app.delete("/users/{user_id}/sessions")\ndef delete_sessions(user_id: int):\n'
        "    return SESSIONS.drop(user_id)\n"
    )
    assert _added(route) == [("question", Severity.INFO)]


def test_a_read_that_takes_nothing_among_guarded_reads_is_a_question() -> None:
    route = '\n\n@app.get("/orders")\ndef list_orders():\n    return list(ORDERS.values())\n'
    assert _added(route) == [("question", Severity.INFO)]


def test_a_read_that_takes_nothing_among_unguarded_siblings_stays_silent() -> None:
    bare = MAIN.replace(", user=Depends(get_current_user)", "")
    route = '\n\n@app.get("/orders")\ndef list_orders():\n    return list(ORDERS.values())\n'
    assert of(whole({"app/main.py": bare}, {"app/main.py": bare + route}), UNGUARDED) == []


@pytest.mark.parametrize(
    "route",
    [
        '@app.get("/health")\ndef health():\n    return {"ok": True}\n',
        '@app.post("/login")\ndef login(body: dict):\n    return AUTH.login(body)\n',
        '@app.post("/webhooks/stripe")\ndef stripe_webhook(body: dict):\n    return body\n',
        '@app.get("/.well-known/jwks.json")\ndef jwks():\n    return KEYS\n',
        '@app.post("/password/reset")\ndef reset_password(body: dict):\n    return body\n',
    ],
    ids=["health", "login", "webhook", "well-known", "password-reset"],
)
def test_routes_public_by_design_stay_at_most_a_question(route: str) -> None:
    assert all(kind == "question" for kind, _ in _added("\n\n" + route))


@pytest.mark.parametrize(
    ("path", "name", "owner"),
    [
        ("/healthz", "", ""),
        ("/livez", "", ""),
        ("/api/v1/readiness", "", ""),
        ("/auth/sign-up", "", ""),
        ("/hooks/github", "", ""),
        ("/openapi.json", "", ""),
        ("", "handleWebhook", ""),
        ("", "create", "SessionsController"),
        ("", "create", "PasswordResetsController"),
        ("", "index", "AuthController"),
        ("/forgot-password", "", ""),
        ("/stripe/hook", "stripe_hook", ""),  # a webhook, singular
        ("/sso/cb", "SSOCallback", ""),  # an acronym before the word
        ("/api/jwt", "JWTLogin", ""),
        ("/confirm/<reset_token>", "", ""),  # the caller's credential in the path
    ],
)
def test_public_by_design_names(path: str, name: str, owner: str) -> None:
    assert public_name(path, name, owner)


@pytest.mark.parametrize(
    ("path", "name", "owner"),
    [
        ("/orders/{id}/delivery", "schedule_delivery", ""),
        ("/jobs/already-done", "already_done", ""),
        ("/publications", "list_publications", ""),
        ("/users/{id}/password", "set_password", ""),
        ("/orders/{id}", "update_status", ""),
        ("/deliverables", "", "DeliverablesController"),
        ("/hookah", "", ""),
        # A path variable's name is no word of the path: `{token_id}` names an API token.
        ("/api-tokens/{token_id}", "revoke", ""),
        ("/users/{user_id}/api-keys/{token_id}", "rotate", ""),
        ("/users/:tokenId", "remove", ""),
    ],
)
def test_words_that_merely_contain_a_public_one(path: str, name: str, owner: str) -> None:
    assert not public_name(path, name, owner)


def test_the_reported_change_gets_one_finding_per_new_write() -> None:
    routes = """

@app.post("/orders/{order_id}/delivery")
def schedule_delivery(order_id: int):
    return ORDERS.deliver(order_id)


@app.put("/users/{user_id}/password")
def set_user_password(user_id: int, body: dict):
    return USERS.set_password(user_id, body["password"])


@app.delete("/users/{user_id}/sessions")
def drop_sessions(user_id: int):
    return SESSIONS.drop(user_id)
"""
    assert _added(routes) == [
        ("evidence", Severity.MAJOR),
        ("evidence", Severity.MAJOR),
        ("question", Severity.INFO),
    ]


def test_a_token_in_the_path_is_the_callers_credential() -> None:
    route = (
        '\n\n@app.patch("/reset-password/{token}")\ndef reset_password(token: str, body: dict):\n'
        "    return USERS.reset(token, body)\n"
    )
    assert _added(route) == []
