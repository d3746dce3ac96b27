"""Theme discovery on comments the code frame does not cover, and adopting a proposal."""
import numpy as np

from servicepulse.kernels.text import adopt_proposal, discover_themes, find_themes, load_default_codeframe
from servicepulse.kernels.text.discovery import content_lemmas

from .verbatim_composer import compose_comments

# Three topics the default code frame has no theme for.
TOPICS = {
    "parking": (["Parkeren bij het servicepunt is {a}", "Geen parkeerplaats te vinden bij de vestiging, {b}",
                 "De parkeergarage bij jullie kantoor is {a}", "Parkeren rond de vestiging is {a}, {b}"],
                ["onmogelijk", "een drama", "altijd vol", "veel te krap"], ["echt jammer", "zonde van mijn tijd", "hopelijk verandert dat"]),
    "packaging": (["Het pakket kwam {a} binnen", "De verpakking was {a}, {b}", "De doos was {a} toen de bezorger kwam",
                   "Mijn modem zat in een {a} doos"],
                  ["beschadigd", "kapot gescheurd", "nat en gedeukt", "open en beschadigd"], ["erg slordig", "niet netjes", "balen"]),
    "shop": (["De winkel in het centrum was {a}", "In de winkel lag alles {a}, {b}", "Het filiaal zag er {a} uit",
              "De winkel rook muf en was {a}"],
             ["vies en rommelig", "stoffig", "smerig", "rommelig en vies"], ["geen goede indruk", "slordig", "dat kan beter"]),
}


def _topic_comments(n_per_topic, seed):
    rng = np.random.default_rng(seed)
    out = []
    for topic, (templates, fills_a, fills_b) in TOPICS.items():
        for _ in range(n_per_topic):
            t = templates[rng.integers(len(templates))]
            out.append((topic, t.format(a=fills_a[rng.integers(len(fills_a))], b=fills_b[rng.integers(len(fills_b))])))
    return out


def test_content_lemmas_drop_stop_words_and_placeholders():
    lem = content_lemmas("Ik heb de facturen niet ontvangen, bel [PHONE]", "nl")
    assert "factuur" in lem and "ik" not in lem and "de" not in lem
    assert not any("phone" in w for w in lem)


def test_discovers_uncovered_topics_and_adopts_one():
    cf = load_default_codeframe()
    uncovered = _topic_comments(30, seed=3)
    # the frame really does not cover them
    assert all(not find_themes(t, "nl") for _, t in uncovered)
    composed = compose_comments(200, seed=4)
    texts = [c.text for c in composed] + [t for _, t in uncovered]
    langs = [c.language for c in composed] + ["nl"] * len(uncovered)
    topic_of = {len(composed) + i: topic for i, (topic, _) in enumerate(uncovered)}

    props = discover_themes(texts, langs, cf, n_topics=3, random_state=0)
    assert len(props) == 3
    # every proposal is about one topic: its examples come from the uncovered comments of one topic
    seen_topics = set()
    for p in props:
        ex_topics = {topic_of[i] for i in p.example_indices}
        assert len(ex_topics) == 1, (p.top_terms, ex_topics)
        seen_topics |= ex_topics
        assert p.size >= 20
        assert p.key.startswith("candidate_")
        assert p.languages[0] == "nl"
    assert seen_topics == set(TOPICS)
    parking = next(p for p in props if topic_of[p.example_indices[0]] == "parking")
    assert any(t.startswith("parke") for t in parking.top_terms[:3]), parking.top_terms

    cf2 = adopt_proposal(cf, parking, key="parking", labels={"nl": "Parkeren", "en": "Parking"}, department="facilities")
    assert "parking" in cf2.keys and "parking" not in cf.keys
    assert cf2.theme("parking").department == "facilities"
    found = {m.theme for m in find_themes("Parkeren was weer een ramp bij jullie vestiging", "nl", cf2)}
    assert "parking" in found


def test_too_few_uncovered_comments_gives_no_proposals():
    texts = [c.text for c in compose_comments(50, seed=1)]
    assert discover_themes(texts) == [] or all(p.size >= 1 for p in discover_themes(texts))
    assert discover_themes(["", None, "👍"]) == []
