"""Loopback stand-ins for Twilio, MessageBird and the WhatsApp Cloud API, for tests/invitations/test_sms*.py and
test_whatsapp*.py.

Each is a real HTTP server on 127.0.0.1 that checks every request against the provider's documented format
(path, authentication, content type, required fields) and answers as the provider does: its success body,
its error bodies and codes (an invalid number, an unsubscribed recipient, a wrong key, an unknown template),
and, when told to, 503 or 429 for the next requests. A request that breaks the documented format is
recorded in `problems` and answered as the provider answers a malformed request, so a test fails on both.

The callbacks the providers send back are signed here with hmac/hashlib directly (not with our code):
Twilio's X-Twilio-Signature, MessageBird's Signature-JWT, WhatsApp's X-Hub-Signature-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
DIGITS = re.compile(r"^[1-9]\d{7,14}$")
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
           "abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXT = set("^{}\\[~]|€")


def septets(text: str) -> int | None:
    """GSM 03.38 length, written independently of servicepulse.notify.messaging."""
    if any(c not in GSM7 and c not in GSM7_EXT for c in text):
        return None
    return sum(2 if c in GSM7_EXT else 1 for c in text)


class FakeProvider:
    """Base: a threaded HTTP server recording calls; subclasses implement `answer`."""

    def __init__(self):
        self.calls: list[dict] = []
        self.problems: list[str] = []
        self.fail_next: list[tuple[int, dict]] = []  # (status, extra headers) answered before normal handling
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                call = {"method": self.command, "path": self.path, "headers": dict(self.headers), "raw": raw}
                with fake._lock:
                    fake.calls.append(call)
                    forced = fake.fail_next.pop(0) if fake.fail_next else None
                if forced:
                    status, headers = forced
                    body = b'{"message": "service unavailable"}'
                else:
                    status, payload, headers = fake.answer(call)
                    body = json.dumps(payload).encode()
                call["status"] = status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = _handle
            do_GET = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    def answer(self, call: dict) -> tuple[int, dict, dict]:
        raise NotImplementedError

    @property
    def accepted(self) -> list[dict]:
        return [c for c in self.calls if c.get("status") in (200, 201)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# --- Twilio ---------------------------------------------------------------------------------------------


class FakeTwilio(FakeProvider):
    """POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, basic auth (SID, token)."""

    def __init__(self, account_sid: str, auth_token: str):
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.unsubscribed: set[str] = set()  # numbers that replied STOP at Twilio (error 21610)
        self.invalid: set[str] = set()  # numbers Twilio calls invalid (error 21211)

    def _error(self, status: int, code: int, message: str) -> tuple[int, dict, dict]:
        return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status}, {}

    def answer(self, call):
        if call["method"] != "POST" or call["path"] != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            self.problem(f"unexpected {call['method']} {call['path']}")
            return self._error(404, 20404, "The requested resource was not found")
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if call["headers"].get("Authorization") != expected:
            return self._error(401, 20003, "Authenticate")
        if not call["headers"].get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            self.problem("Twilio takes form-encoded parameters")
            return self._error(400, 21601, "bad request")
        form = dict(parse_qsl(call["raw"].decode()))
        call["form"] = form
        to, body = form.get("To", ""), form.get("Body", "")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            self.problem("neither From nor MessagingServiceSid")
            return self._error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        if not body or len(body) > 1600:
            self.problem(f"Body of {len(body)} characters")
            return self._error(400, 21602, "Message body is required")
        callback = form.get("StatusCallback", "")
        if callback and not re.match(r"^https?://", callback):
            self.problem(f"StatusCallback {callback!r} is not an absolute URL")
        if not E164.match(to) or to in self.invalid:
            if not E164.match(to):
                self.problem(f"To {to!r} is not E.164")
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.unsubscribed:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + secrets.token_hex(16)
        call["sid"] = sid
        return 201, {"sid": sid, "account_sid": self.account_sid, "to": to, "from": form.get("From"), "body": body,
                     "status": "queued", "num_segments": "1", "direction": "outbound-api",
                     "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"}, {}

    def sign(self, url: str, params: dict[str, str]) -> str:
        data = url + "".join(k + params[k] for k in sorted(params))
        return base64.b64encode(hmac.new(self.auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()

    def status_callback(self, sid: str, status: str, error_code: str | None = None) -> tuple[dict, dict]:
        """(form, headers) of the status callback Twilio posts to the message's StatusCallback."""
        call = next(c for c in self.calls if c.get("sid") == sid)
        form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.account_sid, "MessageStatus": status,
                "SmsStatus": status, "To": call["form"]["To"], "From": call["form"].get("From", ""),
                "ApiVersion": "2010-04-01"}
        if error_code:
            form["ErrorCode"] = error_code
        return form, {"X-Twilio-Signature": self.sign(call["form"]["StatusCallback"], form),
                      "Content-Type": "application/x-www-form-urlencoded"}

    def incoming(self, url: str, sender: str, text: str, opt_out_type: str | None = None) -> tuple[dict, dict]:
        form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": self.account_sid, "From": sender,
                "To": "+3197010000000", "Body": text, "NumMedia": "0", "SmsStatus": "received"}
        if opt_out_type:
            form["OptOutType"] = opt_out_type
        return form, {"X-Twilio-Signature": self.sign(url, form),
                      "Content-Type": "application/x-www-form-urlencoded"}


