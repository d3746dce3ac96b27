"""The provider layer on its own: signatures against the providers' published reference values, the GSM-7
arithmetic, phone numbers, and the texts fitting one SMS. No database."""

from __future__ import annotations

import pytest

from servicepulse.invitations.texting import compose_sms
from servicepulse.notify.messaging import (
    CallbackRejected,
    CallbackRequest,
    MessageNotSent,
    TwilioSms,
    gsm7_length,
    normalise_phone,
    scrub,
    sms_parts,
    to_gsm7,
    verify_messagebird_jwt,
)

from .sms_fakes import septets

# Twilio's documented example (https://www.twilio.com/docs/usage/security#validating-requests): auth token
# 12345, this URL and these parameters sign to 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
                 "From": "+12349013030", "To": "+18005551212"}

# messagebird-nodejs lib/testdata/webhook-signature-jwt-reference.json: the provider's own test vectors.
MB_SECRET = "36efdd1aace2e26cd490f0d951138253bef2f7c6d34d18981da781555cc4cebb"
MB_AT = 1625479200  # 2021-07-05T12:00:00+02:00
MB_VALID = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5"
            "MjYwLCJqdGkiOiI5M2U1NTAwNi1hMGU4LTQ1MjYtYTE5MC1mYTVmZjAwZWExMTYiLCJ1cmxfaGFzaCI6IjQxZjA1ZjBkZGQwYTIyYWIy"
            "MDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWNlNmMyNjAiLCJwYXlsb2FkX2hhc2giOiJkZmZkNjAyMWJiMmJk"
            "NWIwYWY2NzYyOTA4MDllYzNhNTMxOTFkZDgxYzdmNzBhNGIyODY4OGEzNjIxODI5ODZmIn0._H--TOuYFLpeEH39-rg5E3IHVkjHozBc"
            "aKVWPRC5m9I")
MB_VALID_NO_BODY = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxN"
                    "jI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIw"
                    "NjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.6Fp0rVOsRr1fj9S2GidXA"
                    "fkmPVofKr8_RTffC6G6r2E")
MB_EXPIRED = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3NTYwMCwiZXhwIjoxNjI1NDc1"
              "NjYwLCJqdGkiOiI1ZjAyZjUyMi02MDMwLTQ2YzgtYjVhMy0wMTI0NjQ3OGQ4YmMiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQw"
              "MzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.45MSST3B_2PsjNUeiuW54_vUQgVw4rBXrdWrOUE"
              "z3lM")


def test_twilio_signature_matches_the_documented_example():
    twilio = TwilioSms("AC1", "12345", "+3197010000000")
    assert twilio.signature(TWILIO_URL, TWILIO_PARAMS) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_a_twilio_callback_with_a_wrong_signature_is_rejected():
    twilio = TwilioSms("AC1", "12345", "+3197010000000")
    body = b"MessageSid=SM1&MessageStatus=delivered"
    good = twilio.signature("https://x.test/cb", {"MessageSid": "SM1", "MessageStatus": "delivered"})
    found = twilio.read_callback(CallbackRequest("POST", "https://x.test/cb", {"x-twilio-signature": good}, body))
    assert [(s.provider_id, s.status) for s in found.statuses] == [("SM1", "delivered")]
    with pytest.raises(CallbackRejected):  # signed for another URL
        twilio.read_callback(CallbackRequest("POST", "https://x.test/other", {"x-twilio-signature": good}, body))
    with pytest.raises(CallbackRejected):
        twilio.read_callback(CallbackRequest("POST", "https://x.test/cb", {}, body))


def test_messagebird_jwt_against_the_providers_reference_vectors():
    url = "https://example.com/path?bar=1&foo=2"
    assert verify_messagebird_jwt(MB_VALID, MB_SECRET, url, b"Hello, World!", now=MB_AT)
    assert verify_messagebird_jwt(MB_VALID_NO_BODY, MB_SECRET, "https://example.com/", b"", now=MB_AT)
    assert not verify_messagebird_jwt(MB_VALID, MB_SECRET, url, b"Hello, World?", now=MB_AT)  # payload changed
    assert not verify_messagebird_jwt(MB_VALID, MB_SECRET, "https://example.com/path?foo=2&bar=1",
                                      b"Hello, World!", now=MB_AT)  # URL changed
    assert not verify_messagebird_jwt(MB_VALID, "another key", url, b"Hello, World!", now=MB_AT)
    assert not verify_messagebird_jwt(MB_VALID, MB_SECRET, url, b"Hello, World!", now=MB_AT + 3600)  # expired
    assert not verify_messagebird_jwt(MB_EXPIRED, MB_SECRET, "https://example.com/", b"", now=MB_AT)
    assert not verify_messagebird_jwt("not.a.jwt", MB_SECRET, url, b"", now=MB_AT)


