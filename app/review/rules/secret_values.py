"""What the secret rule decides beyond provider formats: credentials assigned to a name that
says secret, and the files and contexts where a key-shaped value is a sample, not a leak.

The generic reading follows what gitleaks' `generic-api-key` and detect-secrets'
`KeywordDetector` do — a name that means secret, an assignment, a literal value with enough
entropy, placeholders and references filtered out — and keeps to the quiet side: a value must
be random-looking (Shannon entropy >= 3.5 bits per character, gitleaks' threshold), not made of
words, and not in a test, fixture, example, template or docs file.
"""

from __future__ import annotations

import math
import re
from collections import Counter

# Only the start of a long line is read for assignments: a credential sits near its name.
WINDOW = 400
MIN_ENTROPY = 3.5

# NAME <op> VALUE, the name perhaps quoted (`"password": ...`, `config['MAIL_PASSWORD'] = ...`)
# or annotated (`jwt_secret: str = ...`, pydantic settings' way; TypeScript's `x: string =`).
# Every part is possessive and the name starts where a run of name characters starts, so a
# hostile line is read once.
_ASSIGN = re.compile(
    r"(?<![\w.-])([A-Za-z_][\w.-]{0,80}+)[\"'`]?+\]?+\s{0,4}+"
    r"(?::=|=>|\?=|=(?!=)|:\s{0,4}+[A-Za-z_][\w.\[\], |]{0,60}+=(?!=)|:(?!:))\s{0,4}+"
    r"([\"'`]?+)([^\s\"'`,;(){}\[\]<>]{8,200}+)([\"'`]?+)"
)
# A name holds a secret when a secret noun is its head (its last part): `DATABASE_PASSWORD`,
# `JWT_SECRET_KEY`, `apiKey`, `auth_token`. Where the noun only qualifies the head, the name
# holds something about a secret, not the secret: `PASSWORD_MIN_LENGTH`, `TOKEN_URL`,
# `SECRET_NAME`, `PASSWORD_HASHER`, `PUBLIC_KEY`, `key_id`.
_SECRET_HEADS = frozenset(
    ("password", "passwd", "pwd", "passphrase", "secret", "token", "credential", "credentials")
)
_KEY_QUALIFIERS = frozenset(
    ("api", "secret", "private", "access", "auth", "signing", "encryption", "master", "client")
)
# Words that make a value a placeholder, a demo or a default a reader is meant to replace.
_PLACEHOLDER_WORDS = re.compile(
    r"example|sample|dummy|placeholder|change_?-?me|your|xxx|redacted|todo|fixme|secret|passw"
    r"|test|fake|mock|demo|default|local|insecure|replace|insert|enter|foo|bar|baz|1234|qwerty"
    r"|admin|null|none|undefined|abcd|\*\*\*",
    re.IGNORECASE,
)
# A value made of lowercase words (`my-ultra-long-secret`) is a memorable phrase or a name.
# Each begins where a run begins (the look-behind), so a search never rescans one run per start.
_WORDS = re.compile(r"(?<![a-z])[a-z]++(?:[-_. ][a-z]++)++")
# References, not literals: a dotted name (`settings.SECRET`), a constant's name.
_REFERENCE = re.compile(r"(?<![\w.])(?:[A-Za-z_]\w*+(?:\.[A-Za-z_]\w*+)++|[A-Z][A-Z0-9_]++)")
_UNQUOTED_OK = re.compile(
    r"(?:^|/)\.env(?:\.[\w-]+)?$|\.(?:env|ini|cfg|conf|properties|ya?ml|toml)$", re.IGNORECASE
)

# Files whose values are samples: tests, fixtures, examples, templates, docs — judged from the
# path's folders and the file name's dotted parts, with string operations only.
_SAMPLE_FOLDERS = frozenset(
    {"test", "tests", "spec", "specs", "__tests__", "fixture", "fixtures", "mock", "mocks"}
    | {"example", "examples", "sample", "samples", "doc", "docs", "testdata"}
)
# A folder named for tests with a qualifier: integration_tests/, api-tests/, public_api_test/.
_TEST_DIR_ENDINGS = tuple(f"{sep}{word}" for sep in "_-" for word in ("test", "tests", "spec"))
# `.env.example`, `config.sample.json`, `app.yml.template`, `settings.py.dist`.
_SAMPLE_PARTS = frozenset(("example", "sample", "template", "tmpl", "dist", "tpl"))
_DOC_EXTENSIONS = frozenset(("md", "markdown", "rst", "adoc", "txt"))
# Key material for a developer's own machine: a localhost certificate, a self-signed dev pair.
_DEV_ONLY_KEY = re.compile(r"localhost|self-?signed|snakeoil|(?:^|[/._-])dev[/._-]", re.IGNORECASE)
# A Firebase web config: its apiKey is an identifier shipped to every browser (Firebase's docs).
_FIREBASE = re.compile(r"firebaseapp\.com|authDomain|messagingSenderId|firebaseConfig")


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def is_sample_file(path: str) -> bool:
    *folders, name = path.lower().split("/")
    if any(d in _SAMPLE_FOLDERS or d.endswith(_TEST_DIR_ENDINGS) for d in folders):
        return True
    parts = name.split(".")[1:]
    return any(p in _SAMPLE_PARTS for p in parts) or (bool(parts) and parts[-1] in _DOC_EXTENSIONS)


def is_dev_only_key_file(path: str) -> bool:
    return bool(_DEV_ONLY_KEY.search(path))


def in_firebase_config(lines: list[str]) -> bool:
    """Whether the lines around a Google API key are a Firebase web app's config."""
    return any(_FIREBASE.search(text[:WINDOW]) for text in lines)


def _secret_name(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    # camelCase to snake_case, so `apiKey` and `jwtSecretKey` read like `api_key`.
    parts = [p.lower() for p in re.split(r"[_-]+|(?<=[a-z0-9])(?=[A-Z])", last) if p]
    if not parts:
        return False
    head = parts[-1]
    if head in _SECRET_HEADS or head == "apikey":
        return True
    return head == "key" and len(parts) > 1 and parts[-2] in _KEY_QUALIFIERS


def random_looking(value: str) -> bool:
    """A value that could be a real credential: not a placeholder, a phrase or a reference."""
    if _PLACEHOLDER_WORDS.search(value) or _WORDS.fullmatch(value):
        return False
    if _REFERENCE.fullmatch(value) or "://" in value or "@" in value or value[0] in "$%/\\.~":
        return False
    return entropy(value) >= MIN_ENTROPY


def assigned_secrets(path: str, text: str) -> list[str]:
    """Literal values assigned on this line to a name that means secret."""
    unquoted_ok = bool(_UNQUOTED_OK.search(path))
    found = []
    for m in _ASSIGN.finditer(text[:WINDOW]):
        name, opened, value, closed = m.groups()
        if opened != closed or (not opened and not unquoted_ok):
            continue
        if not opened and m.end() < min(len(text), WINDOW) and not text[m.end()].isspace():
            continue
        if _secret_name(name) and random_looking(value):
            found.append(value)
    return found
