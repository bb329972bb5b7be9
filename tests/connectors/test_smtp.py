"""SmtpTransport against real SMTP servers (aiosmtpd in-process, on a free port)."""

from __future__ import annotations

import email
import ipaddress
import ssl
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.mail import Outcome, OutgoingMail, Receipt
from connectors.smtp import LOST_AFTER_DATA, SmtpConnectError, SmtpTransport
from tests.smtp_server import Recorder, Serve, free_port

# Test passwords with characters a URL must escape; smtplib's own login takes only ASCII.
PASSWORD = "p@ss:w%rd/é"
PASSWORD_IN_URL = "p%40ss%3Aw%25rd%2F%C3%A9"
ASCII_PASSWORD = "p@ss:w%rd"
ASCII_PASSWORD_IN_URL = "p%40ss%3Aw%25rd"


def make_mail(key: int, recipient: str | None = None) -> OutgoingMail:
    """A message with lines that need dot-stuffing (one is a lone dot) and an 8-bit body."""
    recipient = recipient or f"alum{key}@example.org"
    data = (
        "From: Alumni Office <officer@alumni.test>\r\n"
        f"To: <{recipient}>\r\n"
        f"Subject: Class of 2015 reunion ({key})\r\n"
        f"Message-ID: <d-{key}@alumni.test>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"Dear alum {key},\r\n"
        ".a line that starts with a dot\r\n"
        "..and one with two\r\n"
        ".\r\n"
        "See you on campus, à bientôt.\r\n"
    ).encode()
    return OutgoingMail(key, f"officer+b-{key}@alumni.test", recipient, data)


class Receipts:
    """A thread-safe on_receipt callback that keeps every receipt."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[Receipt] = []

    def __call__(self, receipt: Receipt) -> None:
        with self._lock:
            self.items.append(receipt)

    def by_key(self) -> dict[int, Receipt]:
        keys = [receipt.key for receipt in self.items]
        assert len(keys) == len(set(keys)), f"a key got more than one receipt: {keys}"
        return {receipt.key: receipt for receipt in self.items}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def check_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) in {
        (b"officer", PASSWORD.encode()),
        (b"officer", ASCII_PASSWORD.encode()),
    }
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def transport_for(controller: Controller, *, connections: int = 1, **kwargs: Any) -> SmtpTransport:
    return SmtpTransport.from_url(
        f"smtp://127.0.0.1:{controller.port}?tls=none",
        connections=connections,
        timeout=5,
        **kwargs,
    )


@pytest.fixture(autouse=True, params=["pipelining", "one command at a time"])
def pipelining(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Every test runs against a server that offers PIPELINING and one that does not."""
    offered = request.param == "pipelining"
    monkeypatch.setattr(Recorder, "pipelining", offered)
    return offered


def test_messages_arrive_intact_over_parallel_connections(serve: Serve) -> None:
    handler = Recorder()
    handler.hold_until_connections = 2
    controller = serve(handler)
    mails = [make_mail(key) for key in range(1, 25)]
    receipts = Receipts()
    with transport_for(controller, connections=4) as transport:
        transport.send(mails, receipts)

    by_key = receipts.by_key()
    assert sorted(by_key) == [mail.key for mail in mails]
    assert {(r.outcome, r.code) for r in by_key.values()} == {(Outcome.SENT, 250)}
    assert len(handler.peers) > 1
    assert len(handler.received) == len(mails)
    received = {message.rcpt_tos: message for message in handler.received}
    for mail in mails:
        message = received[(mail.recipient,)]
        assert message.mail_from == mail.envelope_from
        assert message.content == mail.data
        assert "BODY=8BITMIME" in message.mail_options
        parsed = email.message_from_bytes(message.content)
        assert parsed["Message-ID"] == f"<d-{mail.key}@alumni.test>"


def test_connections_are_reused_across_sends_and_closed_with_quit(serve: Serve) -> None:
    handler = Recorder()
    handler.hold_until_connections = 2
    controller = serve(handler)
    with transport_for(controller, connections=2) as transport:
        transport.send([make_mail(key) for key in range(1, 9)], Receipts())
        assert len(handler.peers) == 2
        transport.send([make_mail(key) for key in range(9, 17)], Receipts())
        transport.close()
        assert handler.quits == 2

    assert len(handler.received) == 16
    assert len(handler.peers) == 2


