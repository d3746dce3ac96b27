"""Remove personal data from open answers before they are stored or analysed.

Detected: e-mail addresses, phone numbers (Dutch and international), IBANs
(only when the mod-97 checksum is valid), Dutch postcodes with or without a
house number and street addresses, and customer numbers (configurable
patterns). Each is replaced by a typed placeholder such as ``[PHONE]``.

The returned spans give the kind and the position in the *original* text; they
deliberately do not repeat the personal value itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

PLACEHOLDERS = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "iban": "[IBAN]",
    "address": "[ADDRESS]",
    "customer_no": "[CUSTOMER_NO]",
}


@dataclass(frozen=True, slots=True)
class RedactedSpan:
    kind: str   # key of PLACEHOLDERS
    start: int  # offsets in the original text
    end: int


@dataclass(frozen=True, slots=True)
class RedactionResult:
    text: str
    spans: tuple[RedactedSpan, ...]


# --- e-mail -----------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.+'%-])[\w.+'%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)

# --- IBAN -------------------------------------------------------------------
# Lengths per country from the IBAN registry (ISO 13616) for the countries a
# Dutch service organisation meets most; other countries fall back to the
# checksum alone with the generic 15..34 length.
_IBAN_LENGTH = {
    "NL": 18, "BE": 16, "DE": 22, "FR": 27, "GB": 22, "LU": 20, "ES": 24,
    "IT": 27, "PT": 25, "AT": 20, "CH": 21, "IE": 22, "DK": 18, "SE": 24,
    "NO": 15, "FI": 18, "PL": 28, "TR": 26,
}
_IBAN = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30})")


def iban_is_valid(candidate: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to
    numbers (A=10 .. Z=35), and the number modulo 97 must be 1."""
    s = candidate.replace(" ", "").upper()
    if not (15 <= len(s) <= 34) or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    if not s.isalnum() or not s.isascii():
        return False
    want = _IBAN_LENGTH.get(s[:2])
    if want is not None and len(s) != want:
        return False
    digits = "".join(str(int(c, 36)) for c in s[4:] + s[:4])
    return int(digits) % 97 == 1


def _find_ibans(text: str) -> Iterable[tuple[int, int]]:
    for m in _IBAN.finditer(text):
        raw, start = m.group(1), m.start(1)
        # The pattern may have swallowed following words; keep exactly as many
        # characters as the country uses (or try shrinking for unknown ones).
        want = _IBAN_LENGTH.get(raw[:2].upper())
        lengths = [want] if want else range(34, 14, -1)
        for n in lengths:
            count, end = 0, None
            for i, c in enumerate(raw):
                if c != " ":
                    count += 1
                    if count == n:
                        end = i + 1
                        break
            if end is None:
                continue
            # must end at a token boundary, not in the middle of a word
            if start + end < len(text) and text[start + end].isalnum():
                continue
            if iban_is_valid(raw[:end]):
                yield start, start + end
                break


# --- phone numbers -------------------------------------------------------------
# Candidate: optional + or 00, then digits with the separators people type.
_PHONE_CAND = re.compile(
    r"(?<![\w+/.,€$])(?:\+|00)?(?:\(\s*\+?\d{1,4}\s*\)\s*)?\(?\d[\d \-.()/]{5,22}\d(?![\w/]|[.,]\d)"
)
_GROUP_SPLIT = re.compile(r"[ \-.()/]+")
_TIME_OR_DATE = re.compile(r"^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$|^\d{4}[-./]\d{1,2}[-./]\d{1,2}$")
_NL_SERVICE = ("0800", "0900", "0906", "0909")