# --- MessageBird ----------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def messagebird_jwt(signing_key: str, url: str, body: bytes = b"", now: float | None = None, ttl: int = 60) -> str:
    now = int(time.time() if now is None else now)
    claims = {"iss": "MessageBird", "nbf": now, "exp": now + ttl, "jti": secrets.token_hex(8),
              "url_hash": hashlib.sha256(url.encode()).hexdigest()}
    if body:
        claims["payload_hash"] = hashlib.sha256(body).hexdigest()
    head = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signature = hmac.new(signing_key.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{_b64url(signature)}"


class FakeMessageBird(FakeProvider):
    """POST /messages, JSON, Authorization: AccessKey <key>; 201 with the message's id."""

    def __init__(self, access_key: str, signing_key: str):
        super().__init__()
        self.access_key, self.signing_key = access_key, signing_key
        self.invalid: set[str] = set()

    def _errors(self, status: int, code: int, description: str, parameter: str | None = None):
        return status, {"errors": [{"code": code, "description": description, "parameter": parameter}]}, {}

    def answer(self, call):
        if call["method"] != "POST" or call["path"] != "/messages":
            self.problem(f"unexpected {call['method']} {call['path']}")
            return self._errors(404, 20, "not found")
        if call["headers"].get("Authorization") != f"AccessKey {self.access_key}":
            return self._errors(401, 2, "Request not allowed (incorrect access_key)", "access_key")
        if not call["headers"].get("Content-Type", "").startswith("application/json"):
            self.problem("MessageBird takes a JSON body here")
        try:
            body = json.loads(call["raw"])
        except ValueError:
            self.problem("body is not JSON")
            return self._errors(422, 10, "invalid JSON")
        call["json"] = body
        originator, recipients, text = body.get("originator", ""), body.get("recipients"), body.get("body", "")
        if not originator or not (re.match(r"^[A-Za-z0-9 ]{1,11}$", originator) or DIGITS.match(originator.lstrip("+"))):
            self.problem(f"originator {originator!r}")
            return self._errors(422, 10, "originator is invalid", "originator")
        if not isinstance(recipients, list) or not recipients:
            self.problem("recipients must be a list of numbers")
            return self._errors(422, 9, "no (correct) recipients found", "recipients")
        for number in recipients:
            if not DIGITS.match(str(number)):
                self.problem(f"recipient {number!r} is not an MSISDN")
                return self._errors(422, 9, "no (correct) recipients found", "recipients")
        if str(recipients[0]) in self.invalid:
            return self._errors(422, 9, f"no (correct) recipients found ({recipients[0]})", "recipients")
        if not text:
            self.problem("empty body")
            return self._errors(422, 9, "body is required", "body")
        if body.get("reportUrl") and not re.match(r"^https?://", body["reportUrl"]):
            self.problem("reportUrl is not an absolute URL")
        message_id = secrets.token_hex(16)
        call["id"] = message_id
        return 201, {"id": message_id, "href": f"https://rest.messagebird.com/messages/{message_id}",
                     "direction": "mt", "type": "sms", "originator": originator, "body": text,
                     "reference": body.get("reference"), "datacoding": body.get("datacoding", "plain"),
                     "recipients": {"totalCount": len(recipients), "totalSentCount": len(recipients),
                                    "totalDeliveredCount": 0, "totalDeliveryFailedCount": 0,
                                    "items": [{"recipient": int(r), "status": "sent"} for r in recipients]}}, {}

    def status_report(self, message_id: str, status: str, error_code: str | None = None) -> tuple[str, dict]:
        """(url, headers) of the GET MessageBird makes to the message's reportUrl."""
        call = next(c for c in self.calls if c.get("id") == message_id)
        params = {"id": message_id, "reference": call["json"].get("reference", ""),
                  "recipient": str(call["json"]["recipients"][0]), "status": status,
                  "statusDatetime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
        if error_code:
            params["statusErrorCode"] = error_code
        url = call["json"]["reportUrl"] + "?" + urlencode(params)
        return url, {"MessageBird-Signature-JWT": messagebird_jwt(self.signing_key, url)}


# --- WhatsApp Cloud API ---------------------------------------------------------------------------------


class FakeWhatsApp(FakeProvider):
    """POST /{version}/{phone-number-id}/messages with a Bearer token; only approved templates, each with the
    parameters its definition has."""

    # name -> languages approved, body parameters, URL button parameters
    TEMPLATES = {"survey_invitation": ({"nl", "en"}, 1, 1), "survey_reminder": ({"nl", "en"}, 1, 1)}

    def __init__(self, phone_number_id: str, access_token: str, app_secret: str, version: str = "v21.0"):
        super().__init__()
        self.phone_number_id, self.access_token, self.app_secret = phone_number_id, access_token, app_secret
        self.version = version
        self.stopped_marketing: set[str] = set()  # error 131050

    def _error(self, status: int, code: int, message: str):
        return status, {"error": {"message": message, "type": "OAuthException", "code": code,
                                  "error_data": {"messaging_product": "whatsapp", "details": message},
                                  "fbtrace_id": secrets.token_hex(8)}}, {}

    def answer(self, call):
        if call["method"] != "POST" or call["path"] != f"/{self.version}/{self.phone_number_id}/messages":
            self.problem(f"unexpected {call['method']} {call['path']}")
            return self._error(400, 100, "Unsupported post request")
        if call["headers"].get("Authorization") != f"Bearer {self.access_token}":
            return self._error(401, 190, "Invalid OAuth access token")
        try:
            body = json.loads(call["raw"])
        except ValueError:
            self.problem("body is not JSON")
            return self._error(400, 100, "Invalid parameter")
        call["json"] = body
        if body.get("messaging_product") != "whatsapp":
            self.problem("messaging_product must be 'whatsapp'")
            return self._error(400, 100, "Invalid parameter")
        to = str(body.get("to", ""))
        if not DIGITS.match(to.lstrip("+")):
            self.problem(f"to {to!r}")
            return self._error(400, 100, "Invalid parameter")
        if body.get("type") != "template":
            self.problem("a business-initiated message must be a template")
            return self._error(400, 131047, "Re-engagement message")
        template = body.get("template") or {}
        definition = self.TEMPLATES.get(template.get("name"))
        language = (template.get("language") or {}).get("code")
        if definition is None or language not in definition[0]:
            return self._error(404, 132001, "Template name does not exist in the translation")
        counts = {"body": 0, "button": 0}
        for component in template.get("components") or []:
            kind = component.get("type")
            if kind == "button" and (component.get("sub_type") != "url" or str(component.get("index")) != "0"):
                self.problem(f"button component {component}")
            params = component.get("parameters") or []
            if any(p.get("type") != "text" or not isinstance(p.get("text"), str) for p in params):
                self.problem(f"parameters {params}")
            counts[kind] = counts.get(kind, 0) + len(params)
        if (counts["body"], counts["button"]) != definition[1:]:
            self.problem(f"template {template.get('name')} takes {definition[1:]} parameters, got {counts}")
            return self._error(400, 132000, "Number of parameters does not match the expected number of params")
        if to.lstrip("+") in self.stopped_marketing:
            return self._error(400, 131050, "Unable to deliver message. User has stopped marketing messages")
        wamid = "wamid." + _b64url(secrets.token_bytes(24))
        call["wamid"] = wamid
        return 200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                     "messages": [{"id": wamid, "message_status": "accepted"}]}, {}

    def _envelope(self, value: dict) -> bytes:
        return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
            {"field": "messages", "value": {"messaging_product": "whatsapp",
                                            "metadata": {"display_phone_number": "15550783881",
                                                         "phone_number_id": self.phone_number_id}} | value}]}]}).encode()

    def signed(self, body: bytes) -> dict:
        return {"X-Hub-Signature-256": "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest(),
                "Content-Type": "application/json"}

    def status_webhook(self, wamid: str, status: str, error_code: int | None = None) -> tuple[bytes, dict]:
        call = next(c for c in self.calls if c.get("wamid") == wamid)
        entry = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                 "recipient_id": call["json"]["to"].lstrip("+")}
        if error_code:
            entry["errors"] = [{"code": error_code, "title": "Message undeliverable"}]
        body = self._envelope({"statuses": [entry]})
        return body, self.signed(body)

    def reply_webhook(self, sender_digits: str, text: str, button: bool = False) -> tuple[bytes, dict]:
        message = {"from": sender_digits, "id": "wamid." + _b64url(secrets.token_bytes(24)),
                   "timestamp": str(int(time.time()))}
        if button:
            message |= {"type": "button", "button": {"payload": text, "text": text.title()}}
        else:
            message |= {"type": "text", "text": {"body": text}}
        body = self._envelope({"contacts": [{"profile": {"name": "Klant"}, "wa_id": sender_digits}],
                               "messages": [message]})
        return body, self.signed(body)