@pytest.mark.parametrize("password", [PASSWORD_IN_URL, ASCII_PASSWORD_IN_URL])
def test_login_over_plain_connection_with_percent_encoded_password(
    serve: Serve, password: str
) -> None:
    handler = Recorder()
    controller = serve(handler, authenticator=check_login, auth_require_tls=False)
    url = f"smtp://officer:{password}@127.0.0.1:{controller.port}?tls=none"
    receipts = Receipts()
    with SmtpTransport.from_url(url, connections=2, timeout=5) as transport:
        assert transport.check() == "mx.test"
        transport.send([make_mail(key) for key in range(1, 5)], receipts)

    assert {r.outcome for r in receipts.items} == {Outcome.SENT}
    assert [message.login for message in handler.received] == [b"officer"] * 4


def test_refused_login_names_the_server_and_never_the_password(serve: Serve) -> None:
    handler = Recorder()
    controller = serve(handler, authenticator=check_login, auth_require_tls=False)
    wrong = "wrong%40secret"
    transport = SmtpTransport.from_url(
        f"smtp://officer:{wrong}@127.0.0.1:{controller.port}?tls=none", timeout=5
    )
    with pytest.raises(SmtpConnectError) as refused:
        transport.check()
    assert f"127.0.0.1:{controller.port}" in str(refused.value)
    assert "refused the login as 'officer'" in str(refused.value)

    # A login that cannot work stops the send at once: no receipt puts the mail on a retry timer.
    receipts = Receipts()
    with pytest.raises(SmtpConnectError, match="refused the login") as stopped:
        transport.send([make_mail(1), make_mail(2)], receipts)
    assert receipts.items == []
    for text in (str(refused.value), str(stopped.value), repr(transport)):
        assert "wrong" not in text
        assert "secret" not in text
    assert handler.received == []


def test_refusals_are_classified_per_recipient(serve: Serve) -> None:
    handler = Recorder()
    handler.rcpt_replies["greylisted@example.org"] = "451 4.7.1 Greylisted, try again later"
    handler.rcpt_replies["gone@example.org"] = (
        "550 5.1.1 <gone@example.org>: Recipient address rejected"
    )
    handler.data_replies["spammy@example.org"] = "554 5.6.0 Message content rejected"
    handler.data_replies["full@example.org"] = "452 4.2.2 Mailbox full"
    controller = serve(handler)
    recipients = [
        "first@example.org",
        "greylisted@example.org",
        "gone@example.org",
        "spammy@example.org",
        "full@example.org",
        "last@example.org",
    ]
    receipts = Receipts()
    with transport_for(controller, connections=1) as transport:
        transport.send([make_mail(i, r) for i, r in enumerate(recipients)], receipts)

    by_key = receipts.by_key()
    greylisted, gone, spammy, full = by_key[1], by_key[2], by_key[3], by_key[4]
    assert (greylisted.outcome, greylisted.code) == (Outcome.TRANSIENT, 451)
    assert greylisted.enhanced_status == "4.7.1"
    assert (gone.outcome, gone.code, gone.enhanced_status) == (Outcome.PERMANENT, 550, "5.1.1")
    assert gone.reply == "550 5.1.1 <gone@example.org>: Recipient address rejected"
    assert (spammy.outcome, spammy.enhanced_status) == (Outcome.PERMANENT, "5.6.0")
    assert (full.outcome, full.code) == (Outcome.TRANSIENT, 452)
    assert by_key[0].outcome is by_key[5].outcome is Outcome.SENT
    assert [m.rcpt_tos for m in handler.received] == [("first@example.org",), ("last@example.org",)]
    assert len(handler.peers) == 1  # RSET after each refusal kept the connection usable


def test_drop_before_data_resends_once_on_a_new_connection(serve: Serve) -> None:
    handler = Recorder()
    handler.drops["alum3@example.org", "rcpt"] = 1
    controller = serve(handler)
    receipts = Receipts()
    with transport_for(controller, connections=1) as transport:
        transport.send([make_mail(key) for key in range(1, 7)], receipts)

    assert {r.outcome for r in receipts.by_key().values()} == {Outcome.SENT}
    assert all(handler.count(f"alum{key}@example.org") == 1 for key in range(1, 7))
    assert len(handler.peers) == 2


