"""Remove personal data from open answers before they are stored or analysed.

Detected: e-mail addresses (also obfuscated: ``jan [at] example [dot] nl``),
phone numbers (Dutch and international), IBANs (mod-97 checksum), BSNs
(eleven-test unless a cue word says "BSN"), credit-card numbers (Luhn),
Dutch postcodes in every spelling, with or without a house number, and
street addresses, person names (after cue words such as "mijn naam is",
"mevrouw", "Mr", sign-offs, common first names, and the customer's own name
when the caller knows it), birth dates, IPv4/IPv6 addresses, Dutch licence
plates (side codes with dashes), Dutch passport/ID-card numbers and customer
numbers (configurable patterns). Each is replaced by a typed placeholder
such as ``[PHONE]``.

The returned spans give the kind and the position in the *original* text; they
deliberately do not repeat the personal value itself. Quality per kind is
measured on tests/kernels/text/redaction_set.jsonl (bench/redaction_quality.py).
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

PLACEHOLDERS = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "iban": "[IBAN]",
    "address": "[ADDRESS]",
    "customer_no": "[CUSTOMER_NO]",
    "bsn": "[BSN]",
    "credit_card": "[CREDIT_CARD]",
    "name": "[NAME]",
    "birth_date": "[BIRTH_DATE]",
    "ip_address": "[IP_ADDRESS]",
    "licence_plate": "[LICENCE_PLATE]",
    "document_no": "[DOCUMENT_NO]",
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
_IBAN = re.compile(r"(?<![A-Za-z0-9-])([A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30})")
# Written with spaces, an IBAN is in groups of four (the last may be shorter); this keeps
# "TG25 11 telefoon doet" (a model number and words) out when mod 97 passes by chance.
_IBAN_GROUPS = re.compile(r"^\S{4}(?: \S{4})*(?: \S{1,4})?$")


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
            if (" " not in raw[:end] or _IBAN_GROUPS.match(raw[:end])) and iban_is_valid(raw[:end]):
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
# Dutch postcode: four digits (no leading zero) and two letters. PostNL never
# uses the letters F, I, O, Q, U and Y (they look like digits or each other)
# nor the pairs SA, SD and SS; that alone rules out "2019 is", "1000 in",
# "2024 OK". Pairs that are also units or short words ("1234 km", "1000 en")
# count only after a postcode cue, or written in capitals with a house number.
_HOUSE_NO = r"(?:\s*,?\s*(?:huisnummer|nummer|nr\.?|no\.?)?\s*\d{1,5}(?:\s?[a-zA-Z](?![a-zA-Z]))?(?:\s?-\s?\d{1,4})?)"
_PC_LETTER = "ABCDEGHJKLMNPRSTVWXZabcdeghjklmnprstvwxz"
_POSTCODE = re.compile(r"(?<![\w.,-])[1-9]\d{3}\s?([" + _PC_LETTER + "]{2})(?![\\w-])(" + _HOUSE_NO + "(?![\\w-]))?")
_STREET = re.compile(
    r"\b[A-Z][a-zà-ÿ]+(?:[ -][A-Z]?[a-zà-ÿ]+)?"
    r"(?:straat|laan|weg|plein|gracht|kade|singel|dijk|hof|pad|steeg|dreef|park|plantsoen|markt)"
    r"\s+\d{1,5}(?:\s?[a-zA-Z](?![a-zA-Z]))?(?:\s?-\s?\d{1,4})?\b"
)
# Letter pairs (in the PostNL alphabet) that follow a number in ordinary text.
_UNIT_LIKE = frozenset({
    "KM", "KG", "CM", "MM", "DM", "MB", "GB", "KB", "TB", "KW", "MW", "GW", "PM", "AM", "NL", "BE", "DE", "HD", "TV",
    "PC", "CD", "EN", "AL", "AN", "AS", "AT", "BV", "NV", "CA", "CT", "DL", "CL", "ML", "HL", "HA", "MG", "PK", "ST",
    "ND", "RD", "TH", "EX", "ZE", "TE", "ME", "WE", "HE", "LA", "MA", "PA", "NA", "GA", "GE", "JA", "JE", "VS", "ER",
    "ED", "DR", "MR", "MS", "JR", "SR", "DC", "AC", "HZ", "KJ", "WC", "BC", "AD", "CC", "XL", "XS", "LP", "EP",
})
_POSTCODE_CUE = re.compile(r"(?i)(?:postcode|post\s*code|adres|address|zip|woon|wonend|verhuisd\s+naar|moved\s+to)\b[^.!?\n]{0,20}$")


def _find_addresses(text: str) -> Iterable[tuple[int, int]]:
    for m in _POSTCODE.finditer(text):
        letters = m.group(1)
        if letters.upper() in ("SA", "SD", "SS") or not (letters.isupper() or letters.islower()):
            continue
        if letters.upper() in _UNIT_LIKE:
            if not ((letters.isupper() and m.group(2)) or _POSTCODE_CUE.search(text, max(0, m.start() - 40), m.start())):
                continue
        yield m.start(), m.end()
    for m in _STREET.finditer(text):
        yield m.start(), m.end()


# --- shared context rules ------------------------------------------------------------
# A number right after one of these words is the organisation's own reference, not a
# person's: "ordernummer 639903691" passes the eleven-test by chance (1 in 11 do).
_OTHER_NUMBER_CUE = re.compile(
    r"(?i)(?:order|bestel|factuur|invoice|tracking|track|zending|pakket|parcel|ticket|referentie|reference|ref"
    r"|zaak|dossier|artikel|article|product|serie|serial|ean|meter|model|type|sku|transactie|transaction"
    r"|klant|customer|contract|relatie|account)\w*(?:\s+(?:nummer|nr|no|number|id|code))?\.?\s*(?:is\s*)?[:#]?\s*$"
)


def _after(rx: re.Pattern, text: str, start: int, window: int = 40) -> bool:
    """Does `rx` (anchored with $) match the text just before `start`?"""
    return rx.search(text, max(0, start - window), start) is not None


# --- obfuscated e-mail -------------------------------------------------------------
# "jan[at]example.nl", "jan (at) example (dot) nl": bracketed or spaced @ with any dot.
# The bare word form ("jan at example dot nl") needs the word "dot" too and a known
# top-level domain, so "I ordered at bol.com" stays as it is.
_LOCAL = r"(?<![\w.+-])[\w.+-]*\w"
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_DOT_BRACKET = r"\s*[\[({<]\s*(?:dot|punt)\s*[\])}>]\s*"
_DOT_WORD = r"\s+(?:dot|punt)\s+"
_EMAIL_OBF = re.compile(
    r"(?i)" + _LOCAL + r"(?:\s*[\[({<]\s*(?:at|@|apenstaartje)\s*[\])}>]\s*|\s+@\s*|\s*@\s+)"
    + _LABEL + r"(?:(?:" + _DOT_BRACKET + "|" + _DOT_WORD + r"|\.)" + _LABEL + r")+(?![\w-])"
)
_TLDS = "nl|com|net|org|eu|be|de|uk|fr|info|nu|io|co|biz|me|email|online"
_EMAIL_WORDS = re.compile(
    r"(?i)" + _LOCAL + r"\s+(?:at|apenstaartje)\s+" + _LABEL + r"(?:" + _DOT_WORD + "|" + _DOT_BRACKET + r")(?:"
    + _LABEL + r"(?:" + _DOT_WORD + "|" + _DOT_BRACKET + r"))*(?:" + _TLDS + r")(?![\w-])"
)
_OBF_HINT = re.compile(r"(?i)[\[({<]\s*(?:at|@)\s*[\])}>]|\s@|@\s|\s(?:at|apenstaartje)\s|apenstaartje")
_LAST_LABEL = re.compile(r"([a-z]+)\W*$", re.IGNORECASE)


def _find_obfuscated_emails(text: str) -> Iterable[tuple[int, int]]:
    # Cheap test first: every form has "@", or an "at" together with a bracket or "dot"/"punt".
    if "@" not in text:
        low = text.lower()
        if "at" not in low or not ("dot" in low or "punt" in low or "[" in low or "(" in low or "{" in low
                                   or "<" in low):
            return
    if not _OBF_HINT.search(text):
        return
    for rx in (_EMAIL_OBF, _EMAIL_WORDS):
        for m in rx.finditer(text):
            tld = _LAST_LABEL.search(m.group())
            if tld and 2 <= len(tld.group(1)) <= 10:
                yield m.start(), m.end()


# --- BSN (burgerservicenummer) ----------------------------------------------------------
_BSN = re.compile(r"(?<![\w.,€$+/-])(?:\d{9}|\d{4}\.\d{2}\.\d{3}|\d{3}([ .-])\d{3}\1\d{3})(?![\w]|[.,/-]\d)")
_BSN_CUE = re.compile(r"(?i)\b(?:bsn|burger\s*service\s*nummer|sofi-?(?:nummer|nr)?|citizen\s+service\s+number"
                      r"|social\s+security\s+number)\b\W*(?:is\W*)?$")


def bsn_is_valid(candidate: str) -> bool:
    """The eleven-test (elfproef): 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a multiple of 11.
    Eight-digit numbers are old BSNs written without their leading zero."""
    d = [int(c) for c in candidate if c.isdigit()]
    if len(d) == 8:
        d.insert(0, 0)
    if len(d) != 9 or not any(d):
        return False
    return sum(w * x for w, x in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), d)) % 11 == 0


def _find_bsns(text: str) -> Iterable[tuple[int, int]]:
    for m in _BSN.finditer(text):
        # After "BSN" even a mistyped number is one; otherwise only the eleven-test
        # separates a BSN from any 9-digit number, and references are excluded.
        if _after(_BSN_CUE, text, m.start()) or (bsn_is_valid(m.group())
                                                 and not _after(_OTHER_NUMBER_CUE, text, m.start())):
            yield m.start(), m.end()


# --- credit cards ------------------------------------------------------------------
# 13-19 digits in groups; the first digit is 2-6 (Mastercard 2/5, Amex/Diners/JCB 3,
# Visa 4, Maestro/Discover 6), which keeps EAN barcodes (8...) out.
_CARD = re.compile(r"(?<![\w.,€$+/-])[2-6]\d{0,5}(?:[ -]?\d{1,6}){2,18}(?![\w]|[.,/-]\d)")
_DIGIT_RUN = re.compile(r"\d+")


def luhn_is_valid(number: str) -> bool:
    """Luhn mod-10 check over the digits; 13 to 19 digits."""
    d = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(d) <= 19:
        return False
    total = 0
    for i, x in enumerate(reversed(d)):
        if i % 2:
            x = x * 2 - 9 if x > 4 else x * 2
        total += x
    return total % 10 == 0


def _find_cards(text: str) -> Iterable[tuple[int, int]]:
    for m in _CARD.finditer(text):
        if _after(_OTHER_NUMBER_CUE, text, m.start()):
            continue
        cand = m.group()
        # A following number ("... 1111 2 keer") can extend the candidate: try whole-group prefixes.
        ends = [g.end() for g in _DIGIT_RUN.finditer(cand)]
        for end in reversed(ends):
            if luhn_is_valid(cand[:end]):
                yield m.start(), m.start() + end
                break


# --- IP addresses ----------------------------------------------------------------------
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(r"(?<![\w.])" + _OCTET + r"(?:\." + _OCTET + r"){3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_VERSION_CUE = re.compile(r"(?i)\b(?:versie|version|v|release|build|firmware)\.?\s*$")


def _find_ips(text: str) -> Iterable[tuple[int, int]]:
    if "." in text:
        for m in _IPV4.finditer(text):
            if not _after(_VERSION_CUE, text, m.start(), 20):
                yield m.start(), m.end()
    if text.count(":") >= 2:
        for m in _IPV6.finditer(text):
            cand = m.group()
            # Times ("10:30:00") are not addresses: need a hex letter or many groups.
            if cand.count(":") < 4 and not any(c in "abcdefABCDEF" for c in cand):
                continue
            try:
                ipaddress.IPv6Address(cand)
            except ValueError:
                continue
            yield m.start(), m.end()


# --- licence plates --------------------------------------------------------------------
# The Dutch side codes (L = letter, D = digit), written with dashes. In capitals they
# count anywhere; lower case and the undashed form only after "kenteken"/"licence plate".
_SIDECODES = ("LL-DD-DD", "DD-DD-LL", "DD-LL-DD", "LL-DD-LL", "LL-LL-DD", "DD-LL-LL", "DD-LLL-D", "D-LLL-DD",
              "LL-DDD-L", "L-DDD-LL", "LLL-DD-L", "L-DD-LLL", "D-LL-DDD", "DDD-LL-D")


def _sidecode_rx(letters: str) -> str:
    out = []
    for code in _SIDECODES:
        parts = [f"[{letters}]{{{len(p)}}}" if p[0] == "L" else rf"\d{{{len(p)}}}" for p in code.split("-")]
        out.append("-".join(parts))
    return "(?:" + "|".join(out) + ")"


_PLATE = re.compile(r"(?<![\w-])" + _sidecode_rx("A-Z") + r"(?![\w-])")
_PLATE_CUED = re.compile(r"(?i)\b(?:kenteken|nummerbord|nummerplaat|licen[cs]e\s+plate|number\s+plate|registration"
                         r"|reg\.?\s*(?:no|nr))\w*\s*(?:is\s*)?[:#]?\s*(" + _sidecode_rx("A-Za-z")
                         + r"|(?=[A-Za-z0-9]{6}\b)(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{6})(?![\w-])")


def _find_plates(text: str) -> Iterable[tuple[int, int]]:
    if "-" in text:
        for m in _PLATE.finditer(text):
            if not _after(_OTHER_NUMBER_CUE, text, m.start()):
                yield m.start(), m.end()
    for m in _PLATE_CUED.finditer(text):
        yield m.start(1), m.end(1)


# --- passport / ID-card numbers ----------------------------------------------------------
# Dutch document numbers: 9 characters, two letters, six letters or digits, a final digit;
# the letter O is never used (it looks like zero). After a document cue any such string
# counts; without one only in capitals with letters and at least two digits mixed in the
# middle, which product names ("GALAXY24") and words do not have.
_DOC = re.compile(r"(?<![\w-])([A-NP-Za-np-z]{2}[A-NP-Za-np-z0-9]{6}\d)(?![\w-])")
_DOC_CUE = re.compile(r"(?i)\b(?:paspoort|passport|id-?kaart|id[- ]card|identiteitskaart|identiteitsbewijs"
                      r"|identity\s+card|document|id-?nummer|id\s+number|reisdocument)\w*\W{0,20}"
                      r"(?:[a-z]+\W{1,3}){0,2}$")


def _find_documents(text: str) -> Iterable[tuple[int, int]]:
    for m in _DOC.finditer(text):
        cand = m.group(1)
        if _after(_DOC_CUE, text, m.start(), 50):
            yield m.start(), m.end()
            continue
        mid = cand[2:8]
        if (cand.isupper() and sum(c.isdigit() for c in mid) >= 2 and any(c.isalpha() for c in mid)
                and not _after(_OTHER_NUMBER_CUE, text, m.start())):
            yield m.start(), m.end()


# --- birth dates -------------------------------------------------------------------------
_MONTHS = {
    "januari": 1, "january": 1, "jan": 1, "februari": 2, "february": 2, "feb": 2, "maart": 3, "march": 3, "mrt": 3,
    "mar": 3, "april": 4, "apr": 4, "mei": 5, "may": 5, "juni": 6, "june": 6, "jun": 6, "juli": 7, "july": 7,
    "jul": 7, "augustus": 8, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10,
    "october": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE = re.compile(
    r"(?i)(?<![\w/.-])(?:"
    r"(?P<d1>\d{1,2})(?P<s1>[-/.])(?P<m1>\d{1,2})(?P=s1)(?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    r"|(?P<d3>\d{1,2})(?:st|nd|rd|th|e)?(?:\s+of)?[\s-]+(?P<m3>" + _MONTH + r")(?:[\s-]+(?P<y3>\d{4}))?"
    r"|(?P<m4>" + _MONTH + r")\s+(?P<d4>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y4>\d{4}))?"
    r")(?![\w]|[-/.]\d)"
)
_BIRTH_CUE = re.compile(r"(?i)\b(?:geboren|geboortedatum|geboorte\s*datum|geb\.?(?:\s*datum)?|born|date\s+of\s+birth"
                        r"|birth\s*date|birthday|dob|d\.o\.b|verjaardag|jarig)\b\W{0,3}(?:[a-z]+\W{1,3}){0,3}$")
_BIRTH_CUE_AFTER = re.compile(r"(?i)^\W{0,3}(?:\w+\W+){0,2}(?:geboortedatum|date\s+of\s+birth|birth\s*date|geboren)\b")
# Dates of events, not of people: "klant sinds 12-05-2001", "contract tot 31-12-2025".
_EVENT_CUE = re.compile(r"(?i)\b(?:sinds|since|vanaf|from|tot|until|till|per|klant|customer|contract|aangesloten"
                        r"|verhuisd|moved|geleverd|delivered|betaald|paid|factuur|invoice|opgezegd|afgesloten"
                        r"|gekocht|bought|purchased|geïnstalleerd|installed|gebeld|called|afspraak|appointment)\b"
                        r"\W{0,3}(?:[a-z]+\W{1,3}){0,2}$")
_ADULT_YEARS = 14  # a full date at least this many years back, without cue, is most likely someone's birthday


def _date_parts(m: re.Match) -> tuple[int, int, int | None, bool] | None:
    """(day, month, year or None, written with digits only)."""
    g = m.groupdict()
    for k in "1234":
        if g.get("d" + k):
            day, mon, year = g["d" + k], g["m" + k], g["y" + k]
            break
    else:
        return None
    numeric = mon.isdigit()
    month = int(mon) if numeric else _MONTHS.get(mon.lower().rstrip("."))
    if month is None or not (1 <= month <= 12 and 1 <= int(day) <= 31):
        return None
    y = None
    if year:
        y = int(year)
        if len(year) == 2:
            y += 1900 if y > (date.today().year % 100) else 2000
    return int(day), month, y, numeric


def _find_birth_dates(text: str) -> Iterable[tuple[int, int]]:
    latest = date.today().year - _ADULT_YEARS
    for m in _DATE.finditer(text):
        parts = _date_parts(m)
        if parts is None:
            continue
        _, _, year, numeric = parts
        if year is not None and not 1900 <= year <= date.today().year:
            continue
        if _after(_BIRTH_CUE, text, m.start(), 45) or _BIRTH_CUE_AFTER.match(text, m.end(), m.end() + 30):
            if year is not None or not numeric:  # "3 maart" after a cue; "3-3" alone is too vague
                yield m.start(), m.end()
        elif (year is not None and year <= latest and re.search(r"\d{4}", m.group())
              and not _after(_EVENT_CUE, text, m.start(), 45)):  # "12-12-12" alone is too vague
            yield m.start(), m.end()


# --- person names ---------------------------------------------------------------------------
_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_NAME_WORD = re.compile("[" + _UP + "](?:['’][" + _UP + "])?[" + _LO + "]+(?:[" + _UP + "][" + _LO + "]+)?"
                        "(?:-[" + _UP + _LO + "][" + _LO + "]+)*(?![\\w'’])")
_TUSSEN = (r"(?:[Vv]an\s+(?:[Dd]e[nr]?|het|'t)|[Vv]an|[Dd]e[nr]?|[Tt]e[nr]?|[Ii]n\s+(?:'t|de|het)"
           r"|[Oo]p\s+(?:de|den|'t|ten)|[Uu]it\s+de[nr]?|'t|[Ll][ae]|[Dd]u|[Dd]a|[Dd]os|[Ee]l|[Aa]l|[Bb]in"
           r"|[Vv]on(?:\s+der)?)")
_INITIALS = "(?:[" + _UP + r"]\.\s?){1,4}"
_NAME_TAIL = re.compile(r"[ \t]+(?:" + _TUSSEN + r"[ \t]+)?(?=[" + _UP + "])")
# Words that introduce a name. Titles take the name right after them; sign-offs and
# "naam:" also after a comma or colon.
_NAME_CUES = (
    r"(?<![\w.])(?:(?i:mijn\s+naam\s+is|naam\s+is|naam|ik\s+heet|my\s+name\s+is|name\s+is|name|i\s+am\s+called"
    r"|mevrouw|mevr|mw|mej|meneer|mijnheer|mnr|dhr|de\s+heer|juffrouw|familie|fam|collega|medewerker|medewerkster"
    r"|monteur|adviseur|engineer|technician|agent|t\.n\.v|ten\s+name\s+van|namens|on\s+behalf\s+of"
    r"|(?:met\s+)?(?:vriendelijke\s+|hartelijke\s+)?groet(?:en|jes)?|gr|mvg|m\.v\.g|(?:kind\s+|best\s+)?regards"
    r"|cheers|geholpen\s+door|gesproken\s+met|sprak\s+met|helped\s+by|spoke\s+(?:to|with)|talked\s+to|thanks\s+to"
    r"|thank\s+you|bedankt|dank\s+aan|dank\s+je|compliment(?:en)?\s+(?:voor|aan))|Mrs|Mr|Ms|Dr)"
)
_NAME_CUE_BEFORE = re.compile(
    _NAME_CUES + r"\.?[ \t]*[,:]?\s*(?P<ini>" + _INITIALS + r"\s*)?(?P<tus>" + _TUSSEN + r"\s+)?$"
)
_ARTICLE_BEFORE = re.compile(r"(?i)\b(?:de|een|die|deze|the|a|that)\s+$")
_TUSSEN_WORDS = frozenset({"van", "de", "der", "den", "ter", "ten", "te", "het", "'t", "in", "op", "uit", "la", "le",
                           "du", "da", "dos", "el", "al", "bin", "von"})
# Capitalised words that are not names even after a cue ("meneer Die", "thanks to Customer Service").
_NOT_NAMES = frozenset("""
ik je jij u uw hij zij ze we wij het een die dat deze dit en maar of ook er mijn zijn haar hun ons onze jullie
the a an i he she it they you we and but or my his her our your this that is was has had have be been are
klantenservice klantendienst helpdesk service support team customer klant afdeling monteur medewerker
bedankt dank thanks thank hallo hoi hi hello dear beste geachte groet groeten alle all everyone iedereen
maandag dinsdag woensdag donderdag vrijdag zaterdag zondag monday tuesday wednesday thursday friday saturday sunday
januari februari maart april mei juni juli augustus september oktober november december january february march
june july august october
nederland netherlands holland nl internet tv wifi app website mail email sms whatsapp google apple iphone android
""".split())  # noqa: SIM905 (a word list reads better as text)
# Common given names in the Netherlands (several generations and backgrounds) and in
# English. Capitalised, they are names even without a cue; words that are also
# ordinary capitalised words (May, June, Will, Max, Can, Said ...) are left out.
_FIRST_NAMES = frozenset("""
Aad Abdel Abdelkader Abdul Adam Adrie Ahmed Aisha Ali Alice Amber Amina Amira Anna Anne Annemarie Anneke Annie Anouk
Ans Arie Arjen Arjan Astrid Ayoub Ayse Bart Bas Bastiaan Bea Ben Benjamin Bert Bianca Bilal Bram Brenda Brian Carla
Carlos Caroline Charlotte Chantal Chris Christine Cindy Claudia Coen Cor Corrie Daan Daniel Danny David Dennis Dewi
Dick Dirk Dolf Edwin Eline Elif Elisabeth Ellen Els Elske Emily Emma Emre Erik Erwin Esther Eva Evert Fabian Fatima Fatma Femke
Fenna Fleur Frank Frans Freek Frits Gerard Gerda Gerrit Gert Gijs Greet Guus Hanna Hannah Hans Harm Hasan Hassan Hatice
Hendrik Henk Henny Herman Hilde Hugo Hussein Ilse Inge Ingrid Iris Jaap Jacob Jacqueline James Jan Janneke Jannes
Jasper Jelle Jennifer Jeroen Jesse Jessica Joke Johan Johannes John Joost Joop Jordy Joris Jos Jose José Joyce Judith Julia
Juliette Jurgen Karel Karin Kees Kevin Khadija Kim Klaas Koen Kristel Lars Laura Lauren Leo Lieke Lien Linda Lisa Lisanne
Liam Lotte Louise Lucas Luuk Maaike Manon Marco Margot Maria Marian Marieke Marijke Mario Mark Marloes Martijn Martin
Marc Marcel Marja Mary Mats Maurice Meryem Michael Michel Michiel Miriam Mohamed Mohammed Monique Muhammed Mustafa Naima Nadia Nathalie
Nicole Niels Nienke Noah Nora Nina Olga Oscar Patrick Paul Peter Petra Piet Pieter Priscilla Rachid Ralph Remco Richard
Rene René Ria Rick Riet Rik Rob Robert Rogier Ronald Robin Roel Roos Rose Ruben Rutger Ruud Saar Sabine Samira Sander Sandra Sanne Sara Sarah Sem Sevda
Simone Sophie Stefan Stijn Suzanne Sven Tessa Teun Thijs Thomas Tim Tom Ton Tineke Twan Umut Vera Wendy Willem Wilma Wim
Wouter Yasmin Yvonne Yusuf Zeynep Zoe
""".split())  # noqa: SIM905 (a word list reads better as text)


def _name_end(text: str, start: int) -> int:
    """End of the name that starts with a capitalised word at `start`: up to three more
    capitalised words, each optionally after a tussenvoegsel, never a non-name word."""
    m = _NAME_WORD.match(text, start)
    if m is None:
        return start
    end = m.end()
    for _ in range(3):
        t = _NAME_TAIL.match(text, end)
        if t is None:
            break
        w = _NAME_WORD.match(text, t.end())
        if w is None or w.group().lower() in _NOT_NAMES:
            break
        end = w.end()
    return end


# Last words of the cues above, tussenvoegsels and initials: only a capitalised word right
# after one of these can follow a cue, so the cue pattern runs for few words.
_CUE_TAILS = frozenset("""
is naam heet name called mevrouw mevr mw mej meneer mijnheer mnr dhr heer juffrouw familie fam collega medewerker
medewerkster monteur adviseur engineer technician agent t.n.v van namens of groet groeten groetjes gr mvg m.v.g
regards cheers door met by to with you bedankt aan je voor mrs mr ms dr
""".split()) | _TUSSEN_WORDS  # noqa: SIM905 (a word list reads better as text)


def _cue_possible(text: str, s: int) -> bool:
    i = s
    while i > 0 and text[i - 1] in " \t\n\r,:":
        i -= 1
    j = i
    while j > 0 and (text[j - 1].isalpha() or text[j - 1] in ".'"):
        j -= 1
    prev = text[j:i].lower()
    return prev in _CUE_TAILS or prev.rstrip(".") in _CUE_TAILS or (len(prev) == 2 and prev[1] == ".")


_CAP_WORD = re.compile(r"(?<![\w'’.@-])[" + _UP + "](?:['’][" + _UP + "])?[" + _LO + "]+")


def _find_names(text: str) -> Iterable[tuple[int, int]]:
    taken_to = 0
    for c in _CAP_WORD.finditer(text):
        s = c.start()
        if s < taken_to:
            continue
        known_first = c.group() in _FIRST_NAMES
        cue = _NAME_CUE_BEFORE.search(text, max(0, s - 45), s) if s and _cue_possible(text, s) else None
        if cue is None and not known_first:  # most capitalised words: sentence starts
            continue
        w = _NAME_WORD.match(text, s)
        if w is None:
            continue
        word = w.group()
        start = None
        if cue is not None and word.lower() not in _NOT_NAMES:
            tus = cue.group("tus")
            # "de meneer van Ziggo" is a man from a company, "meneer van Dijk" a name.
            if tus and tus[0] == "v" and _ARTICLE_BEFORE.search(text, max(0, cue.start() - 10), cue.start()):
                continue
            start = cue.start("ini") if cue.group("ini") else cue.start("tus") if tus else s
        elif known_first:
            start = s
        if start is None:
            continue
        end = _name_end(text, s)
        # A capitalised tussenvoegsel alone ("meneer De") is no name.
        if word.lower() in _TUSSEN_WORDS and end == w.end():
            continue
        taken_to = end
        yield start, end


# --- the customer's own name ------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _name_variants(names: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """Lower-case forms to look for, longest first, each with "must be capitalised in the text".

    "Anna de Vries" gives the full name and "de vries" (case-insensitive), and "vries" and the
    given name "anna", which only count capitalised: single names are often ordinary words.
    "Vries, A. de" (surname first) gives the same.
    """
    out: dict[str, bool] = {}
    for raw in names:
        if not raw or not raw.strip():
            continue
        name = " ".join(raw.split())
        surname_first = "," in name
        tokens = [t for t in name.replace(",", " ").split() if not re.fullmatch(r"\w\.?(?:\w\.)*", t)]
        if not tokens:
            continue
        out[name.lower()] = False
        lowered = [t.lower() for t in tokens]
        if surname_first:
            core, given = [tokens[0]], tokens[1:]
            tussen = [t for t in given if t.lower() in _TUSSEN_WORDS]
            given = [t for t in given if t.lower() not in _TUSSEN_WORDS]
        else:
            k = next((i for i, t in enumerate(lowered) if i > 0 and t in _TUSSEN_WORDS), None)
            if k is not None:
                given, tussen = tokens[:k], [t for t in tokens[k:] if t.lower() in _TUSSEN_WORDS]
                core = [t for t in tokens[k:] if t.lower() not in _TUSSEN_WORDS]
            elif len(tokens) > 1:
                given, tussen, core = tokens[:-1], [], tokens[-1:]
            else:
                given, tussen, core = [], [], tokens
        surname = " ".join(core).lower()
        if len(surname) >= 3:
            # A surname alone is often an ordinary word too ("Een", "Bakker", "Koster"): only capitalised.
            out.setdefault(surname, len(core) == 1)
            if tussen:
                out.setdefault(" ".join(tussen + core).lower(), False)
        for g in given:
            if len(g) >= 3 and g.lower() not in _TUSSEN_WORDS:
                out.setdefault(g.lower(), True)
    return tuple(sorted(out.items(), key=lambda kv: -len(kv[0])))


def _find_known_names(text: str, names: tuple[str, ...]) -> Iterable[tuple[int, int]]:
    low = text.lower()
    if len(low) != len(text):  # a few characters change length when lowered ("İ"): search case-insensitively
        for variant, capital in _name_variants(names):
            for m in re.finditer(r"(?<!\w)" + re.escape(variant) + r"(?!\w)", text, re.IGNORECASE):
                if not capital or text[m.start()].isupper():
                    yield m.start(), m.end()
        return
    for variant, capital in _name_variants(names):
        i = low.find(variant)
        while i >= 0:
            j = i + len(variant)
            if ((i == 0 or not low[i - 1].isalnum()) and (j == len(low) or not low[j].isalnum())
                    and (not capital or text[i].isupper())):
                yield i, j
            i = low.find(variant, i + 1)


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


def _email_spans(text: str) -> Iterable[tuple[int, int]]:
    if "@" in text:
        yield from ((m.start(), m.end()) for m in _EMAIL.finditer(text))
    yield from _find_obfuscated_emails(text)


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
        # Priority order decides overlaps: a customer number is not a phone, an IBAN's
        # digits are not a phone, an e-mail's digits are nothing else, a card number is
        # checked before the BSN and phone shapes inside it. Finders that need a digit
        # are skipped for the many comments without one; customer-number patterns are
        # configurable, so they always run.
        order = (
            ("email", _email_spans, False),
            ("iban", _find_ibans, True),
            ("customer_no", self._customer_spans, False),
            ("credit_card", _find_cards, True),
            ("bsn", _find_bsns, True),
            ("document_no", _find_documents, True),
            ("birth_date", _find_birth_dates, True),
            ("ip_address", _find_ips, True),
            ("phone", _find_phones, True),
            ("licence_plate", _find_plates, True),
            ("address", _find_addresses, True),
            ("name", _find_names, False),
        )
        self._finders = tuple((k, f) for k, f, _ in order if k in self.kinds)
        self._finders_no_digit = tuple((k, f) for k, f, needs_digit in order if k in self.kinds and not needs_digit)

    def _customer_spans(self, text: str) -> Iterable[tuple[int, int]]:
        for rx in self._customer:
            for m in rx.finditer(text):
                if "id" in rx.groupindex and m.group("id") is not None:
                    yield m.start("id"), m.end("id")
                else:
                    yield m.start(), m.end()

    def find(self, text: str, known_names: Sequence[str] | None = None) -> list[RedactedSpan]:
        """All personal-data spans, non-overlapping, in text order.

        known_names: names of the person who wrote the text (e.g. the customer's name
        from the customers table); found case-insensitively, also the surname alone.
        """
        if not text:
            return []
        finders = self._finders if _DIGIT.search(text) is not None else self._finders_no_digit
        if known_names:
            names = tuple(known_names)
            finders = (*finders, ("name", lambda t: _find_known_names(t, names)))
        taken: list[RedactedSpan] = []
        for kind, finder in finders:
            if kind not in self.kinds:  # the known-name finder is added per call
                continue
            for s, e in finder(text):
                if e <= s:
                    continue
                hit = [o for o in taken if s < o.end and o.start < e]
                if not hit:
                    taken.append(RedactedSpan(kind, s, e))
                elif all(o.kind == kind == "name" for o in hit):
                    # "Jan Jansen" by a cue and "Jansen" as the known surname: one name span.
                    for o in hit:
                        taken.remove(o)
                    taken.append(RedactedSpan(kind, min(s, *(o.start for o in hit)), max(e, *(o.end for o in hit))))
        taken.sort(key=lambda sp: sp.start)
        return taken

    def redact(self, text: str, known_names: Sequence[str] | None = None) -> RedactionResult:
        if text is None:
            return RedactionResult("", ())
        if not isinstance(text, str):
            text = str(text)
        spans = self.find(text, known_names)
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


def redact(text: str, customer_patterns: Sequence[str] | None = None,
           known_names: Sequence[str] | None = None) -> RedactionResult:
    """Redact personal data from one comment.

    `customer_patterns` replaces the default customer-number patterns
    (regular expressions; a named group ``id`` limits what is replaced).
    `known_names`: the writer's own name(s), e.g. ``["Anna de Vries"]``; the full
    name, the surname (with or without tussenvoegsel) and, capitalised, the given
    name are redacted wherever they occur.
    """
    if customer_patterns is None:
        return _DEFAULT.redact(text, known_names)
    return Redactor(customer_patterns=tuple(customer_patterns)).redact(text, known_names)
