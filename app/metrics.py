"""Prometheus metrics, in a registry of our own (one per app, so tests do not share counters)."""

from __future__ import annotations

from collections.abc import Sequence

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
        "merge_group",
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


LLM_TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")
# One model call: answered first time, answered after a retry, gave up on the provider, refused
# by the provider (4xx), or answered with nothing we could use.
LLM_CALL_OUTCOMES = frozenset({"ok", "retried", "unavailable", "rejected", "unusable"})
# One review, as recorded in the llm_usage table.
LLM_REVIEW_OUTCOMES = frozenset(
    {
        "complete",
        "partial",
        "unusable",
        "unavailable",
        "over-budget",
        "over-cpu-budget",
        "rules-only",
    }
)


def outcome_label(outcome: str, known: frozenset[str]) -> str:
    return outcome if outcome in known else "other"


REVIEW_CONCLUSIONS = frozenset({"success", "failure", "neutral", "cancelled"})
SEVERITIES = ("critical", "major", "minor", "info")
FINDING_SOURCES = ("rule", "llm")
# GitHub's rate-limit resources (x-ratelimit-resource) the App meets; others count as "other".
RATE_LIMIT_RESOURCES = frozenset({"core", "graphql", "search", "integration_manifest"})
HTTP_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


def status_class(status: int | None) -> str:
    return "error" if status is None else f"{status // 100}xx"


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
        self.llm_tokens = Counter(
            "backend_review_llm_tokens",
            "Tokens the model used, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.llm_calls = Counter(
            "backend_review_llm_calls",
            "Model calls, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.llm_reviews = Counter(
            "backend_review_llm_reviews",
            "Reviews, by what the model contributed",
            ["outcome"],
            registry=self.registry,
        )
        self.review_seconds = Histogram(
            "backend_review_review_seconds",
            "Time one review job took from start to published, by the check's conclusion",
            ["conclusion"],
            buckets=(1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200),
            registry=self.registry,
        )
        self.findings = Counter(
            "backend_review_findings",
            "Findings in published reviews, by severity and source",
            ["severity", "source"],
            registry=self.registry,
        )
        self.findings_by_rule = Counter(
            "backend_review_findings_by_rule",
            "Findings in published reviews, by rule (model findings as 'model')",
            ["rule"],
            registry=self.registry,
        )
        self.llm_cost = Counter(
            "backend_review_llm_cost_usd",
            "Estimated model spend in US dollars, at each model's list prices "
            "(BACKEND_REVIEW_LLM_PRICE_PER_MTOK overrides them)",
            registry=self.registry,
        )
        self.github_calls = Counter(
            "backend_review_github_calls",
            "Requests to GitHub's API, by method and status class",
            ["method", "status"],
            registry=self.registry,
        )
        self.github_rate_remaining = Gauge(
            "backend_review_github_rate_limit_remaining",
            "Requests left in the current GitHub rate-limit window, as GitHub last said",
            ["resource"],
            registry=self.registry,
        )
        # Every series from the start at 0, so a rate over the first event is not lost.
        for severity in SEVERITIES:
            for source in FINDING_SOURCES:
                self.findings.labels(severity=severity, source=source)
        for kind in LLM_TOKEN_KINDS:
            self.llm_tokens.labels(kind=kind)
        for outcome in (*LLM_CALL_OUTCOMES, "other"):
            self.llm_calls.labels(outcome=outcome)
        for outcome in (*LLM_REVIEW_OUTCOMES, "other"):
            self.llm_reviews.labels(outcome=outcome)

    def count_llm_tokens(
        self,
        *,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int,
        cache_write_tokens: int,
    ) -> None:
        amounts = (input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        if any(amount < 0 for amount in amounts):
            raise ValueError("token counts must not be negative")
        for kind, amount in zip(LLM_TOKEN_KINDS, amounts, strict=True):
            self.llm_tokens.labels(kind=kind).inc(amount)

    def count_llm_call(self, outcome: str) -> None:
        self.llm_calls.labels(outcome=outcome_label(outcome, LLM_CALL_OUTCOMES)).inc()

    def count_llm_review(self, outcome: str) -> None:
        self.llm_reviews.labels(outcome=outcome_label(outcome, LLM_REVIEW_OUTCOMES)).inc()

    def count_llm_cost(self, dollars: float) -> None:
        if dollars < 0:
            raise ValueError("a cost must not be negative")
        self.llm_cost.inc(dollars)

    def observe_review(
        self, *, seconds: float, conclusion: str, findings: Sequence[tuple[str, str, str]]
    ) -> None:
        """One published review: its duration and its (severity, source, rule) findings.

        `rule` is kept as a label only for the deterministic rules' ids the caller names as
        known; anything else (checklist ids come from personas, which repositories write) is
        counted under "model", so no PR can grow the number of series."""
        label = conclusion if conclusion in REVIEW_CONCLUSIONS else "other"
        self.review_seconds.labels(conclusion=label).observe(seconds)
        for severity, source, rule in findings:
            self.findings.labels(
                severity=severity if severity in SEVERITIES else "other",
                source=source if source in FINDING_SOURCES else "other",
            ).inc()
            self.findings_by_rule.labels(rule=rule).inc()

    def count_github_response(
        self, *, method: str, status: int | None, resource: str | None, remaining: str | None
    ) -> None:
        self.github_calls.labels(
            method=method if method in HTTP_METHODS else "other", status=status_class(status)
        ).inc()
        if remaining is not None and remaining.isdigit():
            name = resource if resource in RATE_LIMIT_RESOURCES else "other"
            self.github_rate_remaining.labels(resource=name).set(int(remaining))

    def set_job_counts(self, counts: dict[str, int]) -> None:
        for state, count in counts.items():
            self.jobs.labels(state=state).set(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