def _phone_digits_ok(cand: str) -> bool:
    """Is the candidate a plausible phone number by its digit count and prefix?"""
    c = cand.strip()
    if _TIME_OR_DATE.match(c):
        return False
    digits = re.sub(r"\D", "", c.replace("(0)", ""))
    if c.startswith("+") or c.startswith("00") or c.startswith("(+"):
        if c.startswith("00"):
            digits = digits[2:]
        if digits.startswith("31"):
            return len(digits) == 11  # +31 followed by a 9-digit national number
        return 8 <= len(digits) <= 15  # E.164 maximum is 15 digits
    if c.startswith("0") or c.startswith("(0"):
        if digits.startswith(_NL_SERVICE):
            return len(digits) in (8, 11)
        return len(digits) == 10
    return False


def _iban_shaped(text: str) -> list[tuple[int, int]]:
    """IBAN-shaped strings, valid or not: their digits must not become phones."""
    return [(m.start(1), m.end(1)) for m in _IBAN.finditer(text)]


def _find_phones(text: str) -> Iterable[tuple[int, int]]:
    blocked = _iban_shaped(text) if any(c.isalpha() for c in text) else []
    for m in _PHONE_CAND.finditer(text):
        if any(m.start() < e and s < m.end() for s, e in blocked):
            continue
        cand = m.group()
        if cand.count("(") != cand.count(")"):
            # a bracket from the surrounding sentence: drop a leading "(" only
            if cand.startswith("(") and cand.count("(") > cand.count(")"):
                cand, off = cand[1:], 1
            else:
                off = 0
        else:
            off = 0
        start = m.start() + off
        # A trailing number ("06-12345678 2 keer") can extend the candidate; try
        # the longest prefix made of whole digit groups that is a valid number.
        pieces = [p for p in re.finditer(r"\d+", cand)]
        for k in range(len(pieces), 0, -1):
            end = pieces[k - 1].end()
            sub = cand[:end]
            if sub.count("(") != sub.count(")"):
                continue
            if _phone_digits_ok(sub):
                yield start, start + end
                break


# --- addresses -----------------------------------------------------------------
# Dutch postcode: four digits (no leading zero) and two letters, never SA/SD/SS.
# Lower-case letters only count when a house number follows, because
# "2019 is" or "1000 en" are ordinary Dutch.
_HOUSE_NO = r"(?:\s*,?\s*(?:huisnummer|nummer|nr\.?|no\.?)?\s*\d{1,5}(?:\s?[a-zA-Z](?![a-zA-Z]))?(?:\s?-\s?\d{1,4})?)"
_POSTCODE_UPPER = re.compile(r"(?<![\w-])[1-9]\d{3}\s?(?!SA|SD|SS)[A-Z]{2}(?![\w])" + _HOUSE_NO + "?")
_POSTCODE_LOWER = re.compile(r"(?<![\w-])[1-9]\d{3}\s?(?!sa|sd|ss)[a-z]{2}(?![\w])" + _HOUSE_NO)
_STREET = re.compile(
    r"\b[A-Z][a-zà-ÿ]+(?:[ -][A-Z]?[a-zà-ÿ]+)?"
    r"(?:straat|laan|weg|plein|gracht|kade|singel|dijk|hof|pad|steeg|dreef|park|plantsoen|markt)"
    r"\s+\d{1,5}(?:\s?[a-zA-Z](?![a-zA-Z]))?(?:\s?-\s?\d{1,4})?\b"
)


# Units and codes that follow a number in ordinary text ("4000 KM", "16 GB");
# with these letters a postcode only counts when a house number follows.
_UNIT_LIKE = frozenset({"KM", "KG", "CM", "MM", "MB", "GB", "KB", "TB", "KW", "MW", "GW", "EU", "OK", "PM", "AM",
                        "NL", "BE", "DE", "UK", "US", "HD", "TV", "PC", "CD"})
_POSTCODE_LETTERS = re.compile(r"[1-9]\d{3}\s?([A-Za-z]{2})")


def _find_addresses(text: str) -> Iterable[tuple[int, int]]:
    for rx in (_POSTCODE_UPPER, _POSTCODE_LOWER, _STREET):
        for m in rx.finditer(text):
            if rx is _POSTCODE_UPPER:
                letters = _POSTCODE_LETTERS.match(m.group())
                has_number = any(c.isdigit() for c in m.group()[letters.end():])
                if letters.group(1) in _UNIT_LIKE and not has_number:
                    continue
            yield m.start(), m.end()


