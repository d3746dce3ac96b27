"""Language of realistic comments."""
import pytest

from servicepulse.kernels.text import detect_language, guess_language
from servicepulse.kernels.text.language import guess_languages

DUTCH = [
    "Ik heb drie keer gebeld en niemand nam op",
    "De monteur kwam niet opdagen, erg teleurgesteld",
    "Factuur klopt niet en niemand kan uitleggen waarom",
    "Snel geholpen, vriendelijke medewerker",
    "Niet goed",
    "Heel vriendelijk",
    "Slecht",
    "Alles was in orde, dank je",
    "Monteur kwam niet opdagen, very bad service",  # mixed, mostly Dutch
]
ENGLISH = [
    "I had to call three times before anyone answered",
    "The engineer never showed up and nobody told me",
    "Fast and friendly",
    "Very good",
    "Never again",
    "The invoice is completely unclear",
]
OTHER = [
    "Ich musste dreimal anrufen und niemand hat geantwortet",
    "La facture était incorrecte et personne ne m'a rappelé",
    "La factura es incorrecta y nadie me llamó",
    "Fatura yanlış ve kimse aramadı",
]
UNKNOWN = ["", "   ", "ok", "👍👍👍", "!!!", "10", "😡", None]


@pytest.mark.parametrize("text", DUTCH)
def test_dutch(text):
    assert detect_language(text) == "nl"


@pytest.mark.parametrize("text", ENGLISH)
def test_english(text):
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text", OTHER)
def test_other_language(text):
    g = guess_language(text)
    assert g.language == "other"
    assert g.detected not in ("nl", "en", "")


@pytest.mark.parametrize("text", UNKNOWN)
def test_too_short_or_no_letters_is_unknown(text):
    assert detect_language(text) == "unknown"


def test_threshold_turns_unsure_into_unknown():
    # a one-word comment shared by several languages is unsure
    g = guess_language("Prima")
    assert g.confidence < 0.9
    assert detect_language("Prima", threshold=0.99) == "unknown"


def test_long_comment_is_cheap_and_correct():
    assert detect_language("De factuur was weer fout en ik moest opnieuw bellen. " * 200) == "nl"


def test_batch_detection_decides_as_one_comment_at_a_time():
    from tests.kernels.text.verbatim_composer import compose_comments

    texts = DUTCH + ENGLISH + OTHER + UNKNOWN + [c.text for c in compose_comments(2000, seed=3)] + [
        "NIET GOED GEHOLPEN", "ÇOK KÖTÜ HİZMET", "é" * 1500, "Prima", "x" * 5000, "\ud800 lone surrogate"]
    one = [guess_language(t) for t in texts]
    batch = guess_languages(texts)
    assert [(g.language, g.detected) for g in batch] == [(g.language, g.detected) for g in one]
    # py3langid scores in float32, the batch in float64
    assert max(abs(a.confidence - b.confidence) for a, b in zip(one, batch)) < 1e-5
    assert {g.language for g in batch} == {"nl", "en", "other", "unknown"}
    prior = {"de": 5.0}
    assert [g.detected for g in guess_languages(OTHER, prior=prior, threshold=0.9)] == \
        [guess_language(t, prior=prior, threshold=0.9).detected for t in OTHER]


def test_batch_detection_falls_back_when_the_model_layout_differs(monkeypatch):
    from servicepulse.kernels.text import language

    def other_layout(self, ident):
        raise AttributeError("tk_nextmove")  # as a py3langid release with other model tables would

    monkeypatch.setattr(language, "_batch_models", {})
    monkeypatch.setattr(language._BatchModel, "__init__", other_layout)
    texts = DUTCH + OTHER + UNKNOWN
    assert guess_languages(texts) == [guess_language(t) for t in texts]
    assert language._batch_models == {language.DEFAULT_CANDIDATES: None}
