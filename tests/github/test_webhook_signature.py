from __future__ import annotations

import hashlib
import hmac

import pytest

from app.errors import WebhookError
from app.github.webhooks import verify_signature

# GitHub's documented test vector.
SECRET = "It's a Secret to Everybody"
BODY = b"Hello, World!"
GOOD = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_test_vector_verifies() -> None:
    verify_signature(SECRET, BODY, GOOD)


def test_uppercase_hex_is_the_same_digest() -> None:
    verify_signature(SECRET, BODY, "sha256=" + GOOD.removeprefix("sha256=").upper())


@pytest.mark.parametrize(
    ("secret", "body", "header", "status"),
    [
        pytest.param("wrong secret", BODY, GOOD, 401, id="wrong-secret"),
        pytest.param(SECRET, BODY, None, 401, id="missing-header"),
        pytest.param(SECRET, BODY, "", 401, id="empty-header"),
        pytest.param(
            SECRET,
            BODY,
            "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
            401,
            id="sha1-only",
        ),
        pytest.param(SECRET, BODY, GOOD.removeprefix("sha256="), 401, id="missing-prefix"),
        pytest.param(SECRET, b"Hello, World?", GOOD, 401, id="body-changed-after-signing"),
        pytest.param(SECRET, BODY + b" ", GOOD, 401, id="body-grew"),
        pytest.param(SECRET, BODY, GOOD[:-1], 401, id="truncated"),
        pytest.param(SECRET, BODY, GOOD[:-1] + "é", 401, id="non-ascii"),
        pytest.param(SECRET, BODY, GOOD[:-1] + "g", 401, id="non-hex"),
        pytest.param("", BODY, GOOD, 503, id="no-secret-configured"),
    ],
)
def test_refused(secret: str, body: bytes, header: str | None, status: int) -> None:
    with pytest.raises(WebhookError) as caught:
        verify_signature(secret, body, header)
    assert caught.value.status == status
    # The refusal never echoes what was sent or the secret.
    assert SECRET not in str(caught.value)
    if header:
        assert header not in str(caught.value)
