"""Throughput of the verbatim pipeline: redact -> language -> themes -> sentiment.

Usage: python bench/text_pipeline.py [N] [--workers W] [--model]
Comments are synthetic (tests/text/verbatim_composer.py), Dutch and English,
about 5% with personal data. Target: 100,000 comments in under 60 s.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.kernels.text.verbatim_composer import compose_comments  # noqa: E402

from servicepulse.kernels.text import SentimentModel, analyse_comments  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=0, help="processes (0 = all cores)")
    ap.add_argument("--model", action="store_true", help="also score with a trained SentimentModel")
    args = ap.parse_args()

    t = time.perf_counter()
    comments = compose_comments(args.n, seed=2024)
    texts = [c.text for c in comments]
    print(f"composed {len(texts):,} synthetic comments in {time.perf_counter() - t:.1f} s "
          f"(mean {sum(map(len, texts)) / len(texts):.0f} characters)")

    # warm-up outside the timing: loads language model, lemma dictionaries, code frame
    analyse_comments(texts[:200], workers=1)

    model = None
    if args.model:
        train = compose_comments(5000, seed=7)
        t = time.perf_counter()
        model = SentimentModel(language="auto").fit([c.text for c in train], [c.score for c in train])
        print(f"trained SentimentModel on 5,000 comments in {time.perf_counter() - t:.1f} s")

    # CPU time of one process on a slice: what the code costs, independent of
    # how busy the shared machine is right now
    sample = texts[:10_000]
    c0 = time.process_time()
    analyse_comments(sample, workers=1, model=model)
    cpu_us = 1e6 * (time.process_time() - c0) / len(sample)
    print(f"CPU time, one process: {cpu_us:.0f} us/comment -> {cpu_us * 100_000 / 1e6:.0f} s CPU per 100,000 "
          f"(about {cpu_us * 100_000 / 1e6 / 2:.0f} s wall on 2 idle cores)")

    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    res = analyse_comments(texts, workers=args.workers, model=model)
    dt = time.perf_counter() - t
    n_red = sum(1 for r in res if r.redactions)
    n_men = sum(len(r.mentions) for r in res)
    print(f"analysed {len(res):,} comments in {dt:.1f} s = {len(res) / dt:,.0f} comments/s "
          f"(workers={args.workers or 'all cores'}, model={'yes' if model else 'no, lexicon'})")
    print(f"  machine load average (1 min) before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {n_red:,} comments with personal data redacted, {n_men:,} theme mentions")
    verdict = "PASS" if (len(res) >= 100_000 and dt < 60) else ("n/a (fewer than 100,000)" if len(res) < 100_000 else "FAIL")
    print(f"  target 100,000 in < 60 s: {verdict}")


if __name__ == "__main__":
    main()
