"""Secrets in added lines: provider-specific token formats only, never generic entropy.

A finding never repeats the secret: evidence shows the line with the value redacted.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.review.findings import Severity
from app.review.rules.base import Change, ChangedFile, Report, Rule, RuleContext, quote, span
from app.review.rules.hints import hinted
from app.review.rules.secret_values import (
    assigned_secrets,
    in_firebase_config,
    is_dev_only_key_file,
    is_sample_file,
)


@dataclass(frozen=True)
class _Pattern:
    name: str
    regex: re.Pattern[str]
    group: int = 0  # the group holding the secret value


_PATTERNS = (
    _Pattern(
        "AWS access key id",
        re.compile(r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?![A-Z0-9])"),
        1,
    ),
    _Pattern(
        "AWS secret access key",
        re.compile(
            r"aws_?secret_?access_?key\W{0,4}[=:]\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
            re.I,
        ),
        1,
    ),
    _Pattern("GitHub token", re.compile(r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,})\b"), 1),
    _Pattern("GitHub fine-grained token", re.compile(r"\b(github_pat_[A-Za-z0-9_]{60,})\b"), 1),
    _Pattern("Slack token", re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]{10,})"), 1),
    _Pattern(
        "Slack webhook URL",
        re.compile(r"(https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,})"),
        1,
    ),
    _Pattern("Stripe live key", re.compile(r"\b((?:sk|rk)_live_[A-Za-z0-9]{20,})\b"), 1),
    _Pattern("Stripe webhook secret", re.compile(r"\b(whsec_[A-Za-z0-9+/=]{32,})"), 1),
    _Pattern(
        "SendGrid API key",
        re.compile(r"(?<![\w.-])(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![\w-])"),
        1,
    ),
    _Pattern("Google API key", re.compile(r"\b(AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])"), 1),
    _Pattern(
        "Anthropic API key", re.compile(r"\b(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{40,})"), 1
    ),
    _Pattern(
        "OpenAI API key",
        re.compile(
            # A key starts where a run of key characters starts, never inside one: a run of
            # "sk-sk-sk-..." is then one candidate, not one per "sk-" each rescanning the rest.
            r"(?<![A-Za-z0-9_-])(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}T3BlbkFJ"
            r"[A-Za-z0-9_-]{16,}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,})"
        ),
        1,
    ),
    _Pattern(
        "private key",
        re.compile(
            r"(-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----)"
        ),
        1,
    ),
)
# A JWT only counts as a bearer credential when the code says so; fixtures in tests are
# expected, and the header must really decode to a JWT header.
_JWT = re.compile(
    r"(?:bearer\s+|token[\"']?\s*[=:]\s*[\"']|authorization[\"']?\s*[=:]\s*[\"'](?:bearer\s+)?)"
    r"(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})",
    re.I,
)
# Every pattern above contains one of these, so a line (or a file's added lines) without any
# of them meets no pattern: "AKIA"/"ASIA"/"ABIA"/"ACCA", "AIza", "PRIVATE KEY", "xox?-",
# "gh?_", "github_pat_", "_live_", "sk-", the Slack webhook host, SendGrid's "SG.", "whsec_", and
# case-insensitively the "aws" of the secret-key assignment, the "eyJ" of a JWT and the words a
# secret's name holds for the generic reading.
_HINT = re.compile(r"A(?:[KSBC][IC]A|Iza)")  # one literal first character: a fast scan
_HINT_WORDS = (
    "PRIVATE KEY",
    "xox",
    "gh",
    "github_pat_",
    "_live_",
    "sk-",
    "hooks.slack.com",
    "SG.",
    "whsec_",
)
# The generic reading needs a name that means secret (secret_values._SECRET_NAME).
_HINT_FOLDED = ("aws", "eyj")
_GENERIC_FOLDED = ("pass", "pwd", "secret", "token", "key", "credential")
_PLACEHOLDER = re.compile(
    r"example|xxxx|dummy|placeholder|your[_-]|redacted|changeme|\.\.\.|<|\$\{|\{\{", re.I
)


def _looks_placeholder(value: str) -> bool:
    body = value.split("_")[-1] if value.startswith(("sk_", "rk_", "gh")) else value
    return bool(_PLACEHOLDER.search(value)) or len(set(body)) < 8


def _jwt_header_ok(token: str) -> bool:
    head = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def redact(value: str) -> str:
    return value[:4] + "…"


def _redact_line(text: str, hits: list[tuple[str, str]]) -> str:
    """The line as evidence may quote it: every secret on it cut short, not only one."""
    for name, value in hits:
        if name == "private key":
            # Key material may follow the header on the same line (a "\n"-joined PEM).
            head, _, _ = text.partition(value)
            text = f"{head}{value}…"
        else:
            text = text.replace(value, redact(value))
    return text


# Key material right after the header, on the header's line ("\n"-joined PEM) or the next.
_PEM_INLINE = re.compile(r"KEY-----(?:\\n|\s*+)[A-Za-z0-9+/]{40}")
# A line of base64 key material, perhaps quoted, perhaps ending in a literal "\n". Each part is
# possessive: the body keeps the "n"s it shares with the tail (giving them back, one at a time,
# made this quadratic on a long line of "n"s), which changes no answer of the fullmatch.
_PEM_BODY = re.compile(r"[\s\"']*+[A-Za-z0-9+/=]{40,}+[\s\"',\\n]*+")


def _pem_has_body(f: ChangedFile, index: int, text: str, whole: dict[int | None, str]) -> bool:
    """A PEM header followed by key material, not a string compared against."""
    if _PEM_INLINE.search(text):
        return True
    lines = f.visible[index + 1 : index + 3]
    return any(_PEM_BODY.fullmatch(whole.get(ln.new_no, ln.text)) for ln in lines)


def _may_hold_secret(text: str) -> bool:
    """A provider format may be in `text`."""
    return hinted(text, _HINT_WORDS, _HINT, _HINT_FOLDED)


def _may_hold_generic(text: str) -> bool:
    """A secret's name may be assigned in `text`."""
    return ("=" in text or ":" in text) and hinted(text, folded=_GENERIC_FOLDED)


