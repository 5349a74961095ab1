"""How much of the changed files a review reads, from the settings: for the App and the CLI.

Its own module so the CLI gets it without importing the GitHub and store adapters.
"""

from __future__ import annotations

from app.review.file_gather import ContextLimits
from app.settings import Settings


def context_limits(settings: Settings) -> ContextLimits:
    return ContextLimits(
        max_files=settings.context_max_files,
        file_bytes=settings.context_file_bytes,
        review_bytes=settings.context_review_bytes,
        max_calls=settings.context_max_calls,
    )
