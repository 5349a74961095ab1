"""The rules that tell text written for a coding agent from review guidance.

Each rule has a heading pattern (a whole section goes) and a content pattern (one list item or
one sentence goes). Headings are matched as lowercase words; every pattern runs in linear time
on hostile input (`tests/review/test_regex_linear.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.review.persona_parts import slug


@dataclass(frozen=True, slots=True)
class AgentRule:
    name: str
    reason: str
    heading: re.Pattern[str]  # matched against the heading in lowercase words
    content: re.Pattern[str] | None  # searched in one list item or one sentence


RULES = (
    AgentRule(
        "task-management",
        "task management for a coding agent: the reviewer keeps no task list",
        re.compile(
            r"\b(?:task (?:management|list|lists|tracking)|todos?|to do list|"
            r"progress reporting|effort tagging|cost effort)\b"
        ),
        re.compile(r"\b(?:todowrite|todoread|todo ?lists?|task ?lists?)\b|\.claude/tasks", re.I),
    ),
    AgentRule(
        "tools",
        "tools and how to use them: the reviewer has no tools, only its review answer",
        re.compile(
            r"^(?:tools?|tool (?:use|usage|access|list)|(?:available|allowed) tools|"
            r"connections|(?:useful |available )?commands|mcp servers?)$|"
            r"\b(?:quick lookup|lookup capabilities|tool calls?)\b"
        ),
        re.compile(
            r"\b(?:webfetch|multiedit)\b|\b(?:before|after) (?:any|each|every) "
            r"(?:significant )?tool call|\buse the [a-z]+ tool\b",
            re.I,
        ),
    ),
    AgentRule(
        "output-format",
        "an output format or deliverables of its own: the reviewer answers only through the "
        "review tool",
        re.compile(
            r"^(?:outputs?|deliverables|response style)$|"
            r"\b(?:output|response|report|answer) (?:format|formats|style|template|structure|"
            r"schema|example)\b|\b(?:multi tier|neuron|final|expected) output\b|"
            r"\bstructured (?:response|output)\b"
        ),
        re.compile(
            r"\brespond (?:only )?(?:in|with|using) (?:this|the following|json|yaml|markdown)\b|"
            r"\bformat your (?:response|answer|output|reply)\b|\bof what you will do\b",
            re.I,
        ),
    ),
    AgentRule(
        "escalation",
        "escalation and hand-offs to other agents: the reviewer works alone",
        re.compile(
            r"\b(?:escalat[a-z]*|hand ?offs?|pipeline integration|agent interaction|"
            r"other agents|collaboration|coordination|communication formats?|delegation)\b"
        ),
        re.compile(
            r"\bescalat(?:e|ion) to\b|\bescalation (?:pipeline|path|process)\b|"
            r"\b(?:ask|request|notify) (?:the )?orchestrator\b|"
            r"\bhand (?:it |this |work )?(?:off|over) to\b|\bstop and raise\b",
            re.I,
        ),
    ),
    AgentRule(
        "ask-user",
        "asks for input or waits for answers: the reviewer cannot ask and answers in one turn",
        re.compile(
            r"^inputs?$|\b(?:required inputs?|incomplete inputs?|missing inputs?|"
            r"interaction protocols?|interaction with (?:ai|the user|users)|clarifications?)\b"
        ),
        re.compile(
            r"\bpause until\b|\bask (?:the )?user\b|\bask (?:only )?for (?:the )?missing\b|"
            r"\bstop work(?:ing)? (?:if|until|when)\b|\bclarification process\b|"
            r"\bwait (?:for|until) (?:the )?(?:user|confirmation|approval|answers?)\b|"
            r"\bask (?:clarifying )?questions (?:when|if|before)\b",
            re.I,
        ),
    ),
    AgentRule(
        "workflow",
        "an implementation workflow or the agent's own workspace files: the reviewer reads a "
        "diff and writes no code",
        re.compile(
            r"\b(?:implementation|development|working|coding|editing) (?:workflow|process|"
            r"approach|steps)\b|^(?:workflow|how you work)$"
        ),
        re.compile(r"\b(?:claude|agents|gemini)\.md\b|\bafter each (?:code|file|edit)\b", re.I),
    ),
    AgentRule(
        "metadata",
        "catalogue metadata (when to pick the agent, tags, examples of invoking it, template "
        "parameters): not review guidance",
        re.compile(
            r"^(?:when to use(?: this agent)?|(?:example )?use cases|usage examples?|tags|"
            r"categories|metadata|works well with|strengths|supported models)$"
        ),
        # "[REASONING_EFFORT]: low | medium | high": a prompt template's parameter
        re.compile(r"^[ \t]*\[[A-Z][A-Z_]{2,40}\][ \t]*:"),
    ),
)

METADATA = next(rule for rule in RULES if rule.name == "metadata")


def heading_words(text: str) -> str:
    """A heading as the rules read it: `## 1. Required Inputs (Before Coding)` ->
    `required inputs before coding`."""
    words = slug(text).split("-")
    while len(words) > 1 and words[0].isdigit():
        words.pop(0)
    return " ".join(words)


def agent_rule(heading: str) -> AgentRule | None:
    """The rule whose heading pattern the heading matches, if any."""
    words = heading_words(heading)
    return next((rule for rule in RULES if rule.heading.search(words)), None)


def content_rule(text: str) -> AgentRule | None:
    """The rule whose words one list item or one sentence uses, if any."""
    return next((r for r in RULES if r.content is not None and r.content.search(text)), None)