def test_drop_twice_before_data_gives_up_on_that_message_only(serve: Serve) -> None:
    handler = Recorder()
    handler.drops["alum3@example.org", "rcpt"] = 2
    controller = serve(handler)
    receipts = Receipts()
    with transport_for(controller, connections=1) as transport:
        transport.send([make_mail(key) for key in range(1, 7)], receipts)

    by_key = receipts.by_key()
    assert by_key[3].outcome is Outcome.TRANSIENT
    assert by_key[3].reply.startswith("connection lost twice")
    assert not by_key[3].in_doubt
    assert handler.count("alum3@example.org") == 0
    for key in (1, 2, 4, 5, 6):
        assert by_key[key].outcome is Outcome.SENT
        assert handler.count(f"alum{key}@example.org") == 1


def test_drop_after_data_is_in_doubt_and_never_resent(serve: Serve) -> None:
    handler = Recorder()
    handler.drops["alum2@example.org", "data"] = 1
    handler.drops["alum5@example.org", "data"] = 1
    controller = serve(handler)
    receipts = Receipts()
    with transport_for(controller, connections=2) as transport:
        transport.send([make_mail(key) for key in range(1, 9)], receipts)

    by_key = receipts.by_key()
    for key in (2, 5):
        assert by_key[key] == Receipt(key, Outcome.TRANSIENT, None, LOST_AFTER_DATA, in_doubt=True)
    assert all(by_key[key].outcome is Outcome.SENT for key in (1, 3, 4, 6, 7, 8))
    # The server did take the in-doubt messages, once: the transport must not send them again.
    assert all(handler.count(f"alum{key}@example.org") == 1 for key in range(1, 9))


def test_421_before_data_is_retried_once_on_a_new_connection(serve: Serve) -> None:
    handler = Recorder()
    handler.closing["alum2@example.org"] = 1
    handler.closing["alum4@example.org"] = 2
    controller = serve(handler)
    receipts = Receipts()
    with transport_for(controller, connections=1) as transport:
        transport.send([make_mail(key) for key in range(1, 6)], receipts)

    by_key = receipts.by_key()
    assert [by_key[key].outcome for key in (1, 2, 3, 5)] == [Outcome.SENT] * 4
    assert (by_key[4].outcome, by_key[4].code) == (Outcome.TRANSIENT, 421)
    assert [handler.count(f"alum{key}@example.org") for key in range(1, 6)] == [1, 1, 1, 0, 1]
    assert len(handler.peers) == 4  # the first, one after each 421


def test_pooled_connection_closed_while_idle_is_reopened(serve: Serve) -> None:
    handler = Recorder()
    controller = serve(handler)
    port = controller.port
    transport = transport_for(controller, connections=1)
    transport.send([make_mail(1)], Receipts())
    controller.stop()  # closes the pooled connection from the server's side
    serve(handler, port=port)
    receipts = Receipts()
    transport.send([make_mail(2), make_mail(3)], receipts)
    transport.close()

    assert {r.outcome for r in receipts.items} == {Outcome.SENT}
    assert [handler.count(f"alum{key}@example.org") for key in (1, 2, 3)] == [1, 1, 1]
    assert len(handler.peers) == 2


def test_unreachable_server_stops_the_send_saying_where() -> None:
    port = free_port()  # nothing listens there
    transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{port}?tls=none", timeout=5)
    receipts = Receipts()
    with pytest.raises(SmtpConnectError, match=f"SMTP server 127.0.0.1:{port}"):
        transport.send([make_mail(key) for key in range(1, 6)], receipts)
    assert receipts.items == []
    with pytest.raises(SmtpConnectError, match=f"cannot talk to SMTP server 127.0.0.1:{port}"):
        transport.check()


def test_a_failing_callback_stops_the_send_and_is_raised(serve: Serve) -> None:
    handler = Recorder()
    controller = serve(handler)
    seen: list[int] = []

    def mark(receipt: Receipt) -> None:
        seen.append(receipt.key)
        if len(seen) == 3:
            raise RuntimeError("database is locked")

    with (
        transport_for(controller, connections=1) as transport,
        pytest.raises(RuntimeError, match="database is locked"),
    ):
        transport.send([make_mail(key) for key in range(1, 11)], mark)
    assert seen == [1, 2, 3]
    assert len(handler.received) == 3


