"""Redaction quality per kind on the labelled set (tests/kernels/text/redaction_set.jsonl).

Usage: python bench/redaction_quality.py [--errors]
Prints kind, n (labelled values), predicted spans, precision and recall; --errors also
lists every miss and false positive. The same computation is asserted in
tests/kernels/text/test_redaction_quality.py.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.kernels.text.redaction_quality import evaluate, load_set, table  # noqa: E402  (after the path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", action="store_true", help="list misses and false positives")
    args = ap.parse_args()
    rows = load_set()
    scores, errors = evaluate(rows=rows)
    print(f"{len(rows)} sentences, {sum(1 for _, g in rows if not g)} without personal data")
    print(table(scores))
    if args.errors:
        for text, kind, value, what in errors:
            print(f"{what:<15} {kind:<14} {value!r:<32} in {text!r}")


if __name__ == "__main__":
    main()
