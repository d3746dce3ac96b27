"""Text messages (SMS and WhatsApp) through a provider's HTTP API, and the callbacks providers send back.

One interface, three providers, each speaking its documented API (the addresses are in each class):

- ``TwilioSms``: Programmable Messaging. POST form to ``/2010-04-01/Accounts/{AccountSid}/Messages.json``
  with HTTP basic auth (Account SID, Auth Token); status callbacks and inbound messages are form POSTs
  signed in ``X-Twilio-Signature``: base64(HMAC-SHA1(auth token, URL + every POST parameter as name+value,
  sorted by name)) (https://www.twilio.com/docs/usage/security#validating-requests).
- ``MessageBirdSms``: the SMS REST API (Bird, formerly MessageBird). POST JSON to ``/messages`` with
  ``Authorization: AccessKey <key>``; delivery reports are GET requests to the ``reportUrl`` with the
  status in the query string, signed in ``MessageBird-Signature-JWT``: a JWT (HS256 with the signing key,
  issuer "MessageBird", nbf/exp, jti) whose ``url_hash`` is SHA-256 of the full URL and whose
  ``payload_hash`` is SHA-256 of the body, when there is one
  (https://developers.messagebird.com/docs/verify-http-requests; reference vectors in the
  messagebird-nodejs library, lib/testdata/webhook-signature-jwt-reference.json, are in our tests).
- ``WhatsAppCloud``: the WhatsApp Business Cloud API (Meta Graph API). Business-initiated messages must
  be approved templates: POST JSON ``{"messaging_product": "whatsapp", "to": ..., "type": "template",
  "template": {"name", "language": {"code"}, "components": [...]}}`` to ``/{phone-number-id}/messages``
  with a Bearer token. Webhooks: a GET handshake (``hub.mode=subscribe``, ``hub.verify_token``,
  ``hub.challenge``) and POSTs of ``statuses`` and ``messages`` signed in ``X-Hub-Signature-256``:
  ``sha256=`` + hex HMAC-SHA256(app secret, raw body)
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications).

Phone numbers are personal data: nothing here logs them, and error texts from providers are scrubbed of
digit runs before they reach an exception (which the job queue stores). Secrets are ``repr=False``.

Failures become ``MessageNotSent``: ``permanent`` when a retry cannot help (an invalid number, a refused
template), ``opted_out`` when the provider says the recipient unsubscribed (Twilio 21610, WhatsApp 131050);
a provider that is down, throttles (429) or answers 5xx is worth a retry, as is a refused login (a
configuration that may be fixed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx

from servicepulse.errors import ServicepulseError

TIMEOUT_SECONDS = 15.0
USER_AGENT = "servicepulse-messaging/1"

# --- GSM 03.38 (3GPP TS 23.038): what one SMS holds ----------------------------------------------------

GSM7_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
              "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").replace("\x1b", "")
GSM7_EXTENDED = "^{}\\[~]|€\f"  # each takes two septets (escape + character)
SMS_SEPTETS = 160  # one GSM-7 message; a concatenated one holds 153 per part
_TYPOGRAPHIC = {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "…": "...",
                "\u00a0": " ", "•": "-", "ë": "e", "ï": "i", "Ë": "E", "Ï": "I"}


def gsm7_length(text: str) -> int | None:
    """Septets `text` takes in the GSM-7 alphabet, or None when a character is not in it (UCS-2 would be used)."""
    total = 0
    for ch in text:
        if ch in GSM7_BASIC:
            total += 1
        elif ch in GSM7_EXTENDED:
            total += 2
        else:
            return None
    return total


def sms_parts(text: str) -> int:
    """How many SMS a text is billed as: 160/153 septets in GSM-7, 70/67 UTF-16 units otherwise."""
    septets = gsm7_length(text)
    if septets is not None:
        return 1 if septets <= 160 else -(-septets // 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def to_gsm7(text: str) -> str:
    """The text in the GSM-7 alphabet: typographic quotes and dashes plain, accents dropped where the
    alphabet lacks the letter (ë -> e), anything else '?'. One unknown character would otherwise turn the
    whole message into UCS-2 and more than halve what fits."""
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(ch)
            continue
        if ch in _TYPOGRAPHIC:
            out.append(_TYPOGRAPHIC[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(c in GSM7_BASIC for c in base) else "?")
    return "".join(out)


# --- phone numbers --------------------------------------------------------------------------------------

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_phone(raw: str | None, default_country: str = "31") -> str | None:
    """E.164 (+31612345678) from what people type: spaces, dashes, dots and brackets dropped, 00 -> +,
    a national 0 -> + the default country code. None when it cannot be a phone number."""
    if not raw:
        return None
    text = re.sub(r"[\s\-.()/]", "", str(raw))
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = f"+{default_country}{text[1:]}"
    elif text.isdigit():
        text = "+" + text
    return text if _E164.match(text) else None


def scrub(text: str) -> str:
    """A provider's error text without phone numbers (any run of 6 or more digits)."""
    return re.sub(r"\+?\d[\d ]{5,}\d", "[number]", str(text))


