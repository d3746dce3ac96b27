"""Mail leaves over verified TLS unless plain SMTP is asked for: real aiosmtpd servers on loopback with a
certificate authority and server certificates made in the test (cryptography), no mocks."""

from __future__ import annotations

import datetime as dt
import email.policy
import ipaddress
import logging
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from servicepulse.cli.demo_command import _plain_mail_to_a_local_catcher
from servicepulse.errors import ConfigurationError
from servicepulse.jobs.registry import RetryLater
from servicepulse.notify.mail import MailNotSent, SmtpConfig, send_message, send_or_retry
from servicepulse.settings import Settings, get_settings

from ..invitations.support import free_port

USER = "mailer@glasvezelnoord.example"
PASSWORD = "Tr0ub4dor&3-never-in-a-log"


@pytest.fixture(autouse=True)
def _fresh_settings():
    """The tests set SERVICEPULSE_SMTP_* (monkeypatch undoes that); the cached settings must not outlive them."""
    yield
    get_settings.cache_clear()


# --- certificates ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pki:
    ca_file: Path  # the test's certificate authority (PEM), to trust through SERVICEPULSE_SMTP_CA_FILE
    server: ssl.SSLContext  # a server certificate for 127.0.0.1 and localhost, signed by that CA
    localhost_only: ssl.SSLContext  # a certificate that does not name 127.0.0.1


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, names=()):
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _server_context(folder: Path, stem: str, ca_cert, ca_key, names) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(_name(stem), ca_cert.subject, key.public_key(), ca_key, ca=False, names=names)
    cert_file, key_file = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate(_name("servicepulse test CA"), _name("servicepulse test CA"), ca_key.public_key(), ca_key,
                           ca=True)
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    loopback = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    return Pki(ca_file, _server_context(folder, "server", ca_cert, ca_key, loopback),
               _server_context(folder, "localhost-only", ca_cert, ca_key, [x509.DNSName("localhost")]))


# --- servers --------------------------------------------------------------------------------------

class Inbox:
    """Keeps each message with whether it came over TLS and who logged in."""

    def __init__(self):
        self.messages: list[tuple[EmailMessage, bool, str | None]] = []
        self.logins: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        encrypted = server.transport.get_extra_info("cipher") is not None
        with self.lock:
            self.messages.append((message, encrypted, session.auth_data.login.decode() if session.auth_data else None))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((mechanism, auth_data.login.decode(), auth_data.password.decode()))
        ok = (auth_data.login.decode(), auth_data.password.decode()) == (USER, PASSWORD)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def serve():
    """serve(**aiosmtpd options) -> (port, inbox); every server stops after the test."""
    running = []

    def start(**options):
        inbox = Inbox()
        if options.pop("auth", False):
            options["authenticator"] = inbox.authenticate
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        running.append(controller)
        return port, inbox

    yield start
    for controller in running:
        controller.stop()


def _message() -> EmailMessage:
    message = EmailMessage()
    message["To"] = "klant@example.nl"
    message["Subject"] = "Hoe was uw contact met ons?"
    message.set_content("Fijn dat u even de tijd neemt.")
    return message


def _config(monkeypatch, port: int, **env: str) -> SmtpConfig:
    """The configuration as the job handlers build it: from the environment through the settings."""
    monkeypatch.setenv("SERVICEPULSE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SERVICEPULSE_SMTP_PORT", str(port))
    for name, value in env.items():
        monkeypatch.setenv(f"SERVICEPULSE_SMTP_{name.upper()}", value)
    get_settings.cache_clear()
    return SmtpConfig.from_settings(get_settings())


# --- the tests ------------------------------------------------------------------------------------

def test_starttls_is_the_default_and_a_certificate_from_an_unknown_ca_is_refused(monkeypatch, serve, pki):
    port, inbox = serve(tls_context=pki.server)
    config = _config(monkeypatch, port)
    assert config.security == "starttls"
    with pytest.raises(MailNotSent, match="certificate of the mail server at 127.0.0.1:.* cannot be verified"
                                          ".*SERVICEPULSE_SMTP_CA_FILE"):
        send_message(_message(), config)
    assert inbox.messages == []


def test_starttls_delivers_over_tls_when_the_ca_is_trusted_through_the_setting(monkeypatch, serve, pki):
    port, inbox = serve(tls_context=pki.server)
    send_message(_message(), _config(monkeypatch, port, ca_file=str(pki.ca_file)))
    [(message, encrypted, _)] = inbox.messages
    assert encrypted and message["Subject"] == "Hoe was uw contact met ons?"


def test_a_certificate_for_another_host_name_is_refused_even_from_a_trusted_ca(monkeypatch, serve, pki):
    port, inbox = serve(tls_context=pki.localhost_only)  # we connect to 127.0.0.1, which it does not name
    with pytest.raises(MailNotSent, match="cannot be verified"):
        send_message(_message(), _config(monkeypatch, port, ca_file=str(pki.ca_file)))
    assert inbox.messages == []


