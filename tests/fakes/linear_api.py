"""Linear's GraphQL endpoint faked at the wire (a respx side effect), answering as Linear does:
`{"data": ...}`, cursor pagination, an "Entity not found" error on the alias of an unknown
issue, a 401 with Linear's error body for a wrong key, and every request recorded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

URL = "https://api.linear.app/graphql"
# Not shaped like a Linear key (lin_api_…), so only the client's own redaction can hide it.
KEY = "correct-horse-battery-staple-0042"

_ALIAS = re.compile(r"(\w+): issue\(id: \$(\w+)\)")


def issue_json(
    identifier: str,
    *,
    title: str | None = None,
    description: str | None = "Refunds must be idempotent.",
    state: tuple[str, str] = ("In Progress", "started"),
    priority: float = 2,
    priority_label: str = "High",
    labels: tuple[str, ...] = ("backend",),
    parent: tuple[str, str] | None = None,
    project: str | None = None,
) -> dict[str, Any]:
    """An issue as Linear's API returns it for our IssueFields fragment."""
    return {
        "identifier": identifier,
        "title": title if title is not None else f"Title of {identifier}",
        "description": description,
        "url": f"https://linear.app/acme/issue/{identifier.lower()}/slug",
        "state": {"name": state[0], "type": state[1]},
        "priority": priority,
        "priorityLabel": priority_label,
        "labels": {"nodes": [{"name": name} for name in labels]},
        "parent": {"identifier": parent[0], "title": parent[1]} if parent else None,
        "project": {"name": project} if project else None,
    }


def not_found(alias: str) -> dict[str, Any]:
    return {
        "message": "Entity not found: Issue",
        "path": [alias],
        "locations": [{"line": 2, "column": 3}],
        "extensions": {
            "type": "invalid input",
            "code": "INPUT_ERROR",
            "statusCode": 400,
            "userError": True,
            "userPresentableMessage": "Could not find referenced Issue.",
        },
    }


UNAUTHENTICATED = {
    "errors": [
        {
            "message": "Authentication required, not authenticated",
            "extensions": {
                "type": "authentication error",
                "code": "AUTHENTICATION_ERROR",
                "statusCode": 401,
                "userError": True,
                "userPresentableMessage": "You need to authenticate to access this operation.",
            },
        }
    ]
}


@dataclass
class FakeLinear:
    teams: list[str] = field(default_factory=lambda: ["ENG", "OPS"])
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    # True: an unknown issue nulls the whole `data`, as GraphQL's null propagation does for a
    # non-null field (`Query.issue: Issue!`). False: the other aliases still come back.
    null_propagation: bool = False
    requests: list[httpx.Request] = field(default_factory=list)

    def add(self, *identifiers: str) -> None:
        for identifier in identifiers:
            self.issues[identifier] = issue_json(identifier)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != KEY:
            return httpx.Response(401, json=UNAUTHENTICATED)
        body = json.loads(request.content)
        query, variables = body["query"], body["variables"]
        if query.lstrip().startswith("query TeamKeys"):
            return self._teams(variables)
        if query.lstrip().startswith("query Issues"):
            return self._issues(query, variables)
        return httpx.Response(400, json={"errors": [{"message": "Unknown operation"}]})

    def _teams(self, variables: dict[str, Any]) -> httpx.Response:
        start = int(variables["after"]) if variables.get("after") else 0
        end = start + variables["first"]
        page = self.teams[start:end]
        more = end < len(self.teams)
        return httpx.Response(
            200,
            json={
                "data": {
                    "teams": {
                        "nodes": [{"key": key} for key in page],
                        "pageInfo": {"hasNextPage": more, "endCursor": str(end) if page else None},
                    }
                }
            },
        )

    def _issues(self, query: str, variables: dict[str, Any]) -> httpx.Response:
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for alias, variable in _ALIAS.findall(query):
            identifier = variables[variable]
            if identifier in self.issues:
                data[alias] = self.issues[identifier]
            else:
                errors.append(not_found(alias))
        answer: dict[str, Any] = {"data": None if errors and self.null_propagation else data}
        if errors:
            answer["errors"] = errors
        return httpx.Response(200, json=answer)
