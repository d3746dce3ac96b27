"""Verbatim text kernel: pure functions on open answers, no database, no web.

Public API:

- ``redact(text, known_names=...) -> RedactionResult``: personal data replaced by
  [EMAIL], [PHONE], [IBAN], [ADDRESS], [CUSTOMER_NO], [BSN], [CREDIT_CARD], [NAME],
  [BIRTH_DATE], [IP_ADDRESS], [LICENCE_PLATE], [DOCUMENT_NO]; spans of what was removed.
- ``detect_language(text) -> 'nl' | 'en' | 'other' | 'unknown'``.
- ``CodeFrame``, ``load_default_codeframe()``, ``load_codeframe(path)``:
  the themes; ``find_themes(text, language, codeframe)`` -> mentions with spans.
- ``lexicon_sentiment(text, language) -> float`` in [-1, 1], no training.
- ``SentimentModel(language=...)`` with ``fit(texts, scores)``,
  ``predict(texts)`` and ``explain(text)``.
- ``discover_themes(...)`` / ``adopt_proposal(...)``: candidate themes from
  comments no theme covers.
- ``analyse_comments(texts, ...)``: the whole pipeline for a batch;
  ``to_frames(results)`` for pandas.
"""
from .codeframe import CodeFrame, CodeFrameError, Theme, ThemeTerms, load_codeframe, load_default_codeframe
from .discovery import ThemeProposal, adopt_proposal, discover_themes
from .language import detect_language, guess_language
from .lexicon import lexicon_sentiment
from .pipeline import CommentAnalysis, MentionResult, analyse_comments, to_frames
from .redact import RedactionResult, Redactor, redact
from .sentiment import SentimentModel
from .themes import ThemeMatcher, ThemeMention, find_themes

__all__ = [
    "CodeFrame", "CodeFrameError", "Theme", "ThemeTerms", "load_codeframe", "load_default_codeframe",
    "ThemeProposal", "adopt_proposal", "discover_themes",
    "detect_language", "guess_language", "lexicon_sentiment",
    "CommentAnalysis", "MentionResult", "analyse_comments", "to_frames",
    "RedactionResult", "Redactor", "redact", "SentimentModel",
    "ThemeMatcher", "ThemeMention", "find_themes",
]