def test_a_server_without_starttls_gets_no_mail_in_plain_text(monkeypatch, serve, pki):
    port, inbox = serve()  # plain SMTP only
    with pytest.raises(MailNotSent, match="does not offer STARTTLS.*SERVICEPULSE_SMTP_SECURITY"):
        send_message(_message(), _config(monkeypatch, port, ca_file=str(pki.ca_file)))
    assert inbox.messages == []


def test_plain_smtp_only_when_asked_for(monkeypatch, serve):
    port, inbox = serve()
    send_message(_message(), _config(monkeypatch, port, security="none"))
    [(_, encrypted, _)] = inbox.messages
    assert not encrypted


def test_smtps_speaks_tls_from_the_first_byte(monkeypatch, serve, pki):
    port, inbox = serve(ssl_context=pki.server)
    with pytest.raises(MailNotSent, match="cannot be verified"):
        send_message(_message(), _config(monkeypatch, port, security="smtps"))
    send_message(_message(), _config(monkeypatch, port, security="smtps", ca_file=str(pki.ca_file)))
    [(_, encrypted, _)] = inbox.messages
    assert encrypted


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_login_with_username_and_password_after_starttls(monkeypatch, serve, pki, mechanism):
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    port, inbox = serve(tls_context=pki.server, auth=True, auth_required=True, auth_exclude_mechanism=[other])
    send_message(_message(), _config(monkeypatch, port, ca_file=str(pki.ca_file), username=USER, password=PASSWORD))
    assert inbox.logins == [(mechanism, USER, PASSWORD)]
    [(_, encrypted, login)] = inbox.messages
    assert encrypted and login == USER


def test_the_password_appears_in_no_error_log_or_repr(monkeypatch, serve, pki, caplog):
    caplog.set_level(logging.DEBUG)
    port, inbox = serve(tls_context=pki.server, auth=True, auth_required=True)
    wrong = "Wr0ng-" + PASSWORD
    config = _config(monkeypatch, port, ca_file=str(pki.ca_file), username=USER, password=wrong)
    with pytest.raises(RetryLater) as failed:  # as a job handler sends it: the error becomes the job's last_error
        send_or_retry(_message(), config)
    # the server did see it (smtplib tries each mechanism the server offers)
    assert {(user, password) for _, user, password in inbox.logins} == {(USER, wrong)} and inbox.messages == []
    assert "refused the login of 'mailer@glasvezelnoord.example'" in str(failed.value)
    shown = [str(failed.value), repr(failed.value), repr(config), repr(get_settings()), str(get_settings()),
             get_settings().model_dump_json(), caplog.text]
    assert not [text for text in shown if wrong in text]
    # a server that does not speak AUTH: the error names the problem, not the password
    port, _ = serve(tls_context=pki.server, auth_exclude_mechanism=["LOGIN", "PLAIN"])
    with pytest.raises(MailNotSent) as unsupported:
        send_message(_message(), _config(monkeypatch, port, ca_file=str(pki.ca_file), username=USER, password=wrong))
    assert "cannot log in to the mail server at 127.0.0.1" in str(unsupported.value)
    assert wrong not in str(unsupported.value)


def test_an_unknown_security_setting_is_named_in_one_line(monkeypatch):
    monkeypatch.setenv("SERVICEPULSE_SMTP_SECURITY", "tls")
    with pytest.raises(ConfigurationError, match="SERVICEPULSE_SMTP_SECURITY must be one of starttls, smtps, none"):
        Settings()


def test_a_missing_ca_file_is_named(monkeypatch, serve, pki, tmp_path):
    port, inbox = serve(tls_context=pki.server)
    with pytest.raises(MailNotSent, match="cannot read SERVICEPULSE_SMTP_CA_FILE"):
        send_message(_message(), _config(monkeypatch, port, ca_file=str(tmp_path / "missing.pem")))
    assert inbox.messages == []


def test_the_demo_server_sends_plain_smtp_only_without_mail_settings_of_the_user(monkeypatch):
    for name in ("SERVICEPULSE_SMTP_HOST", "SERVICEPULSE_SMTP_SECURITY"):
        monkeypatch.setenv(name, "x")  # so that monkeypatch removes what the demo sets
        monkeypatch.delenv(name)
    _plain_mail_to_a_local_catcher()
    assert get_settings().smtp_security == "none" and get_settings().smtp_host == "127.0.0.1"
    monkeypatch.delenv("SERVICEPULSE_SMTP_SECURITY")
    monkeypatch.setenv("SERVICEPULSE_SMTP_HOST", "smtp.glasvezelnoord.example")  # the user's own server
    _plain_mail_to_a_local_catcher()
    get_settings.cache_clear()
    assert get_settings().smtp_security == "starttls"