def test_unsafe_and_non_ascii_addresses(serve: Serve) -> None:
    handler = Recorder()
    plain = serve(handler, enable_SMTPUTF8=False)
    utf8 = serve(handler, enable_SMTPUTF8=True)
    mails = [
        make_mail(1, "evil@example.org>\r\nRCPT TO:<victim@example.org"),
        make_mail(2, "jürgen@example.org"),
    ]
    receipts = Receipts()
    with transport_for(plain) as transport:
        transport.send(mails, receipts)
    by_key = receipts.by_key()
    assert by_key[1].outcome is by_key[2].outcome is Outcome.PERMANENT
    assert "line break" in by_key[1].reply
    assert "SMTPUTF8" in by_key[2].reply
    assert handler.received == []

    receipts = Receipts()
    with transport_for(utf8) as transport:
        transport.send([make_mail(2, "jürgen@example.org")], receipts)
    assert receipts.items[0].outcome is Outcome.SENT
    assert handler.received[0].rcpt_tos == ("jürgen@example.org",)
    assert "SMTPUTF8" in handler.received[0].mail_options


def test_starttls_with_a_self_signed_certificate(
    serve: Serve, certificate: tuple[Path, Path]
) -> None:
    handler = Recorder()
    controller = serve(
        handler,
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=check_login,
    )
    url = f"smtp://officer:{PASSWORD_IN_URL}@127.0.0.1:{controller.port}?tls=starttls"
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    receipts = Receipts()
    with SmtpTransport.from_url(url, ssl_context=trusting, timeout=5) as transport:
        transport.send([make_mail(1), make_mail(2)], receipts)
    assert {r.outcome for r in receipts.items} == {Outcome.SENT}
    assert [(m.tls, m.login) for m in handler.received] == [(True, b"officer")] * 2

    # The system's CAs do not know this certificate: refuse rather than send in the clear.
    with pytest.raises(SmtpConnectError, match=r"TLS with SMTP server .* failed.*certificate"):
        SmtpTransport.from_url(url, timeout=5).check()


def test_starttls_required_but_not_offered_stops_the_send_and_never_falls_back(
    serve: Serve,
) -> None:
    handler = Recorder()
    controller = serve(handler, authenticator=check_login, auth_require_tls=False)
    url = f"smtp://officer:{ASCII_PASSWORD_IN_URL}@127.0.0.1:{controller.port}?tls=starttls"
    transport = SmtpTransport.from_url(url, connections=2, timeout=5)
    with pytest.raises(SmtpConnectError, match="does not offer STARTTLS"):
        transport.check()

    receipts = Receipts()
    with pytest.raises(SmtpConnectError, match="does not offer STARTTLS, so nothing was sent"):
        transport.send([make_mail(key) for key in range(1, 6)], receipts)
    assert receipts.items == []  # no receipt: nothing waits on a retry timer
    assert handler.peers == set()  # no MAIL FROM on any connection: no plain-text fallback
    assert handler.received == []


def test_a_loopback_relay_without_starttls_works_with_no_flags(serve: Serve) -> None:
    """The office's own Postfix on 127.0.0.1 often offers no STARTTLS: `smtp://host:port` works."""
    handler = Recorder()
    controller = serve(handler)
    receipts = Receipts()
    with SmtpTransport.from_url(f"smtp://127.0.0.1:{controller.port}", timeout=5) as transport:
        assert transport.tls == "none"
        transport.send([make_mail(1)], receipts)
    assert receipts.items[0].outcome is Outcome.SENT
    assert not handler.received[0].tls


def test_a_login_to_a_loopback_relay_may_go_without_tls(serve: Serve) -> None:
    handler = Recorder()
    controller = serve(handler, authenticator=check_login, auth_require_tls=False)
    url = f"smtp://officer:{ASCII_PASSWORD_IN_URL}@localhost:{controller.port}"
    receipts = Receipts()
    with SmtpTransport.from_url(url, timeout=5) as transport:
        transport.send([make_mail(1)], receipts)
    assert receipts.items[0].outcome is Outcome.SENT
    assert [(m.tls, m.login) for m in handler.received] == [(False, b"officer")]