def _provider_hits(
    f: ChangedFile, index: int, text: str, whole: dict[int | None, str]
) -> list[tuple[str, str]]:
    hits: list[tuple[str, str]] = []
    for pattern in _PATTERNS:
        for m in pattern.regex.finditer(text):
            value = m.group(pattern.group)
            if pattern.name == "private key":
                if _pem_has_body(f, index, text, whole):
                    hits.append((pattern.name, value))
            elif pattern.name == "Google API key" and _firebase_web_key(f, index):
                continue
            elif not _looks_placeholder(value):
                hits.append((pattern.name, value))
    return hits


def _firebase_web_key(f: ChangedFile, index: int) -> bool:
    """A Firebase web app's apiKey: public by design (it ships to every browser)."""
    around = f.visible[max(0, index - 8) : index + 9]
    return in_firebase_config([ln.text for ln in around])


def _generic_hits(
    f: ChangedFile, text: str, taken: list[tuple[str, str]], seen: set[str]
) -> list[tuple[str, str]]:
    """Random-looking literals assigned to a name that means secret, each once per file, and
    not a value a provider pattern already judged (named, or passed as a placeholder or a
    public key)."""
    hits = []
    for value in assigned_secrets(f.path, text):
        if value in seen or any(value in known or known in value for _, known in taken):
            continue
        if any(p.regex.search(value) for p in _PATTERNS):
            continue
        seen.add(value)
        hits.append((_GENERIC, value))
    return hits


_GENERIC = "hard-coded credential"


