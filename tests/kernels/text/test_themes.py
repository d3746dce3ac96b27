"""Theme mentions: spans, languages, recall on comments with known causes."""
from collections import Counter

from servicepulse.kernels.text import CodeFrame, find_themes, load_default_codeframe
from servicepulse.kernels.text.codeframe import Theme, ThemeTerms

from .verbatim_composer import compose_comments


def _themes(text, lang):
    return {m.theme for m in find_themes(text, lang)}


def test_spans_point_at_the_matched_words():
    text = "De monteur kwam niet opdagen en de factuur klopt niet."
    ms = find_themes(text, "nl")
    assert {m.theme for m in ms} >= {"engineer_visit", "invoice_clarity"}
    for m in ms:
        assert text[m.start:m.end] == m.matched
    engineer = [m for m in ms if m.theme == "engineer_visit"]
    assert any(m.matched == "monteur" for m in engineer)
    assert any(m.matched == "kwam niet opdagen" for m in engineer)


def test_lemmas_catch_inflections():
    # plural / past forms that are not literally in the code frame
    assert "invoice_clarity" in _themes("Beide facturen waren fout", "nl")
    assert "engineer_visit" in _themes("Twee monteurs kwamen langs", "nl")
    assert "promise_not_kept" in _themes("They promised me a refund", "en")
    assert "invoice_clarity" in _themes("Both invoices were wrong", "en")


def test_placeholders_are_not_words():
    # "[PHONE]" must not trigger a keyword such as "phone"
    assert find_themes("Call me on [PHONE] or [EMAIL]", "en") == []


def test_unknown_language_tries_both_sections():
    assert _themes("factuur", "unknown") == {"invoice_clarity"}
    assert _themes("invoice", "other") == {"invoice_clarity"}


# Comments written for this test, independently of the composer's fragments,
# with the causes a human coder would give them.
HANDCODED = [
    ("nl", "Twintig minuten in de wacht gehangen en toen werd de verbinding verbroken", {"reachability_waiting"}),
    ("nl", "Niemand heeft mij laten weten dat de afspraak was verzet", {"kept_informed"}),
    ("nl", "Er werd gezegd dat ze zouden terugbellen, dat is nooit gebeurd", {"promise_not_kept"}),
    ("nl", "Bij elk telefoontje moest ik mijn verhaal opnieuw vertellen", {"repeat_yourself"}),
    ("nl", "De installateur was keurig op tijd", {"engineer_visit"}),
    ("nl", "Op de jaarafrekening staan bedragen die ik niet begrijp", {"invoice_clarity"}),
    ("nl", "Het abonnement is weer duurder geworden", {"price"}),
    ("nl", "Wat een onbeleefde medewerker", {"friendliness"}),
    ("nl", "De medewerker had echt verstand van zaken", {"competence"}),
    ("nl", "Mijn storing is nog steeds niet verholpen", {"first_time_right"}),
    ("nl", "Inloggen in de app lukt al dagen niet", {"website_selfservice"}),
    ("nl", "Ik heb vandaag mijn abonnement opgezegd", {"cancellation"}),
    ("en", "I spent forty minutes waiting on the phone", {"reachability_waiting"}),
    ("en", "Nobody bothered to update me on my complaint", {"kept_informed"}),
    ("en", "You promised a technician on Monday and nobody came", {"promise_not_kept", "engineer_visit"}),
    ("en", "I had to explain the problem again to every single person", {"repeat_yourself"}),
    ("en", "My bill doubled and there is no breakdown of the charges", {"invoice_clarity"}),
    ("en", "Prices keep going up while the service gets worse", {"price"}),
    ("en", "The lady on the phone was very polite", {"friendliness"}),
    ("en", "The engineer fixed it in one go", {"engineer_visit", "first_time_right"}),
    ("en", "The website keeps logging me out", {"website_selfservice"}),
    ("en", "I'm cancelling my subscription after this", {"cancellation"}),
]


def test_recall_on_hand_coded_comments():
    wanted = found = 0
    for lang, text, causes in HANDCODED:
        got = _themes(text, lang)
        wanted += len(causes)
        found += len(causes & got)
    recall = found / wanted
    assert recall >= 0.75, recall


def test_recall_on_composed_comments_per_theme():
    # The code frame was written knowing the composer's fragments, so this is a
    # regression guard for the frame and matcher, not an estimate of real recall.
    hit, total = Counter(), Counter()
    for c in compose_comments(600, seed=11):
        got = _themes(c.text, c.language)
        for t in set(c.causes) | set(c.praise):
            total[t] += 1
            hit[t] += t in got
    assert len(total) == 12
    for t in total:
        assert hit[t] / total[t] >= 0.9, (t, hit[t], total[t])


def test_custom_code_frame_and_patterns():
    cf = CodeFrame(name="mini", themes=(
        Theme(key="parking", labels={"nl": "Parkeren", "en": "Parking"},
              terms={"nl": ThemeTerms(keywords=("parkeerplaats",), patterns=(r"\bP\d\b",)),
                     "en": ThemeTerms(lemmas=("park",))}),
    ))
    assert _themes_cf("Geen parkeerplaatsen bij P3", "nl", cf) == {"parking"}
    assert [m.via for m in find_themes("Geen parkeerplaatsen bij P3", "nl", cf)] == ["keyword", "pattern"]
    assert _themes_cf("I parked outside", "en", cf) == {"parking"}
    assert _themes_cf("factuur", "nl", cf) == set()


def _themes_cf(text, lang, cf):
    return {m.theme for m in find_themes(text, lang, cf)}


def test_default_frame_is_compiled_once():
    from servicepulse.kernels.text.themes import matcher_for
    assert matcher_for(load_default_codeframe()) is matcher_for(None)
