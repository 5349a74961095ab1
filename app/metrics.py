"""Prometheus metrics, in a registry of our own (one per app, so tests do not share counters)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# The *_created series double the output and nothing we run reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Label values come from this set only: a header cannot grow the number of time series.
KNOWN_EVENTS = frozenset(
    {
        "pull_request",
        "issue_comment",
        "check_run",
        "check_suite",
        "installation",
        "installation_repositories",
        "installation_target",
        "ping",
        "push",
        "pull_request_review",
        "pull_request_review_comment",
    }
)


def event_label(event: str | None) -> str:
    if event is None:
        return "unknown"
    return event if event in KNOWN_EVENTS else "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "backend_review_deliveries",
            "Webhook deliveries received, by event and outcome",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.webhook_seconds = Histogram(
            "backend_review_webhook_seconds",
            "Time from request start to the webhook's answer",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.jobs = Gauge(
            "backend_review_jobs",
            "Jobs in the database, by state (read at scrape time)",
            ["state"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "backend_review_job_seconds",
            "Job run time, by kind and outcome",
            ["kind", "outcome"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
        )

    def set_job_counts(self, counts: dict[str, int]) -> None:
        for state, count in counts.items():
            self.jobs.labels(state=state).set(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
