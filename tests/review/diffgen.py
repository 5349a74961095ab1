"""Hypothesis strategies for random but valid unified diffs, with the lines they must parse to."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
    max_size=20,
)
_NAMES = st.from_regex(
    r"[a-z][a-z0-9_]{0,8}(/[a-z][a-z0-9_]{0,8}){0,2}\.(py|sql|ts)", fullmatch=True
)


@dataclass(frozen=True)
class SpecLine:
    kind: str
    old_no: int | None
    new_no: int | None
    text: str


@dataclass(frozen=True)
class SpecFile:
    path: str
    status: str
    lines: tuple[SpecLine, ...]
    hunk_count: int


@st.composite
def hunk_kinds(draw: st.DrawFn) -> list[str]:
    return draw(st.lists(st.sampled_from(["context", "added", "removed"]), min_size=1, max_size=12))


@st.composite
def file_diffs(draw: st.DrawFn, path: str) -> tuple[str, SpecFile]:
    status = draw(st.sampled_from(["modified", "modified", "added", "removed"]))
    out: list[str] = []
    spec: list[SpecLine] = []
    if status == "added":
        texts = draw(st.lists(_TEXT, min_size=1, max_size=15))
        out += [f"diff --git a/{path} b/{path}\n", "new file mode 100644\n"]
        out += ["--- /dev/null\n", f"+++ b/{path}\n", f"@@ -0,0 +1,{len(texts)} @@\n"]
        for i, t in enumerate(texts, 1):
            out.append(f"+{t}\n")
            spec.append(SpecLine("added", None, i, t))
        return "".join(out), SpecFile(path, status, tuple(spec), 1)
    if status == "removed":
        texts = draw(st.lists(_TEXT, min_size=1, max_size=15))
        out += [f"diff --git a/{path} b/{path}\n", "deleted file mode 100644\n"]
        out += [f"--- a/{path}\n", "+++ /dev/null\n", f"@@ -1,{len(texts)} +0,0 @@\n"]
        for i, t in enumerate(texts, 1):
            out.append(f"-{t}\n")
            spec.append(SpecLine("removed", i, None, t))
        return "".join(out), SpecFile(path, status, tuple(spec), 1)
    out += [f"diff --git a/{path} b/{path}\n", "index 1111111..2222222 100644\n"]
    out += [f"--- a/{path}\n", f"+++ b/{path}\n"]
    n_hunks = draw(st.integers(1, 4))
    old = new = draw(st.integers(1, 30))
    for _ in range(n_hunks):
        kinds = draw(hunk_kinds())
        old_len = sum(k != "added" for k in kinds)
        new_len = sum(k != "removed" for k in kinds)
        out.append(f"@@ -{old},{old_len} +{new},{new_len} @@ def f():\n")
        o, n = old, new
        for k in kinds:
            t = draw(_TEXT)
            if k == "added":
                out.append(f"+{t}\n")
                spec.append(SpecLine(k, None, n, t))
                n += 1
            elif k == "removed":
                out.append(f"-{t}\n")
                spec.append(SpecLine(k, o, None, t))
                o += 1
            else:
                out.append(f" {t}\n")
                spec.append(SpecLine(k, o, n, t))
                o, n = o + 1, n + 1
        gap = draw(st.integers(1, 20))
        old, new = o + gap, n + gap
    return "".join(out), SpecFile(path, status, tuple(spec), n_hunks)


@st.composite
def diffs(draw: st.DrawFn, max_files: int = 4) -> tuple[str, list[SpecFile]]:
    paths = draw(st.lists(_NAMES, min_size=1, max_size=max_files, unique=True))
    texts, specs = [], []
    for p in paths:
        text, spec = draw(file_diffs(p))
        texts.append(text)
        specs.append(spec)
    return "".join(texts), specs