@pytest.mark.parametrize(
    "url",
    [
        "smtp://officer:hunter2@relay.example.edu?tls=none",
        "smtp://officer:hunter2@relay.example.edu:25?tls=none",
        "smtp://officer:hunter2@10.0.0.5:2525?tls=none",
        "smtp://officer:hunter2@[2001:db8::25]?tls=none",
        "smtp://officer:hunter2@127.0.0.1.example.edu?tls=none",
    ],
)
def test_a_plain_text_login_to_another_host_is_refused_naming_the_fix(url: str) -> None:
    with pytest.raises(ValueError, match="would send the password unencrypted") as refused:
        SmtpTransport.from_url(url)
    assert "use ?tls=starttls (port 587) or smtps:// (port 465)" in str(refused.value)
    assert "hunter2" not in str(refused.value)
    with pytest.raises(ValueError, match="unencrypted"):
        SmtpTransport("relay.example.edu", tls="none", username="officer", password="hunter2")


def test_implicit_tls(serve: Serve, certificate: tuple[Path, Path]) -> None:
    handler = Recorder()
    controller = serve(handler, ssl_context=server_tls(certificate))
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    receipts = Receipts()
    url = f"smtps://127.0.0.1:{controller.port}"
    with SmtpTransport.from_url(url, ssl_context=trusting, timeout=5) as transport:
        transport.send([make_mail(1)], receipts)
    assert receipts.items[0].outcome is Outcome.SENT
    assert handler.received[0].tls


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example.edu", ("relay.example.edu", 587, "starttls", None)),
        ("smtp://relay.example.edu:2525?tls=none", ("relay.example.edu", 2525, "none", None)),
        ("smtp://relay.example.edu?tls=none", ("relay.example.edu", 25, "none", None)),
        ("smtp://Relay.Example.EDU?tls=ssl", ("relay.example.edu", 465, "ssl", None)),
        ("smtps://u%40school:pw@relay.example.edu", ("relay.example.edu", 465, "ssl", "u@school")),
        ("smtp://officer:x@[::1]:25", ("::1", 25, "none", "officer")),
        ("smtp://127.0.0.1", ("127.0.0.1", 25, "none", None)),
        ("smtp://officer:x@localhost", ("localhost", 25, "none", "officer")),
        ("smtp://localhost?tls=starttls", ("localhost", 587, "starttls", None)),
        ("smtp://relay.example.edu:25", ("relay.example.edu", 25, "starttls", None)),
        ("smtp://officer:x@relay.example.edu", ("relay.example.edu", 587, "starttls", "officer")),
    ],
)
def test_url_parsing(url: str, expected: tuple[str, int, str, str | None]) -> None:
    transport = SmtpTransport.from_url(url)
    assert (transport.host, transport.port, transport.tls, transport.username) == expected


def test_url_password_is_decoded_and_never_shown() -> None:
    transport = SmtpTransport.from_url(f"smtp://officer:{PASSWORD_IN_URL}@relay.example.edu")
    assert transport._password == PASSWORD
    assert "w%rd" not in repr(transport)
    assert "password='***'" in repr(transport)


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("http://officer:hunter2@relay.example.edu", "scheme 'http'"),
        ("smtp://officer:hunter2@:25", "no host"),
        ("smtp://officer:hunter2@relay.example.edu:port", "port"),
        ("smtp://officer:hunter2@relay.example.edu:99999", "port"),
        ("smtp://officer:hunter2@relay.example.edu?tls=yes", "tls='yes'"),
        ("smtp://officer:hunter2@relay.example.edu?verify=0", "parameter 'verify'"),
        ("smtps://officer:hunter2@relay.example.edu?tls=none", "smtps:// means tls=ssl"),
        ("smtp://officer:hunter2@relay.example.edu/inbox", "path"),
        ("smtp://:hunter2@relay.example.edu", "no user name"),
        ("smtp://officer@relay.example.edu", "no password"),
    ],
)
def test_bad_urls_name_the_part_and_hide_the_password(url: str, names: str) -> None:
    with pytest.raises(ValueError, match="SMTP") as error:
        SmtpTransport.from_url(url)
    assert names in str(error.value)
    assert "hunter2" not in str(error.value)