def test_gsm7_lengths_and_parts():
    assert gsm7_length("Hello") == 5 and gsm7_length("€") == 2 and gsm7_length("Zoë") is None
    assert sms_parts("a" * 160) == 1 and sms_parts("a" * 161) == 2 and sms_parts("a" * 306) == 2
    assert sms_parts("ë" * 70) == 1 and sms_parts("ë" * 71) == 2  # UCS-2: 70, then 67 per part
    assert to_gsm7("“Zoë’s” café – 5 min…") == '"Zoe\'s" café - 5 min...'
    for text in ("Hello", "€ [x]", "Zoë"):
        assert gsm7_length(text) == septets(text)  # our count equals the test's independent count


def test_phone_numbers_are_read_as_people_write_them():
    assert normalise_phone("06 12 34 56 78") == "+31612345678"
    assert normalise_phone("+31 (0)6-12345678".replace("(0)", "")) == "+31612345678"
    assert normalise_phone("0031612345678") == "+31612345678"
    assert normalise_phone("0612345678", default_country="32") == "+32612345678"
    assert normalise_phone("12") is None and normalise_phone("") is None and normalise_phone("call me") is None


def test_errors_never_carry_phone_numbers():
    assert "612345678" not in str(MessageNotSent("The 'To' number +31612345678 is not a valid phone number"))
    assert scrub("number 31 6 12345678 and code 21211") == "number [number] and code 21211"


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", ["invitation", "reminder"])
@pytest.mark.parametrize("base", ["http://survey.test", "https://feedback.glasvezelnoord.nl",
                                  "https://klanttevredenheid.woningcorporatie-noordoost-nederland.example"])
def test_every_text_fits_one_sms_with_its_link_and_stop(language, kind, base):
    url = f"{base}/s/{'A' * 22}"
    text = compose_sms(kind, language, "Woningstichting Zoë’s Thuis en Omstreken", url)
    assert url in text and "STOP" in text
    assert septets(text) is not None and septets(text) <= 160, (septets(text), text)


def test_a_link_too_long_for_one_sms_is_refused_with_a_reason():
    with pytest.raises(MessageNotSent) as refused:
        compose_sms("invitation", "nl", "X", "https://" + "a" * 150 + "/s/" + "A" * 22)
    assert refused.value.permanent and "SERVICEPULSE_BASE_URL" in str(refused.value)


def test_callback_queries_with_phone_numbers_never_reach_the_access_log():
    from servicepulse.http.access_log import redact_path

    line = "GET /api/v1/messaging/messagebird/status?id=ab12&recipient=31612345678&status=delivered HTTP/1.1"
    assert "612345678" not in redact_path(line) and "/api/v1/messaging/messagebird/status?" in redact_path(line)


def test_a_provider_without_its_credentials_is_a_plain_configuration_error():
    from servicepulse.errors import ConfigurationError
    from servicepulse.invitations.texting import available_channels, providers
    from servicepulse.settings import Settings

    assert available_channels(Settings(sms_provider="")) == ["email"]
    with pytest.raises(ConfigurationError) as missing:
        providers(Settings(sms_provider="twilio", sms_sender="Glasvezel", twilio_account_sid="AC1"))
    assert str(missing.value) == "text messages are switched on but SERVICEPULSE_TWILIO_AUTH_TOKEN is not set"
    complete = Settings(sms_provider="messagebird", sms_sender="Glasvezel", messagebird_access_key="live-key-123",
                        messagebird_signing_key="signing-key-456", invitation_channels="sms, email")
    assert available_channels(complete) == ["sms", "email"]
    shown = repr(providers(complete)["sms"]) + repr(complete)
    assert "live-key-123" not in shown and "signing-key-456" not in shown
