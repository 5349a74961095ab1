"""Webhook signature verification: on the raw bytes, before any parsing, failing closed.

githubkit's `verify` does the constant-time HMAC; around it we insist on the
`X-Hub-Signature-256` header with its `sha256=` prefix, because `verify` would otherwise fall
back to SHA-1 for a value without the prefix (GITHUB-FACTS).
"""

from __future__ import annotations

from githubkit.webhooks import verify

from app.errors import WebhookError

_PREFIX = "sha256="
_HEX_LEN = 64
_HEX = frozenset("0123456789abcdefABCDEF")


def verify_signature(secret: str, body: bytes, signature_256: str | None) -> None:
    """Raise WebhookError(401) unless `signature_256` is GitHub's SHA-256 HMAC of `body`."""
    if not secret:
        # No secret means we cannot tell GitHub from anyone else: refuse, never skip.
        raise WebhookError(503, "webhook secret is not configured")
    if not signature_256:
        raise WebhookError(401, "missing X-Hub-Signature-256 header")
    digest = signature_256.removeprefix(_PREFIX)
    # The hex check also keeps non-ASCII out of hmac.compare_digest, which would raise on it.
    if digest == signature_256 or len(digest) != _HEX_LEN or not _HEX.issuperset(digest):
        raise WebhookError(401, "X-Hub-Signature-256 must be 'sha256=' and 64 hex digits")
    if not verify(secret, body, _PREFIX + digest.lower()):
        raise WebhookError(401, "signature does not match the body")