# --- the interface --------------------------------------------------------------------------------------


class MessageNotSent(ServicepulseError):
    """The provider could not be reached or refused the message."""

    def __init__(self, message: str, permanent: bool = False, opted_out: bool = False,
                 retry_after: float | None = None):
        super().__init__(scrub(message))
        self.permanent = permanent or opted_out
        self.opted_out = opted_out
        self.retry_after = retry_after


class CallbackRejected(ServicepulseError):
    """A callback whose signature is missing, wrong or stale: answered 403, nothing is read from it."""


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template: its name, language and the values of its parameters."""

    name: str
    language: str
    body: tuple[str, ...] = ()
    url_suffix: str | None = None  # the dynamic part of the template's URL button (index 0)


@dataclass(frozen=True)
class Outgoing:
    to: str  # E.164
    text: str = ""  # the SMS text (unused for a template)
    template: Template | None = None
    reference: str = ""  # ours, echoed in status reports where the provider supports it
    status_url: str = ""  # where the provider posts status reports for this message


@dataclass(frozen=True)
class Receipt:
    provider_id: str
    status: str  # normalised, see STATUSES


# Normalised statuses of a message, in the order they can follow one another.
STATUSES = ("queued", "sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class StatusReport:
    provider_id: str
    status: str  # one of STATUSES
    error_code: str | None = None


@dataclass(frozen=True)
class Inbound:
    """A message a customer sent us (a reply such as STOP)."""

    sender: str  # E.164; personal data: used to find the customer, never stored or logged
    text: str


@dataclass(frozen=True)
class CallbackRequest:
    method: str
    url: str  # the full URL as the provider called it (scheme, host, path, query): signatures cover it
    headers: dict[str, str]  # names in lower case
    body: bytes = b""


@dataclass
class Callback:
    statuses: list[StatusReport] = field(default_factory=list)
    inbound: list[Inbound] = field(default_factory=list)
    reply: str = ""  # what to answer (Twilio wants TwiML, the WhatsApp handshake its challenge)
    reply_type: str = "text/plain"


class TextProvider(Protocol):
    name: str
    channel: str  # "sms" or "whatsapp"

    def send(self, message: Outgoing) -> Receipt: ...

    def read_callback(self, request: CallbackRequest) -> Callback: ...


def _post(url: str, who: str, **kwargs) -> httpx.Response:
    headers = {"User-Agent": USER_AGENT} | kwargs.pop("headers", {})
    try:
        return httpx.post(url, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False, **kwargs)
    except httpx.HTTPError as exc:
        raise MessageNotSent(f"{who} is not reachable at {url}: {type(exc).__name__}") from None


def _retry_after(reply: httpx.Response) -> float | None:
    value = reply.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _json(reply: httpx.Response) -> dict:
    try:
        data = reply.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


# --- Twilio ---------------------------------------------------------------------------------------------

# Twilio error codes after which the same request will never succeed
# (https://www.twilio.com/docs/api/errors): invalid or unreachable 'To', region not enabled, ...
TWILIO_PERMANENT = {21211, 21212, 21214, 21217, 21219, 21401, 21407, 21408, 21612, 21614, 21617, 21635}
TWILIO_OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient": the customer replied STOP
_TWILIO_STATUS = {"accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "queued",
                  "sent": "sent", "delivered": "delivered", "read": "read", "undelivered": "failed",
                  "failed": "failed", "canceled": "failed"}


@dataclass(frozen=True)
class TwilioSms:
    account_sid: str
    auth_token: str = field(repr=False)
    sender: str  # a number in E.164, an alphanumeric sender ID, or a Messaging Service SID (MG...)
    api_url: str = "https://api.twilio.com"
    name: str = "twilio"
    channel: str = "sms"

    def send(self, message: Outgoing) -> Receipt:
        url = f"{self.api_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        form = {"To": message.to, "Body": message.text}
        form["MessagingServiceSid" if self.sender.startswith("MG") else "From"] = self.sender
        if message.status_url:
            form["StatusCallback"] = message.status_url
        reply = _post(url, "Twilio", data=form, auth=(self.account_sid, self.auth_token))
        data = _json(reply)
        if reply.status_code in (200, 201) and data.get("sid"):
            return Receipt(str(data["sid"]), _TWILIO_STATUS.get(str(data.get("status")), "queued"))
        code = data.get("code")
        text = f"Twilio answered HTTP {reply.status_code}" + (f", error {code}: {data.get('message')}" if code else "")
        if code == TWILIO_OPTED_OUT:
            raise MessageNotSent(text, opted_out=True)
        permanent = code in TWILIO_PERMANENT or (400 <= reply.status_code < 500
                                                 and reply.status_code not in (401, 403, 429))
        raise MessageNotSent(text, permanent=permanent, retry_after=_retry_after(reply))

    def signature(self, url: str, params: dict[str, str]) -> str:
        data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
        return base64.b64encode(hmac.new(self.auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()

    def read_callback(self, request: CallbackRequest) -> Callback:
        params = _form(request.body) if request.method == "POST" else {}
        given = request.headers.get("x-twilio-signature", "")
        if not given or not hmac.compare_digest(self.signature(request.url, params), given):
            raise CallbackRejected("the Twilio signature (X-Twilio-Signature) does not match")
        found = Callback(reply='<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
                         reply_type="text/xml")
        if "Body" in params:  # an incoming message (it carries SmsStatus=received too)
            # With Advanced Opt-Out Twilio names the keyword class in OptOutType (STOP, START, HELP).
            text = params.get("OptOutType") or params.get("Body", "")
            sender = normalise_phone(params.get("From"))
            if sender:
                found.inbound.append(Inbound(sender, text))
        elif "MessageStatus" in params or "SmsStatus" in params:
            status = _TWILIO_STATUS.get(params.get("MessageStatus") or params.get("SmsStatus", ""), "queued")
            found.statuses.append(StatusReport(params.get("MessageSid", ""), status, params.get("ErrorCode") or None))
        return found


# --- MessageBird / Bird ---------------------------------------------------------------------------------

_MESSAGEBIRD_STATUS = {"scheduled": "queued", "sent": "sent", "buffered": "sent", "delivered": "delivered",
                       "expired": "failed", "delivery_failed": "failed"}
MESSAGEBIRD_LEEWAY_SECONDS = 5  # the reference library's clock tolerance


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verify_messagebird_jwt(token: str, signing_key: str, url: str, body: bytes, now: float | None = None) -> bool:
    """MessageBird-Signature-JWT as the provider documents it: HS256/384/512 with the signing key,
    iss 'MessageBird', nbf <= now < exp (5 s leeway), a jti, url_hash = SHA-256(url) and, when the body is
    not empty, payload_hash = SHA-256(body)."""
    try:
        head_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(_b64url(head_b64))
        claims = json.loads(_b64url(claims_b64))
        signature = _b64url(signature_b64)
    except (ValueError, TypeError):
        return False
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(header.get("alg"))
    if digest is None or not isinstance(claims, dict):
        return False
    expected = hmac.new(signing_key.encode(), f"{head_b64}.{claims_b64}".encode(), digest).digest()
    if not hmac.compare_digest(expected, signature):
        return False
    moment = time.time() if now is None else now
    try:
        if claims.get("iss") != "MessageBird" or "jti" not in claims:
            return False
        if "nbf" in claims and moment + MESSAGEBIRD_LEEWAY_SECONDS < float(claims["nbf"]):
            return False
        if "exp" not in claims or moment - MESSAGEBIRD_LEEWAY_SECONDS >= float(claims["exp"]):
            return False
    except (TypeError, ValueError):
        return False
    if not hmac.compare_digest(str(claims.get("url_hash", "")), hashlib.sha256(url.encode()).hexdigest()):
        return False
    if body:
        return hmac.compare_digest(str(claims.get("payload_hash", "")), hashlib.sha256(body).hexdigest())
    return True


@dataclass(frozen=True)
class MessageBirdSms:
    access_key: str = field(repr=False)
    signing_key: str = field(repr=False)
    sender: str  # originator: a number or at most 11 letters and digits
    api_url: str = "https://rest.messagebird.com"
    name: str = "messagebird"
    channel: str = "sms"

    def send(self, message: Outgoing) -> Receipt:
        body = {"originator": self.sender, "recipients": [message.to.lstrip("+")], "body": message.text,
                "reference": message.reference, "datacoding": "plain"}
        if message.status_url:
            body["reportUrl"] = message.status_url
        reply = _post(f"{self.api_url.rstrip('/')}/messages", "MessageBird", json=body,
                      headers={"Authorization": f"AccessKey {self.access_key}", "Accept": "application/json"})
        data = _json(reply)
        if reply.status_code == 201 and data.get("id"):
            return Receipt(str(data["id"]), "queued")
        errors = data.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        text = (f"MessageBird answered HTTP {reply.status_code}"
                + (f", error {first.get('code')}: {first.get('description')}" if first.get("code") else ""))
        # 422 with code 9/10 (missing or wrong recipient, originator, body) will not pass on a retry;
        # 401 (code 2, a wrong access key) and 25 (no balance) may, once someone fixes the account.
        permanent = reply.status_code == 422 or (400 <= reply.status_code < 500
                                                 and reply.status_code not in (401, 402, 403, 429))
        raise MessageNotSent(text, permanent=permanent, retry_after=_retry_after(reply))

    def read_callback(self, request: CallbackRequest) -> Callback:
        token = request.headers.get("messagebird-signature-jwt", "")
        if not token or not verify_messagebird_jwt(token, self.signing_key, request.url, request.body):
            raise CallbackRejected("the MessageBird signature (MessageBird-Signature-JWT) does not match")
        params = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
        if request.body and "form" in request.headers.get("content-type", ""):
            params |= _form(request.body)
        found = Callback(reply="OK")
        if "status" in params and "id" in params:
            found.statuses.append(StatusReport(params["id"], _MESSAGEBIRD_STATUS.get(params["status"], "sent"),
                                               params.get("statusErrorCode") or None))
        elif "originator" in params:
            sender = normalise_phone(params["originator"])
            text = params.get("body") or params.get("payload") or params.get("message") or ""
            if sender:
                found.inbound.append(Inbound(sender, text))
        return found


# --- WhatsApp Business Cloud API ------------------------------------------------------------------------

# Graph API error codes (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes):
WHATSAPP_RETRY = {4, 80007, 130429, 131000, 131016, 131048, 131056, 133004, 190}  # throttled, down, token
WHATSAPP_OPTED_OUT = {131050}  # the user stopped marketing messages from this business


@dataclass(frozen=True)
class WhatsAppCloud:
    phone_number_id: str
    access_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
    api_url: str = "https://graph.facebook.com/v21.0"
    name: str = "whatsapp"
    channel: str = "whatsapp"

    def send(self, message: Outgoing) -> Receipt:
        template = message.template
        if template is None:
            raise MessageNotSent("a WhatsApp message to a customer who did not write first must be a template",
                                 permanent=True)
        components: list[dict] = []
        if template.body:
            components.append({"type": "body", "parameters": [{"type": "text", "text": v} for v in template.body]})
        if template.url_suffix is not None:
            components.append({"type": "button", "sub_type": "url", "index": "0",
                               "parameters": [{"type": "text", "text": template.url_suffix}]})
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.to.lstrip("+"),
                "type": "template",
                "template": {"name": template.name, "language": {"code": template.language},
                             "components": components}}
        reply = _post(f"{self.api_url.rstrip('/')}/{self.phone_number_id}/messages", "WhatsApp", json=body,
                      headers={"Authorization": f"Bearer {self.access_token}"})
        data = _json(reply)
        messages = data.get("messages") or []
        if reply.status_code == 200 and messages and isinstance(messages[0], dict) and messages[0].get("id"):
            return Receipt(str(messages[0]["id"]), "queued")
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        code = error.get("code")
        text = (f"WhatsApp answered HTTP {reply.status_code}"
                + (f", error {code}: {error.get('message')}" if code else ""))
        if code in WHATSAPP_OPTED_OUT:
            raise MessageNotSent(text, opted_out=True)
        retry = code in WHATSAPP_RETRY or reply.status_code in (401, 429) or reply.status_code >= 500
        raise MessageNotSent(text, permanent=not retry, retry_after=_retry_after(reply))

    def handshake(self, mode: str | None, verify_token: str | None, challenge: str | None) -> str:
        """The GET with which Meta checks a new webhook: echo the challenge if the token is ours."""
        if mode != "subscribe" or not verify_token or not hmac.compare_digest(verify_token, self.verify_token):
            raise CallbackRejected("the WhatsApp verify token does not match")
        return challenge or ""

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    def read_callback(self, request: CallbackRequest) -> Callback:
        given = request.headers.get("x-hub-signature-256", "")
        if not given or not hmac.compare_digest(self.signature(request.body), given):
            raise CallbackRejected("the WhatsApp signature (X-Hub-Signature-256) does not match")
        try:
            data = json.loads(request.body)
        except ValueError:
            data = {}
        found = Callback(reply="OK")
        for entry in _dicts(data, "entry"):
            for change in _dicts(entry, "changes"):
                value = change.get("value") if isinstance(change.get("value"), dict) else {}
                for status in _dicts(value, "statuses"):
                    errors = _dicts(status, "errors")
                    code = errors[0].get("code") if errors else None
                    found.statuses.append(StatusReport(str(status.get("id", "")),
                                                       status.get("status") if status.get("status") in STATUSES
                                                       else "sent", str(code) if code else None))
                for message in _dicts(value, "messages"):
                    sender = normalise_phone(str(message.get("from") or ""))
                    kind = message.get("type")
                    part = message.get(kind) if kind in ("text", "button") and isinstance(message.get(kind), dict) else {}
                    # a text's body, or the payload of the template's quick-reply button
                    text = str(part.get("body") or part.get("payload") or part.get("text") or "")
                    if sender:
                        found.inbound.append(Inbound(sender, text))
        return found


def _dicts(container, key: str) -> list[dict]:
    """The mappings in container[key]: a body that is shaped otherwise yields nothing rather than an error."""
    items = container.get(key) if isinstance(container, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
