"""The application's own errors, one tree.

    BackendReviewError
    ├── ConfigError          a setting is missing or malformed (names the setting, never its value)
    ├── WebhookError         a delivery we refuse; carries the HTTP status to answer with
    └── StoreError           the database could not do what was asked

Adapters translate their library's exceptions into these at the boundary.
"""

from __future__ import annotations


class BackendReviewError(Exception):
    """Base of every error this application raises on purpose."""


class ConfigError(BackendReviewError):
    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class WebhookError(BackendReviewError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class StoreError(BackendReviewError):
    """The database refused or failed an operation."""