# --- customer numbers --------------------------------------------------------------
# If a pattern has a group named "id", only that group is replaced, so that
# "klantnummer 12345678" reads "klantnummer [CUSTOMER_NO]" and keeps its meaning.
DEFAULT_CUSTOMER_PATTERNS: tuple[str, ...] = (
    r"\bKL-?\d{5,10}\b",
    r"(?i)\b(?:klant(?:en)?nummer|klantnr\.?|klant-nr\.?|relatienummer|contractnummer"
    r"|customer\s+(?:number|no\.?|id)|account\s+(?:number|no\.?))\s*(?:is\s*)?[:#]?\s*(?P<id>[A-Z]{0,3}-?\d{4,12})\b",
)


_DIGIT = re.compile(r"\d")


def _nothing(text: str) -> tuple:
    return ()


@dataclass
class Redactor:
    """Configured redactor; `redact()` below uses a default instance."""

    customer_patterns: Sequence[str] = DEFAULT_CUSTOMER_PATTERNS
    kinds: frozenset[str] = field(default_factory=lambda: frozenset(PLACEHOLDERS))

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown redaction kind(s) {sorted(unknown)}; known: {sorted(PLACEHOLDERS)}")
        self._customer = []
        for p in self.customer_patterns:
            try:
                self._customer.append(re.compile(p))
            except re.error as exc:
                raise ValueError(f"customer number pattern {p!r} is not a valid regular expression: {exc}") from None

    def _customer_spans(self, text: str) -> Iterable[tuple[int, int]]:
        for rx in self._customer:
            for m in rx.finditer(text):
                if "id" in rx.groupindex and m.group("id") is not None:
                    yield m.start("id"), m.end("id")
                else:
                    yield m.start(), m.end()

    def find(self, text: str) -> list[RedactedSpan]:
        """All personal-data spans, non-overlapping, in text order."""
        if not text:
            return []
        # Priority order decides overlaps: a customer number is not a phone,
        # an IBAN's digits are not a phone, an e-mail's digits are nothing else.
        # IBANs, phone numbers and addresses all need a digit (most comments have none);
        # customer-number patterns are configurable, so they always run.
        digits = _DIGIT.search(text) is not None
        finders = (
            ("email", lambda t: ((m.start(), m.end()) for m in _EMAIL.finditer(t)) if "@" in t else ()),
            ("iban", _find_ibans if digits else _nothing),
            ("customer_no", self._customer_spans),
            ("phone", _find_phones if digits else _nothing),
            ("address", _find_addresses if digits else _nothing),
        )
        taken: list[RedactedSpan] = []
        for kind, finder in finders:
            if kind not in self.kinds:
                continue
            for s, e in finder(text):
                if e > s and not any(s < o.end and o.start < e for o in taken):
                    taken.append(RedactedSpan(kind, s, e))
        taken.sort(key=lambda sp: sp.start)
        return taken

    def redact(self, text: str) -> RedactionResult:
        if text is None:
            return RedactionResult("", ())
        if not isinstance(text, str):
            text = str(text)
        spans = self.find(text)
        if not spans:
            return RedactionResult(text, ())
        parts, pos = [], 0
        for sp in spans:
            parts.append(text[pos:sp.start])
            parts.append(PLACEHOLDERS[sp.kind])
            pos = sp.end
        parts.append(text[pos:])
        return RedactionResult("".join(parts), tuple(spans))


_DEFAULT = Redactor()


def redact(text: str, customer_patterns: Sequence[str] | None = None) -> RedactionResult:
    """Redact personal data from one comment.

    `customer_patterns` replaces the default customer-number patterns
    (regular expressions; a named group ``id`` limits what is replaced).
    """
    if customer_patterns is None:
        return _DEFAULT.redact(text)
    return Redactor(customer_patterns=tuple(customer_patterns)).redact(text)
