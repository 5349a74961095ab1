"""The App manifest asks for exactly what the app uses, and every event it gets is routed."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.jobs.routing import HANDLERS

MANIFEST = Path(__file__).parent.parent / "deploy" / "app-manifest.yml"
# Sent to every App, whatever it subscribes to; GitHub refuses them in default_events.
ALWAYS_DELIVERED = {"installation", "installation_repositories", "installation_target"}


def load() -> dict[str, object]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_permissions_are_exactly_the_ones_used() -> None:
    assert load()["default_permissions"] == {
        "pull_requests": "write",
        "checks": "write",
        "issues": "write",
        "contents": "read",
        "metadata": "read",
        "merge_queues": "read",
    }


def test_every_subscribed_event_is_routed_and_every_routed_event_subscribed() -> None:
    events = load()["default_events"]
    assert isinstance(events, list)
    assert set(events) == set(HANDLERS) - ALWAYS_DELIVERED
    assert len(events) == len(set(events))


def test_the_manifest_has_what_github_requires() -> None:
    data = load()
    assert data["name"] == "backend-review"
    hook = data["hook_attributes"]
    assert isinstance(hook, dict)
    assert str(hook["url"]).endswith("/webhooks/github")
    assert data["public"] is False
