"""Every GraphQL document the Linear adapter sends, so a test can validate each one against
Linear's published schema (tests/linear/test_schema.py).

Identifiers travel as variables, never spliced into the document: a PR's text cannot change
the query.
"""

from __future__ import annotations

TEAMS_PAGE_SIZE = 100

TEAMS_QUERY = """
query TeamKeys($first: Int!, $after: String) {
  teams(first: $first, after: $after) {
    nodes { key }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ISSUE_FIELDS = """
fragment IssueFields on Issue {
  identifier
  title
  description
  url
  state { name type }
  priority
  priorityLabel
  labels { nodes { name } }
  parent { identifier title }
  project { name }
}
"""


def issue_alias(index: int) -> str:
    return f"issue{index}"


def issue_variable(index: int) -> str:
    return f"id{index}"


def issues_query(count: int) -> str:
    """One query fetching `count` issues, each under its own alias (`issue0`, `issue1`, …),
    so one unknown identifier is an error on its alias, not on the whole request."""
    if count < 1:
        raise ValueError("issues_query needs at least one identifier")
    variables = ", ".join(f"${issue_variable(i)}: String!" for i in range(count))
    fields = "\n".join(
        f"  {issue_alias(i)}: issue(id: ${issue_variable(i)}) {{ ...IssueFields }}"
        for i in range(count)
    )
    return f"query Issues({variables}) {{\n{fields}\n}}\n{ISSUE_FIELDS}"


DOCUMENTS: dict[str, str] = {
    "teams": TEAMS_QUERY,
    "issues (1)": issues_query(1),
    "issues (3)": issues_query(3),
}
