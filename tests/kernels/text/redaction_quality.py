"""Precision and recall per kind of the redactor on the labelled set redaction_set.jsonl.

Each line: {"text": ..., "pii": [[kind, value], ...]}; a value occurs exactly once in its text.
Recall: a labelled value counts as found when spans of its kind cover all of it (a
partly redacted name still leaks). Precision: a predicted span is right when it overlaps
a labelled value of the same kind. Shared by test_redaction_quality.py and
bench/redaction_quality.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from servicepulse.kernels.text.redact import DEFAULT_CUSTOMER_PATTERNS, Redactor

SET = Path(__file__).with_name("redaction_set.jsonl")
# The demo organisation's customer numbers (GN-K0000250), as servicepulse.demo.after_load
# configures them; copied here so the kernel test does not import the demo.
DEMO_CUSTOMER_PATTERN = r"\bGN-K\d{7}\b"
INSTALLATION_PATTERNS = (*DEFAULT_CUSTOMER_PATTERNS, DEMO_CUSTOMER_PATTERN)


@dataclass
class KindScore:
    kind: str
    n: int = 0           # labelled values
    found: int = 0       # labelled values fully covered
    predicted: int = 0   # predicted spans
    correct: int = 0     # predicted spans that overlap a labelled value of the kind

    @property
    def recall(self) -> float:
        return self.found / self.n if self.n else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0


def load_set(path: Path = SET) -> list[tuple[str, list[tuple[str, int, int]]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text, gold = row["text"], []
        for kind, value in row["pii"]:
            assert text.count(value) == 1, (text, value)
            start = text.index(value)
            gold.append((kind, start, start + len(value)))
        rows.append((text, gold))
    return rows


def evaluate(redactor: Redactor | None = None, rows=None):
    """Scores per kind and the misses: (text, kind, value, 'missed' | 'false positive')."""
    redactor = redactor or Redactor(customer_patterns=INSTALLATION_PATTERNS)
    rows = rows if rows is not None else load_set()
    scores: dict[str, KindScore] = {}
    errors = []
    for text, gold in rows:
        spans = redactor.find(text)
        for kind, s, e in gold:
            sc = scores.setdefault(kind, KindScore(kind))
            sc.n += 1
            covered = set()
            for sp in spans:
                if sp.kind == kind:
                    covered.update(range(max(s, sp.start), min(e, sp.end)))
            if len(covered) == e - s:
                sc.found += 1
            else:
                errors.append((text, kind, text[s:e], "missed"))
        for sp in spans:
            sc = scores.setdefault(sp.kind, KindScore(sp.kind))
            sc.predicted += 1
            if any(k == sp.kind and sp.start < e and s < sp.end for k, s, e in gold):
                sc.correct += 1
            else:
                errors.append((text, sp.kind, text[sp.start:sp.end], "false positive"))
    return dict(sorted(scores.items())), errors


def table(scores: dict[str, KindScore]) -> str:
    lines = [f"{'kind':<14} {'n':>4} {'predicted':>9} {'precision':>9} {'recall':>7}"]
    for sc in scores.values():
        lines.append(f"{sc.kind:<14} {sc.n:>4} {sc.predicted:>9} {sc.precision:>9.3f} {sc.recall:>7.3f}")
    return "\n".join(lines)
