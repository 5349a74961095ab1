"""Precision and recall of the deterministic rules on a labelled corpus of small PR diffs.

    .venv/bin/python -m bench.quality            # table per rule, exit 1 below target

The corpus lives in tests/diffs/quality/: one `<case>.diff` per PR and `labels.toml` naming the
rule ids that must fire on it; every other rule must stay silent. A case reviewed with whole
files (as the App gathers them) also has a `<case>.files/` folder holding each file's text at
the head, named `<path>.txt` (so linters leave them alone); the base is the head with the
diff's hunks undone, and a file the diff does not touch is unchanged context.
Secret-shaped values are written as `<<FAKE:kind>>` and filled in here, so the repository never
holds a literal that secret scanners (or GitHub push protection) would stop.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from app.review.diff import FileDiff, parse_diff
from app.review.file_context import EMPTY, FileContext, FileText
from app.review.rules import ALL_RULES, RuleContext, run_rules

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "diffs" / "quality"
PRECISION_TARGET = 0.95
RECALL_TARGET = 0.9

_FAKES = {
    "github": "ghp" + "_R8x2Lq9ZtK3vWm7NcY4bHs6DpF1aJe5GuQ0o",
    "aws": "AKIA" + "Q7ZL3M2XNRV5TYWB",
    "stripe": "sk" + "_live_51Hx9aQm2Zr7Lp4Kd8Vt3Ny6",
    "slack": "xoxb" + "-2931846503-9182736450-Zq8Rt5Lm2Xw7Ck4Vb1Np6Hd",
    "openai": "sk-proj-" + "Qw7Er9Ty2Ui4Op6As8Df" + "T3Blbk" + "FJ" + "Gh1Jk3Lz5Xc7Vb9Nm2Qw",
    "pemhead": "-----BEGIN RSA " + "PRIVATE KEY-----",
    "sendgrid": "SG."
    + "Vb3kQ9xLm2Zr7Tp4Hd8Nc1"
    + "."
    + "Wq5Ey8Ru2Ti6Yo0Pa3Sd7Fg9Hj1Kl4Zx6C"
    + "v8Bn2Mq5W",
    "google": "AIza" + "SyD8kq2L9xZt4Vn7Rm1Pb3Wc6Hj0Yf5Gs2A",
    "password": "Xq7" + "Lr2vN9kT4pWz",
    "hexsecret": "9f3b" + "a71c04e2d85b6f19c7a03e4d2b8f",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJzdWIiOiI0MiIsIm5hbWUiOiJ0ZXN0In0.Zm9vYmFyYmF6cXV4MTIzNDU2",
}


@dataclass(frozen=True)
class Case:
    name: str
    diff: str
    expect: frozenset[str]
    max_files: int = 15
    files: FileContext = EMPTY  # whole texts, for the cases that have a `<case>.files/`


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)  # "fp:case" / "fn:case"

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    labels = tomllib.loads((corpus / "labels.toml").read_text())
    cases = []
    for name, label in labels.items():
        text = (corpus / f"{name}.diff").read_text()
        for kind, value in _FAKES.items():
            text = text.replace(f"<<FAKE:{kind}>>", value)
        files = _files(text, corpus / f"{name}.files")
        expect = frozenset(label["expect"])
        cases.append(Case(name, text, expect, int(label.get("max_files", 15)), files))
    return cases


def base_from_head(diff: FileDiff, head: str) -> str:
    """The file before `diff`, rebuilt from its text after: each hunk's new lines replaced by
    its old ones, last hunk first so earlier line numbers still hold."""
    lines = head.split("\n")
    for hunk in reversed(diff.hunks):
        start = hunk.new_start - 1 if hunk.new_len else hunk.new_start
        old = [ln.text for ln in hunk.lines if ln.kind != "added"]
        lines[start : start + hunk.new_len] = old
    return "\n".join(lines)


def _files(diff_text: str, folder: Path) -> FileContext:
    if not folder.is_dir():
        return EMPTY
    diff = parse_diff(diff_text)
    texts = []
    for item in sorted(folder.rglob("*.txt")):
        path = item.relative_to(folder).as_posix().removesuffix(".txt")
        head = item.read_text()
        changed = diff.file(path)
        if changed is None:
            texts.append(FileText(path, head, head))
        elif changed.status == "added":
            texts.append(FileText(path, head, None))
        else:
            texts.append(FileText(path, head, base_from_head(changed, head)))
    return FileContext.of(texts)


def score(cases: list[Case]) -> dict[str, Score]:
    scores = {rule.id: Score() for rule in ALL_RULES}
    for case in cases:
        ctx = RuleContext(max_files=case.max_files)
        findings = run_rules(parse_diff(case.diff), ctx, case.files)
        fired = {f.rule for f in findings}
        for rule_id, s in scores.items():
            if rule_id in fired and rule_id in case.expect:
                s.tp += 1
            elif rule_id in fired:
                s.fp += 1
                s.misses.append(f"fp:{case.name}")
            elif rule_id in case.expect:
                s.fn += 1
                s.misses.append(f"fn:{case.name}")
    return scores


def total(scores: dict[str, Score]) -> Score:
    return Score(
        tp=sum(s.tp for s in scores.values()),
        fp=sum(s.fp for s in scores.values()),
        fn=sum(s.fn for s in scores.values()),
    )


def below_target(scores: dict[str, Score]) -> list[str]:
    return [
        rule_id
        for rule_id, s in scores.items()
        if s.precision < PRECISION_TARGET or s.recall < RECALL_TARGET
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    cases = load_cases(args.corpus)
    scores = score(cases)
    print(f"{len(cases)} cases, {sum(1 for c in cases if not c.expect)} clean look-alikes\n")
    print(f"{'rule':40} {'tp':>3} {'fp':>3} {'fn':>3} {'precision':>10} {'recall':>7}")
    for rule_id, s in [*scores.items(), ("(all rules)", total(scores))]:
        print(
            f"{rule_id:40} {s.tp:3} {s.fp:3} {s.fn:3} {s.precision:10.2f} {s.recall:7.2f}"
            + (f"   {' '.join(s.misses)}" if s.misses else "")
        )
    failing = below_target(scores)
    if failing:
        print(f"\nbelow target (precision {PRECISION_TARGET}, recall {RECALL_TARGET}): {failing}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
