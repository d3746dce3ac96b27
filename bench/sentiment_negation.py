"""Dutch negation in the lexicon sentiment, measured on a labelled set of service comments.

Usage: python bench/sentiment_negation.py [--errors dev|held-out|all]

The set, tests/data/dutch_service_comments.csv (text,label; label negative /
neutral / positive), was written for this project: short comments in the tone
of telecom, energy, insurer, housing and public-service customers, many with a
negation ("niet nagekomen", "geen bericht", "nooit teruggebeld", "niet
tevreden", "geen probleem", "ik hoef niet teruggebeld te worden").

A comment's lexicon score is turned into a label as the verbatim pages do it
(servicepulse.verbatims.repository.SENTIMENT_CUT: |score| below the cut is
neutral). Printed per setting, negation off (negators ignored) and on: accuracy
with per-class precision and recall, on all rows, on the rows that hold a
negator, and on the held-out quarter (every fourth row) that was not looked at
while the negation rules were written. The rules and the set have one author,
so the figures on the other rows are in-sample: read them with care.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from servicepulse.kernels.text import lexicon_sentiment
from servicepulse.verbatims.repository import SENTIMENT_CUT

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "dutch_service_comments.csv"
LABELS = ("negative", "neutral", "positive")
NEGATED = re.compile(r"\b(niet|geen|nooit|niets|niks|niemand|nergens|zonder|nauwelijks)\b", re.IGNORECASE)


def load(path: Path = DATA) -> tuple[list[str], np.ndarray]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    bad = [r["label"] for r in rows if r["label"] not in LABELS]
    if bad:
        raise SystemExit(f"{path}: label {bad[0]!r} is not one of {', '.join(LABELS)}")
    return [r["text"] for r in rows], np.array([r["label"] for r in rows])


def held_out(n: int) -> np.ndarray:
    return np.arange(n) % 4 == 3


def labels_of(scores: np.ndarray) -> np.ndarray:
    return np.where(scores <= -SENTIMENT_CUT, "negative", np.where(scores >= SENTIMENT_CUT, "positive", "neutral"))


def predict(texts: list[str], negation: bool) -> np.ndarray:
    return labels_of(np.array([lexicon_sentiment(t, "nl", negation=negation) for t in texts]))


def report(name: str, y: np.ndarray, pred: np.ndarray) -> str:
    precision, recall, _, support = precision_recall_fscore_support(y, pred, labels=list(LABELS), zero_division=0)
    per_class = "  ".join(f"{lab[:3]} P {p:.2f} R {r:.2f} (n={s})"
                          for lab, p, r, s in zip(LABELS, precision, recall, support))
    return f"  {name:<22} n={len(y):>3}  accuracy {accuracy_score(y, pred):.3f}   {per_class}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=("dev", "held-out", "all"), help="list the misjudged comments")
    args = parser.parse_args()
    texts, y = load()
    hold = held_out(len(texts))
    negated = np.array([bool(NEGATED.search(t)) for t in texts])
    print(f"{DATA.name}: {len(texts)} comments, {int(negated.sum())} with a negator; "
          f"neutral below |score| {SENTIMENT_CUT}")
    for negation in (False, True):
        pred = predict(texts, negation)
        print(f"negation {'on' if negation else 'off'}:")
        print(report("all", y, pred))
        print(report("with a negator", y[negated], pred[negated]))
        print(report("held-out quarter", y[hold], pred[hold]))
        if args.errors and negation:
            rows = {"dev": ~hold, "held-out": hold, "all": np.ones(len(texts), bool)}[args.errors]
            for i in np.flatnonzero(rows & (pred != y)):
                print(f"    {y[i]:>8} as {pred[i]:<8} {lexicon_sentiment(texts[i], 'nl'):+.2f}  {texts[i]}")


if __name__ == "__main__":
    sys.exit(main())
