"""Every GraphQL document the Linear client sends is valid against Linear's published schema,
and so are the variables it sends with it (captured at the wire, not rebuilt here)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import respx
from graphql import GraphQLSchema, OperationDefinitionNode, build_schema, parse, validate
from graphql.execution.values import get_variable_values

from app.linear import LinearClient
from app.linear.documents import DOCUMENTS, issues_query
from tests.fakes.linear_api import KEY, URL, FakeLinear

SCHEMA_ENV = "BACKEND_REVIEW_LINEAR_SCHEMA"
DEFAULT_SCHEMA = (
    Path(__file__).resolve().parents[2].parent / "shared/fixtures/linear/schema.graphql"
)


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    named = os.environ.get(SCHEMA_ENV)
    if named:
        # Named on purpose: a wrong path is a mistake to see, not a reason to skip.
        return build_schema(Path(named).read_text(encoding="utf-8"))
    if not DEFAULT_SCHEMA.is_file():
        pytest.skip(f"Linear's schema is not at {DEFAULT_SCHEMA}; set {SCHEMA_ENV} to its path")
    return build_schema(DEFAULT_SCHEMA.read_text(encoding="utf-8"))


def errors_of(schema: GraphQLSchema, document: str) -> list[str]:
    return [error.message for error in validate(schema, parse(document))]


def variable_errors(schema: GraphQLSchema, body: dict[str, Any]) -> list[str]:
    """What GraphQL says of the variables sent with a query: nothing when they fit."""
    document = parse(body["query"])
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    coerced = get_variable_values(schema, operation.variable_definitions or (), body["variables"])
    # graphql-core answers a list of errors, or the coerced values when all is well.
    return [error.message for error in coerced] if isinstance(coerced, list) else []


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_each_document_is_valid(schema: GraphQLSchema, name: str) -> None:
    assert errors_of(schema, DOCUMENTS[name]) == []


def test_the_issues_query_for_many_identifiers_is_valid(schema: GraphQLSchema) -> None:
    assert errors_of(schema, issues_query(12)) == []


def test_a_wrong_document_is_caught(schema: GraphQLSchema) -> None:
    wrong = DOCUMENTS["issues (1)"].replace("priorityLabel", "priorityLable")
    assert any("priorityLable" in message for message in errors_of(schema, wrong))
    assert errors_of(schema, "query { teams(frist: 5) { nodes { key } } }")
    wrong_variables = {"query": DOCUMENTS["teams"], "variables": {"first": "a lot"}}
    assert variable_errors(schema, wrong_variables)


@pytest.fixture
async def sent() -> FakeLinear:
    fake = FakeLinear()
    fake.add("ENG-1", "ENG-2", "OPS-3")
    async with respx.mock(assert_all_called=False) as router:
        router.post(URL).mock(side_effect=fake)
        async with LinearClient(KEY, URL) as linear:
            await linear.team_keys()
            await linear.issues(["ENG-1"])
            await linear.issues(["ENG-1", "ENG-2", "OPS-3"])
    return fake


async def test_what_goes_on_the_wire_is_valid(schema: GraphQLSchema, sent: FakeLinear) -> None:
    bodies = [json.loads(request.content) for request in sent.requests]
    assert len(bodies) == 3
    for body in bodies:
        assert errors_of(schema, body["query"]) == []
        assert variable_errors(schema, body) == []
