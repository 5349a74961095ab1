"""The LLM adapter's errors: every failure of a model call ends as one of these.

    BackendReviewError                 (app.errors)
    └── LLMError                       the model could not give an answer; `reason` says why
        ├── LLMUnavailable             transient trouble that outlasted our attempts or the
        │                              deadline: 429, 5xx, 529 overloaded, timeouts, lost
        │                              connections; or a server asking for a wait longer than
        │                              we wait, or past the deadline (the reason says so)
        └── LLMRejected                retrying cannot help: 400 invalid request, 401 bad key,
                                       403, 404 (unknown model), 413 too large, 422, missing
                                       provider packages or credentials

`reason` is short, human and safe to show on a PR or in a log: it carries the HTTP status and
the API's error type, never the key or the prompt. The SDK's own exceptions never get past
`app.llm`.
"""

from __future__ import annotations

from app.errors import BackendReviewError


class LLMError(BackendReviewError):
    """A model call that produced no reply."""

    def __init__(self, reason: str, *, attempts: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts  # HTTP attempts made before giving up (what usage counts)


class LLMUnavailable(LLMError):
    """The provider kept failing in ways that may pass; a later run may succeed."""


class LLMRejected(LLMError):
    """The provider refused the request itself; the same request will fail again.

    `fatal`: the refusal is about the key, the account or the model (401, 402, 403, 404), so
    every other request of the review would be refused too; otherwise (400 prompt too long,
    413, 422) it is about this request only."""

    def __init__(self, reason: str, *, attempts: int = 0, fatal: bool = False) -> None:
        super().__init__(reason, attempts=attempts)
        self.fatal = fatal
