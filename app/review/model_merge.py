"""Putting the model's answers together with the rules' findings (pure).

The model adds judgement; it never removes a rule finding. What it says is filtered for noise:
a finding about a file the pull request does not change is dropped (the model invented it),
and a finding on the lines a rule finding of the same category already covers is dropped as a
repeat, unless the model's could fail the check where the rule's does not (one comment per
concern, yet a rule's info question never hides the model's critical evidence from the gate).
Summaries from several parts of one review become one summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.review.diff import Diff, quote_path
from app.review.findings import Finding, NextAction, ReviewSummary, Source
from app.review.repo_config import RepoConfig


@dataclass(frozen=True, slots=True)
class Merged:
    findings: tuple[Finding, ...]  # the model's findings that survived
    invented_paths: tuple[str, ...]  # paths the model named that the diff does not change
    repeats: int  # model findings dropped because a rule finding already covers them


def merge_model_findings(
    diff: Diff,
    rule_findings: Sequence[Finding],
    model_findings: Sequence[Finding],
    config: RepoConfig,
) -> Merged:
    """The model's findings minus invented files and repeats of rule findings.

    A finding naming a renamed file by its old path, a path as the prompt quotes it, or a path
    with a diff's `a/` / `b/` or a shell's `./` prefix, is kept under the file's path in the
    diff.
    """
    paths = _paths(diff)
    rules = [_on(paths, f) for f in rule_findings]
    kept: list[Finding] = []
    invented: list[str] = []
    repeats = 0
    for finding in model_findings:
        if finding.source is not Source.LLM:
            raise ValueError("merge_model_findings takes the model's findings only")
        if finding.where.path not in paths:
            finding = _unprefixed(paths, finding)
        if finding.where.path not in paths:
            invented.append(finding.where.path)
            continue
        # A renamed file's old name, or the quoted form the prompt shows: one file, one path.
        finding = _on(paths, finding)
        if any(_covers(rule, finding, config) for rule in rules):
            repeats += 1
        else:
            kept.append(finding)
    return Merged(tuple(kept), tuple(dict.fromkeys(invented)), repeats)


_PREFIXES = ("a/", "b/", "./")


def _unprefixed(paths: dict[str, str], finding: Finding) -> Finding:
    """A path as a diff header (`b/app/x.py`) or a shell (`./app/x.py`) writes it, when the
    diff changes the file without that prefix (a real `b/` directory keeps its name)."""
    path = finding.where.path
    for prefix in _PREFIXES:
        if path.startswith(prefix) and path[len(prefix) :] in paths:
            where = finding.where.model_copy(update={"path": path[len(prefix) :]})
            return finding.model_copy(update={"where": where})
    return finding


def _paths(diff: Diff) -> dict[str, str]:
    """Every name a finding may give a changed file (as is, or as git quotes it), to its path."""
    # Old names first, so a file's own path wins where another file was renamed from it.
    pairs = [(f.old_path, f.path) for f in diff.files if f.old_path]
    pairs += [(f.path, f.path) for f in diff.files]
    out: dict[str, str] = {}
    for name, path in pairs:
        out[quote_path(name)] = out[name] = path
    return out


def _on(paths: dict[str, str], finding: Finding) -> Finding:
    path = paths.get(finding.where.path, finding.where.path)
    if path == finding.where.path:
        return finding
    return finding.model_copy(update={"where": finding.where.model_copy(update={"path": path})})


def _covers(rule: Finding, model: Finding, config: RepoConfig) -> bool:
    """Whether the rule finding already says what the model says: same file, category and
    lines, and the model's would not fail a check the rule's lets pass."""
    if rule.where.path != model.where.path or rule.category != model.category:
        return False
    if _may_block(model, config) and not config.fails(rule.severity):
        return False
    if rule.where.start is None or model.where.start is None:
        return rule.where.start is None and model.where.start is None
    rule_end = rule.where.end or rule.where.start
    model_end = model.where.end or model.where.start
    return rule.where.side == model.where.side and (
        rule.where.start <= model_end and model.where.start <= rule_end
    )


def _may_block(model: Finding, config: RepoConfig) -> bool:
    """What the evidence gate asks of a model finding before its anchoring (see model_gate)."""
    gate = config.model
    return (
        gate.blocking
        and config.fails(model.severity)
        and model.type == "evidence"
        and model.confidence is not None
        and model.confidence >= gate.block_confidence
    )


def merge_summaries(summaries: Sequence[ReviewSummary]) -> ReviewSummary | None:
    """One summary from the parts of a review, in part order; None when there is none."""
    if not summaries:
        return None
    if len(summaries) == 1:
        return summaries[0]
    n = len(summaries)
    actions: dict[str, NextAction] = {}
    for s in summaries:
        for action in s.next_actions:
            actions.setdefault(action.title.strip().lower(), action)
    return ReviewSummary(
        summary="\n\n".join(
            f"Part {i}/{n}: {s.summary.strip()}" for i, s in enumerate(summaries, 1)
        ),
        recommendation=" · ".join(
            dict.fromkeys(s.recommendation.strip() for s in summaries if s.recommendation.strip())
        ),
        rationale=_union(s.rationale for s in summaries),
        risks=_union(s.risks for s in summaries),
        next_actions=list(actions.values()),
        missing_context=_union(s.missing_context for s in summaries),
    )


def _union(lists: Iterable[Sequence[str]]) -> list[str]:
    out: dict[str, str] = {}
    for items in lists:
        for item in items:
            out.setdefault(item.strip().lower(), item)
    return list(out.values())