def _scan(f: ChangedFile) -> Iterator[Report]:
    # Lines the rules see cut to a window are scanned whole here: every pattern is linear,
    # and a key at the end of a minified line leaks all the same.
    long = {ln.new_no: ln for ln in f.long_lines if ln.kind != "removed"}
    whole = {n: ln.text for n, ln in long.items()}
    in_test = f.kind.kind == "test"
    # Tests, fixtures, examples, templates and docs hold samples: only a private key there is
    # worth a question, and only in tests (an example's demo key pair protects nothing).
    sample = in_test or is_sample_file(f.path)
    provider = _may_hold_secret(f.added_text) or any(
        _may_hold_secret(ln.text) for ln in long.values()
    )
    # The generic reading looks only at the start of a line (secret_values.WINDOW), which the
    # rules' window already holds.
    generic = not sample and _may_hold_generic(f.added_text)
    if not provider and not generic:
        return
    dev_key = sample or is_dev_only_key_file(f.path)
    seen: set[str] = set()  # generic values already reported in this file
    for index, cut in enumerate(f.visible):
        ln = long.get(cut.new_no, cut)
        if ln.kind != "added" or ln.new_no is None:
            continue
        hits: list[tuple[str, str]] = []
        if provider and _may_hold_secret(ln.text):
            hits = _provider_hits(f, index, ln.text, whole)
            if not in_test:
                hits += [
                    ("JWT bearer token", m.group(1))
                    for m in _JWT.finditer(ln.text)
                    if _jwt_header_ok(m.group(1))
                ]
        if generic and _may_hold_generic(ln.text):
            hits += _generic_hits(f, ln.text, hits, seen)
        if not hits:
            continue
        shown = _redact_line(ln.text, hits)
        for name, value in hits:
            if name == "private key" and dev_key and not in_test:
                continue
            if in_test and name != "private key":
                continue  # a token in a test is a fixture (format checks, parsers, redaction)
            yield _report(f, ln.new_no, name, value, shown, throwaway=in_test)


def _report(
    f: ChangedFile, line: int, name: str, value: str, shown: str, *, throwaway: bool
) -> Report:
    generic = name == _GENERIC
    if throwaway:
        title = "Private key in a test: is it a throwaway key?"
        recommendation = (
            "Generate the key in the test (e.g. with `cryptography`) instead of "
            "committing one, or confirm it has never been used anywhere."
        )
    else:
        title = f"{name} committed in {f.path.rsplit('/', 1)[-1]}"
        recommendation = (
            "Revoke and rotate it now (it is in the git history even if this line is "
            "removed), then load it from the environment or a secret manager."
        )
    if generic:
        title = f"Hard-coded credential in {f.path.rsplit('/', 1)[-1]}"
        recommendation = (
            "If this value is used anywhere real, rotate it (it stays in the git history), "
            "then read it from the environment or a secret manager; a development default "
            "belongs in an example file with a placeholder."
        )
    return Report(
        path=f.path,
        key=f"{name}\0{shown.strip()}",
        title=title,
        evidence=f"Line {line} adds a {name} ({redact(value)}): `{quote(shown)}`",
        recommendation=recommendation,
        lines=span(line),
        severity=Severity.INFO if throwaway else Severity.MAJOR if generic else None,
        type="question" if throwaway else "evidence",
    )


def _check(change: Change, ctx: RuleContext) -> Iterator[Report]:
    # Skipped files are scanned too: a key in vendored or generated code leaks all the same.
    for f in change.files:
        if not f.diff.is_binary and f.ignored != "lock file":
            yield from _scan(f)


HARDCODED_SECRET = Rule(
    id="hardcoded-secret",
    doc="A provider credential (AWS, GitHub, Slack, Stripe, SendGrid, Google, Anthropic, "
    "OpenAI, private key, JWT) in an added line; a random-looking literal assigned to a name "
    "that means secret (major).",
    category="security",
    severity=Severity.CRITICAL,
    check=_check,
)

RULES = (HARDCODED_SECRET,)
