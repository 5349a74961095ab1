"""The application's own errors, one tree. Every error raised on purpose is one of these.

    BackendReviewError
    ├── ConfigError          a setting is missing or malformed (names the setting, never its value)
    ├── WebhookError         a delivery we refuse; carries the HTTP status to answer with
    ├── StoreError           the database could not do what was asked
    ├── PermanentJobError    a job that retrying cannot help: it goes dead at once, with the reason
    ├── GitHubError          (app.github.types) a GitHub call failed; `transient` says if a
    │   │                    retry may succeed
    │   ├── ReviewRejected   (app.github.types) GitHub refused a review's inline comments (422)
    │   └── ManifestError    (app.github.manifest_flow) the setup code could not become an App
    ├── SaveError            (app.github.manifest_flow) the new App could not be written to disk
    │   └── AlreadyRegistered  the data directory already holds an App: nothing was overwritten
    ├── LLMError             (app.llm.errors) a model call gave no reply
    │   ├── LLMUnavailable   the provider kept failing in ways that may pass
    │   └── LLMRejected      the provider refused the request itself (`fatal`: every request)
    ├── LinearError          (app.linear.errors) a Linear call gave no usable answer
    └── ChannelEventError    (app.webhook_proxy.channel) a webhook channel's event that is not a
                             delivery; the forwarder logs and drops it

Adapters translate their library's exceptions into these at the boundary. The pure core raises
`ValueError`s of its own (`DiffParseError`, `RepoConfigError`, `PersonaError`, `AnswerError`):
input it cannot read, which its callers turn into a notice or a `PermanentJobError`.

What the worker does with a job's exception: `PermanentJobError` and a GitHubError that is not
`transient` (sorted in `app.jobs.handlers`) end the job at once; anything else is retried with
backoff until the job's attempts are spent. An exception that is none of these is a bug: the
worker logs it with its traceback.
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


class PermanentJobError(BackendReviewError):
    """Retrying the job cannot help (a payload we cannot read, a diff we cannot parse, a pull
    request we may not read): the job goes straight to dead, with this message."""
