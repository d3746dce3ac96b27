"""Negative vs positive on held-out comments: our lexicon, our trained
SentimentModel, and VADER (English baseline).

Usage: python bench/text_sentiment_vs_vader.py [--train N] [--test N] [--seed S]

Labels come from the NPS score composed with each comment: 0-6 negative,
9-10 positive; passives (7-8) are left out of training and scoring. Train and
test comments are separate random draws (different seeds) of the composer.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from tests.kernels.text.verbatim_composer import compose_comments  # noqa: E402

from servicepulse.kernels.text import SentimentModel, detect_language, lexicon_sentiment  # noqa: E402
from servicepulse.kernels.text.sentiment import score_labels  # noqa: E402

# Written for this benchmark, not by the composer, and not used to tune the
# lexicon: (language, label, comment). Small, so read its figures with care.
HANDWRITTEN = [
    ("nl", 1, "Keurig op tijd, de man wist waar hij mee bezig was"),
    ("nl", 1, "Binnen vijf minuten had ik antwoord, chapeau"),
    ("nl", 1, "Fijn dat jullie meteen terugbelden toen de verbinding wegviel"),
    ("nl", 1, "Mevrouw aan de telefoon nam echt de tijd voor mij"),
    ("nl", 1, "Storing was dezelfde dag verholpen, dank daarvoor"),
    ("nl", 1, "Prettig contact en alles werd per mail bevestigd"),
    ("nl", 1, "Eindelijk een bedrijf dat doet wat het zegt"),
    ("nl", 1, "Ik hoefde niks uit te leggen, ze zagen het al in het systeem"),
    ("nl", 1, "Monteur heeft zelfs de oude meter netjes meegenomen"),
    ("nl", 1, "Goed bereikbaar en vlot geregeld"),
    ("nl", -1, "Drie weken zonder internet en niemand die iets weet"),
    ("nl", -1, "Ik word gek van dat keuzemenu"),
    ("nl", -1, "Afspraak werd op het laatste moment afgezegd, dag vrij voor niks"),
    ("nl", -1, "Twee keer een verkeerde rekening gekregen"),
    ("nl", -1, "De chat geeft alleen standaardantwoorden"),
    ("nl", -1, "Ze beloven van alles maar er gebeurt niets"),
    ("nl", -1, "Medewerker was duidelijk niet geïnteresseerd in mijn probleem"),
    ("nl", -1, "Moest drie keer mijn klantnummer en adres opnieuw doorgeven"),
    ("nl", -1, "Na een uur wachten werd de lijn verbroken"),
    ("nl", -1, "Prijs omhoog, service omlaag"),
    ("en", 1, "Sorted within the hour, could not ask for more"),
    ("en", 1, "The lady on the phone was lovely and really took her time"),
    ("en", 1, "Engineer arrived early and left everything spotless"),
    ("en", 1, "They called me back exactly when they said they would"),
    ("en", 1, "Very smooth process from start to finish"),
    ("en", 1, "Got a clear answer on the first call"),
    ("en", 1, "Brilliant, they even followed up a week later to check"),
    ("en", 1, "No fuss, refund arrived in two days"),
    ("en", 1, "Helpful chat agent who actually read my message"),
    ("en", 1, "Best experience I have had with any provider"),
    ("en", -1, "Three weeks without broadband and nobody knows anything"),
    ("en", -1, "The menu options go round in circles"),
    ("en", -1, "Appointment cancelled last minute, wasted a day off"),
    ("en", -1, "Billed twice for the same month"),
    ("en", -1, "The chatbot is useless"),
    ("en", -1, "Lots of promises, nothing happens"),
    ("en", -1, "The agent clearly could not care less"),
    ("en", -1, "Had to give my details again on every call"),
    ("en", -1, "After an hour on hold the line went dead"),
    ("en", -1, "Prices up, service down"),
]


def _row(name: str, subset: str, y: np.ndarray, pred: np.ndarray) -> str:
    p = np.where(pred >= 0, 1, -1)  # 0 counts as positive: no abstaining in a two-class score
    return (f"{name:<32} {subset:<9} {len(y):>6} {accuracy_score(y, p):>9.3f} "
            f"{f1_score(y, p, average='macro'):>9.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)  # lexicon errors were inspected on seed 1; report on another
    args = ap.parse_args()

    train = compose_comments(args.train, seed=args.seed)
    test = compose_comments(args.test, seed=args.seed + 1000)  # different random draws
    y_all, _ = score_labels([c.score for c in test], scale="nps")
    keep = ~np.isnan(y_all)
    test = [c for c, k in zip(test, keep) if k]
    y = y_all[keep].astype(int)
    texts = [c.text for c in test]
    langs = [detect_language(t) for t in texts]
    is_en = np.array([c.language == "en" for c in test])

    t = time.perf_counter()
    model = SentimentModel(language="auto").fit([c.text for c in train], [c.score for c in train])
    fit_s = time.perf_counter() - t
    lex = np.array([lexicon_sentiment(t, lg) for t, lg in zip(texts, langs)])
    mod = model.predict(texts)

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    vader = SentimentIntensityAnalyzer()
    vad = np.array([vader.polarity_scores(t)["compound"] for t in texts])

    print("NOTE: all comments are SYNTHETIC, composed from hand-written fragments (tests/text/verbatim_composer.py).")
    print("      Train and test are different random draws, but they share the fragment pool, and the lexicon")
    print("      was written by the same team; real comments will score lower for every method.")
    print(f"train {len(train):,} comments (seed {args.seed}); test {len(texts):,} non-passive comments "
          f"(seed {args.seed + 1000}), {int(is_en.sum())} English, {int((~is_en).sum())} Dutch; "
          f"positive share {np.mean(y == 1):.3f}; model fit {fit_s:.1f} s")
    print(f"{'method':<32} {'subset':<9} {'n':>6} {'accuracy':>9} {'macro-F1':>9}")
    maj = np.full(len(y), 1 if np.mean(y == 1) >= 0.5 else -1)
    print(_row("majority class", "all", y, maj))
    print(_row("lexicon_sentiment (ours)", "all", y, lex))
    print(_row("SentimentModel (ours, trained)", "all", y, mod))
    print(_row("lexicon_sentiment (ours)", "English", y[is_en], lex[is_en]))
    print(_row("SentimentModel (ours, trained)", "English", y[is_en], mod[is_en]))
    print(_row("VADER compound", "English", y[is_en], vad[is_en]))
    print(_row("VADER compound (not built for it)", "Dutch", y[~is_en], vad[~is_en]))

    hw_y = np.array([lab for _, lab, _ in HANDWRITTEN])
    hw_t = [t for _, _, t in HANDWRITTEN]
    hw_en = np.array([lg == "en" for lg, _, _ in HANDWRITTEN])
    hw_lex = np.array([lexicon_sentiment(t, lg) for lg, _, t in HANDWRITTEN])
    hw_mod = model.predict(hw_t)
    hw_vad = np.array([vader.polarity_scores(t)["compound"] for t in hw_t])
    print(f"independent hand-written comments ({len(hw_t)}, written for this benchmark, balanced; "
          "the model was trained on composed comments only):")
    print(_row("lexicon_sentiment (ours)", "all", hw_y, hw_lex))
    print(_row("SentimentModel (ours, trained)", "all", hw_y, hw_mod))
    print(_row("lexicon_sentiment (ours)", "English", hw_y[hw_en], hw_lex[hw_en]))
    print(_row("SentimentModel (ours, trained)", "English", hw_y[hw_en], hw_mod[hw_en]))
    print(_row("VADER compound", "English", hw_y[hw_en], hw_vad[hw_en]))


if __name__ == "__main__":
    main()
