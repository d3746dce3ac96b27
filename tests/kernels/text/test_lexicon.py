"""Lexicon sentiment: polarity, negation, intensifiers, but-clauses, odd input."""
import pytest

from servicepulse.kernels.text import lexicon_sentiment as lex
from servicepulse.kernels.text.lexicon import get_lexicon, lexicon_hits


def test_lexicons_are_a_few_hundred_entries():
    assert len(get_lexicon("nl")) >= 300
    assert len(get_lexicon("en")) >= 300


@pytest.mark.parametrize("text,lang", [
    ("Snel en vriendelijk geholpen, probleem opgelost", "nl"),
    ("Duidelijke uitleg, top service!", "nl"),
    ("Heel tevreden over de monteur", "nl"),
    ("Quick, friendly and the problem was solved", "en"),
    ("Excellent service, thank you", "en"),
])
def test_positive(text, lang):
    assert lex(text, lang) > 0.3


@pytest.mark.parametrize("text,lang", [
    ("Onbereikbaar, lang wachten en niemand belde terug", "nl"),
    ("Weer opnieuw mijn verhaal moeten doen, erg teleurgesteld", "nl"),
    ("Ik ga opzeggen, dit is een klacht", "nl"),
    ("Van het kastje naar de muur gestuurd", "nl"),
    ("Slow, rude and nobody called back", "en"),
    ("The engineer didn't show up, terrible", "en"),
])
def test_negative(text, lang):
    assert lex(text, lang) < -0.3


def test_negation():
    assert lex("goed", "nl") > 0
    assert lex("niet goed", "nl") < 0
    assert lex("geen probleem", "nl") > 0 > lex("probleem", "nl")
    assert lex("Ik ben niet tevreden", "nl") < 0
    assert lex("not bad", "en") > lex("bad", "en")
    assert lex("not good", "en") < 0
    assert lex("I didn't like it, it wasn't helpful", "en") < 0
    # negation stops at a comma: "niet snel" is negative, "wel vriendelijk" stays positive
    hits = {h.term: h.valence for h in lexicon_hits("niet snel, wel vriendelijk", "nl")}
    assert hits["snel"] < 0 < hits["vriendelijk"]


def test_negator_inside_a_phrase_does_not_leak():
    # "kwam niet opdagen" is one negative phrase; "slecht" after it stays negative
    hits = {h.term: h.valence for h in lexicon_hits("Monteur kwam niet opdagen, vreselijk slecht", "nl")}
    assert hits["kwam niet opdagen"] < 0 and hits["slecht"] < 0


def test_intensifiers_and_downtoners():
    assert lex("heel goed", "nl") > lex("goed", "nl") > lex("beetje goed", "nl") > 0
    assert lex("very slow", "en") < lex("slow", "en") < lex("slightly slow", "en") < 0
    # "vreselijk" on its own is negative but boosts a following word
    assert lex("vreselijk", "nl") < 0
    assert lex("vreselijk vriendelijk", "nl") > lex("vriendelijk", "nl")


def test_but_clause_carries_the_weight():
    assert lex("Vriendelijk, maar niet opgelost", "nl") < 0
    assert lex("Lang moeten wachten, maar uiteindelijk heel goed geholpen", "nl") > 0
    assert lex("Friendly but useless", "en") < 0
    assert lex("Slow but very helpful in the end", "en") > 0


def test_range_and_language_fallback():
    texts = ["", "goed " * 200, "slecht " * 200, "😡" * 50, "Goed service but slow"]
    for t in texts:
        for lang in ("nl", "en", "other", "unknown", None):
            assert -1.0 <= lex(t, lang) <= 1.0
    assert lex("Goed geholpen", "unknown") > 0
    assert lex("Great help", "unknown") > 0


@pytest.mark.parametrize("text", ["", None, "   ", "👍", "<script>alert(1)</script>", "1234", 42])
def test_odd_input(text):
    v = lex(text, "nl")
    assert -1.0 <= v <= 1.0
    assert lex("👍", "nl") > 0 > lex("😡", "nl")


def test_html_kept_as_text_and_words_inside_count():
    # tags are not stripped (the web layer escapes); the words still count
    assert lex("<b>Heel slecht</b> geholpen, <i>niet</i> tevreden", "nl") < 0
    assert lex("<script>alert(1)</script>", "en") == 0.0


def test_long_comment():
    text = "De medewerker was vriendelijk maar het duurde lang. " * 200  # ~10,000 characters
    assert len(text) >= 10_000
    assert -1.0 <= lex(text, "nl") <= 1.0


def test_mixed_language_comment_uses_both_lexicons_without_false_friends():
    hits = {h.term.lower(): h.valence for h in lexicon_hits("Monteur kwam niet opdagen, very bad service", "nl")}
    assert hits["bad"] < 0  # English word in a Dutch comment still counts
    # English "kind" is a Dutch child: not a sentiment word in a Dutch comment
    assert "kind" not in {h.term.lower() for h in lexicon_hits("Het kind speelde in de wachtkamer", "nl")}
    assert "kind" in {h.term.lower() for h in lexicon_hits("She was kind", "en")}
