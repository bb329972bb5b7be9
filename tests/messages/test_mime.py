"""Messages from the skeleton, read back by the ``email`` package's parser (and dkimpy)."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import re
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from alumni.messages.mime import (
    DkimKey,
    HeaderInjectionError,
    InvalidAddressError,
    InvalidHeaderError,
    MessageError,
    MessageSkeleton,
    MimePart,
    Sender,
    _LineCache,
    _quoted_printable,
    make_message_id,
    parse_verp,
    verp_address,
)

DOMAIN = "alumni.example.edu"
LIST_ID = "class-2010.alumni.example.edu"
UNSUBSCRIBE_URL = (
    "https://alumni.example.edu/u/MTIzNDU2.kx3f9a.Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy"
)
UNSUBSCRIBE_ADDRESS = "unsubscribe@alumni.example.edu"
SHORT_URL = "https://alumni.example.edu/u/x"
WHEN = datetime(2025, 5, 1, 9, 30, 15, tzinfo=UTC)
TEXT = "Dear Maria,\n\nthe class of 2010 meets again.\n"
HTML = "<p>Dear Maria,</p>\n<p>the class of 2010 meets again.</p>\n"
CALENDAR = (
    "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Reunion \u2013 15 years\r\nEND:VCALENDAR\r\n"
)
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 20
STANDARD_HEADERS = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Id",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
]
# What a reader may take as the end of a header line, besides CRLF itself.
LINE_BREAKERS = ["\r\n", "\n", "\r", "\x00", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"]


def skeleton(**overrides: Any) -> MessageSkeleton:
    arguments: dict[str, Any] = {
        "sender": Sender("alumni@example.edu", "Alumni Office"),
        "list_id": LIST_ID,
        "list_name": "Class of 2010",
    }
    arguments.update(overrides)
    return MessageSkeleton(**arguments)


def recipient(**overrides: Any) -> dict[str, Any]:
    """What ``prepare`` takes for one message (``build`` takes a date too)."""
    arguments: dict[str, Any] = {
        "to_address": "maria.silva@example.org",
        "to_name": "Maria Silva",
        "subject": "The class of 2010 meets again",
        "text": TEXT,
        "html": HTML,
        "message_id": make_message_id("delivery-1", DOMAIN),
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "unsubscribe_mailto": UNSUBSCRIBE_ADDRESS,
    }
    arguments.update(overrides)
    return arguments


def build(maker: MessageSkeleton | None = None, /, **overrides: Any) -> bytes:
    return (maker or skeleton()).build(**recipient(**{"date": WHEN, **overrides}))


def check_wire(data: bytes, *, header_lines: int = 998) -> None:
    """CRLF only, 7-bit, no line over 998, header lines within ``header_limit``, body lines
    within 76 and no line starting 'From ' (which mbox writers would change)."""
    assert data.isascii()
    end_of_head = data.index(b"\r\n\r\n")
    head, body = data[:end_of_head].split(b"\r\n"), data[end_of_head + 4 :].split(b"\r\n")
    assert body[-1] == b""
    for line in head + body:
        assert b"\r" not in line and b"\n" not in line
        assert not line.startswith(b"From ")
    assert max(map(len, head)) <= min(header_lines, 998)
    assert max(map(len, body)) <= 76


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    for part in message.walk():
        assert not part.defects, part.defects
    return message


def raw_header(data: bytes, name: str) -> str:
    """Return one header's raw value, unfolded (CRLF removed, the folding space kept)."""
    head = data[: data.index(b"\r\n\r\n")].decode("ascii")
    found = re.search(rf"^{name}: (.*?)\r\n(?! )", head + "\r\n", re.M | re.S | re.I)
    assert found is not None, name
    return found.group(1).replace("\r\n", "")


def rfc2047_phrase(data: bytes, name: str) -> str:
    """Decode a display name as RFC 2047 says (Python's address parser keeps the whitespace
    between adjacent encoded-words, so for names split over several words it adds spaces that
    Thunderbird, Gmail and Apple Mail drop; EmailMessage's own output shows the same)."""
    value = raw_header(data, name)
    phrase = value[: value.rindex(" <")]
    if phrase.startswith('"'):
        return re.sub(r"\\(.)", r"\1", phrase[1:-1])
    return str(make_header(decode_header(phrase)))


def text_of(part: EmailMessage) -> str:
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def leaves(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if not part.is_multipart()]


def test_every_header_reads_back() -> None:
    maker = skeleton(reply_to="office@example.edu")
    message_id = make_message_id("delivery-7", DOMAIN)
    data = build(maker, message_id=message_id)
    check_wire(data)
    message = parse(data)

    assert list(message.keys()) == [*STANDARD_HEADERS[:6], "Reply-To", *STANDARD_HEADERS[6:]]
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Alumni Office", "alumni@example.edu")
    recipient = message["To"].addresses[0]
    assert (recipient.display_name, recipient.addr_spec) == (
        "Maria Silva",
        "maria.silva@example.org",
    )
    assert message["Subject"] == "The class of 2010 meets again"
    assert message["Date"].datetime == WHEN
    assert message["Message-ID"] == message_id
    assert message["MIME-Version"] == "1.0"
    assert message["Reply-To"].addresses[0].addr_spec == "office@example.edu"
    assert message["List-Id"] == f"Class of 2010 <{LIST_ID}>"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE_URL}>, <mailto:{UNSUBSCRIBE_ADDRESS}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = leaves(message)
    assert (plain.get_content_type(), plain.get_content_charset()) == ("text/plain", "utf-8")
    assert (html.get_content_type(), html.get_content_charset()) == ("text/html", "utf-8")
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert (text_of(plain), text_of(html)) == (TEXT, HTML)


def test_without_reply_to_or_names_the_optional_parts_are_left_out() -> None:
    maker = skeleton(sender=Sender("alumni@example.edu", ""), list_name="")
    data = build(maker, to_name="")
    check_wire(data)
    message = parse(data)
    assert list(message.keys()) == STANDARD_HEADERS
    assert raw_header(data, "From") == "alumni@example.edu"
    assert raw_header(data, "To") == "maria.silva@example.org"
    assert message["List-Id"] == f"<{LIST_ID}>"


NAMES = [
    "Maria Silva",
    "Silva, Maria",
    'Maria "Mia" Silva',
    "maria@home.example",
    "O'Brien <the third>",
    "Dr. J. R. Smith; Jr.",
    "back\\slash (and comment)",
    "José Müller",
    "王小明",
    "Zoë 🎓 Ngũgĩ",
    "=?utf-8?b?QmNjOiBldmlsQGV4YW1wbGUuY29t?=",
    "Александр Сергеевич Пушкин",
    "Ångström-Øvergaard " * 20,
    "Smith, John " * 20,
    "Bartholomew " * 30,
]


@pytest.mark.parametrize("name", NAMES)
def test_display_names_read_back_exactly(name: str) -> None:
    maker = skeleton(sender=Sender("alumni@example.edu", name))
    data = build(maker, to_name=name, unsubscribe_url=SHORT_URL)
    check_wire(data, header_lines=78)
    message = parse(data)
    expected = " ".join(name.split())
    for header in ("From", "To"):
        assert rfc2047_phrase(data, header) == expected
        address = message[header].addresses[0]
        assert address.addr_spec in ("alumni@example.edu", "maria.silva@example.org")
        if raw_header(data, header).count("=?utf-8?") <= 1:
            assert address.display_name == expected
    assert len(message["To"].addresses) == 1


def test_whitespace_in_display_names_collapses_to_single_spaces() -> None:
    message = parse(build(to_name="  Maria\t Silva  "))
    assert message["To"].addresses[0].display_name == "Maria Silva"


SUBJECTS = [
    "Reunion 2025",
    "",
    "Über die Klasse von 2010: Wiedersehen in München",
    "同学会 — 十五周年 🎓",
    "The class of 2010 meets again " * 10,
    "Reünion " * 40,
    "x" * 950,
    "a fake =?utf-8?q?encoded_word?= stays text",
    "question?= and =? marks",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subjects_read_back_exactly(subject: str) -> None:
    data = build(subject=subject, unsubscribe_url=SHORT_URL)
    check_wire(data, header_lines=998 if "x" * 100 in subject else 78)
    expected = " ".join(subject.split())
    assert parse(data)["Subject"] == expected
    assert str(make_header(decode_header(raw_header(data, "Subject")))) == expected


def test_subject_whitespace_and_line_breaks_collapse_to_single_spaces() -> None:
    subject = "Hello\r\nBcc: victim@example.com\n\tagain\u2028now "
    data = build(subject=subject)
    check_wire(data)
    message = parse(data)
    assert message["Subject"] == "Hello Bcc: victim@example.com again now"
    assert list(message.keys()) == STANDARD_HEADERS


BODIES = [
    "plain ASCII",
    "ends with a newline\n",
    "x" * 3000 + "\nshort line after a very long one\n",
    "Grüße aus São Paulo, 北京 und 🎓\n" * 20,
    "a dot line follows\n.\nand another\n.",
    ".",
    "From the office: hello\nFrom here on\n>From quoted\n",
    "From " + "y" * 72 + "\n",
    "From " + "=" * 40 + "\n",
    "trailing spaces   \ntrailing tab\t\nequals = sign =3D =\n",
    "\tleading tab\n  leading spaces\n",
    "nul \x00 and bell \x07 and escape \x1b\n",
    "--=_a" + "0" * 24 + "\n--boundary-looking line--\n",
    "",
]


@pytest.mark.parametrize("body", BODIES)
def test_bodies_read_back_exactly(body: str) -> None:
    data = build(text=body, html=f"<pre>{body}</pre>")
    check_wire(data)
    plain, html = leaves(parse(data))
    assert text_of(plain) == body
    assert text_of(html) == f"<pre>{body}</pre>"


def test_body_line_endings_are_normalised_to_lines() -> None:
    plain, _ = leaves(parse(build(text="one\r\ntwo\rthree\nfour")))
    assert text_of(plain) == "one\ntwo\nthree\nfour"


def test_a_body_holding_the_boundary_cannot_split_the_message() -> None:
    first = parse(build())
    boundary = first.get_boundary()
    assert boundary is not None and "=_" in boundary
    hostile = f"\n--{boundary}\nContent-Type: text/html\n\n<script>\n--{boundary}--\n"
    data = build(text=hostile, html=hostile)
    assert data.count(boundary.encode()) == 4  # the header and the three delimiter lines
    plain, html = leaves(parse(data))
    assert text_of(plain) == text_of(html) == hostile


def test_extra_alternatives_come_after_the_html() -> None:
    invite = MimePart("text/calendar; method=REQUEST", CALENDAR)
    data = build(extra_alternatives=[invite])
    check_wire(data)
    message = parse(data)
    assert message.get_content_type() == "multipart/alternative"
    plain, html, calendar = leaves(message)
    assert [part.get_content_type() for part in (plain, html, calendar)] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_content() == CALENDAR
    assert not calendar.is_attachment()


def test_attachments_wrap_the_alternatives_in_multipart_mixed() -> None:
    long_name = "Einladung für das Klassentreffen \u2013 Jahrgang 2010 \u2013 Übersicht.pdf"
    attachments = [
        MimePart("application/pdf", PDF, "programme.pdf"),
        MimePart("application/pdf", PDF, long_name),
        MimePart("text/plain", "Grüße\n", 'say "hello".txt'),
        MimePart("image/png", b"\x89PNG\r\n\x1a\n"),
        MimePart("text/calendar; method=REQUEST", CALENDAR, "invite.ics"),
    ]
    invite = MimePart("text/calendar; method=REQUEST", CALENDAR)
    data = build(extra_alternatives=[invite], attachments=attachments)
    check_wire(data)
    message = parse(data)
    assert message.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in message.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/pdf",
        "application/pdf",
        "text/plain",
        "image/png",
        "text/calendar",
    ]
    plain, html, _, *attached = leaves(message)
    assert (text_of(plain), text_of(html)) == (TEXT, HTML)
    assert [part.get_filename() for part in attached] == [
        "programme.pdf",
        long_name,
        'say "hello".txt',
        None,
        "invite.ics",
    ]
    assert all(part.is_attachment() for part in attached)
    assert all(part["Content-Transfer-Encoding"] == "base64" for part in attached)
    assert attached[0].get_content() == PDF
    assert attached[1].get_content() == PDF
    assert attached[2].get_content() == "Grüße\n"
    assert attached[3].get_content() == b"\x89PNG\r\n\x1a\n"
    assert attached[4].get_content() == CALENDAR


def test_same_delivery_gives_the_same_bytes_and_another_gets_other_boundaries() -> None:
    first = build(message_id=make_message_id("delivery-1", DOMAIN))
    assert build(message_id=make_message_id("delivery-1", DOMAIN)) == first
    other = build(message_id=make_message_id("delivery-2", DOMAIN))
    assert parse(first).get_boundary() != parse(other).get_boundary()


def test_message_ids_are_fixed_per_delivery_and_domain() -> None:
    message_id = make_message_id("delivery-1", DOMAIN)
    assert message_id == make_message_id("delivery-1", DOMAIN)
    assert re.fullmatch(rf"<[a-z2-7]{{24}}@{re.escape(DOMAIN)}>", message_id)
    assert make_message_id("delivery-2", DOMAIN) != message_id
    assert make_message_id("delivery-1", "other.example.org") != message_id
    keyed = make_message_id("delivery-1", DOMAIN, key=b"k" * 32)
    assert keyed == make_message_id("delivery-1", DOMAIN, key=b"k" * 32)
    # without the key nobody works out the Message-ID of a message they did not receive
    assert keyed not in (message_id, make_message_id("delivery-1", DOMAIN, key=b"j" * 32))
    bare = message_id[1:-1]
    assert parse(build(message_id=bare))["Message-ID"] == message_id
    with pytest.raises(InvalidHeaderError, match="domain"):
        make_message_id("delivery-1", "not a domain")
    with pytest.raises(ValueError, match="non-empty"):
        make_message_id("", DOMAIN)


@pytest.mark.parametrize(
    "zone",
    [UTC, ZoneInfo("Asia/Kolkata"), ZoneInfo("America/St_Johns"), timezone(timedelta(hours=-3))],
)
def test_dates_are_rfc5322_in_the_given_offset(zone: Any) -> None:
    date = datetime(2025, 1, 5, 23, 59, 58, 999_999, tzinfo=zone)
    data = build(date=date)
    assert raw_header(data, "Date") == format_datetime(date.replace(microsecond=0))
    assert parse(data)["Date"].datetime == date.replace(microsecond=0)


def test_naive_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        build(date=datetime(2025, 1, 5, 12, 0))


def test_emailmessage_reads_the_same_content() -> None:
    """The skeleton's message and EmailMessage's for the same input decode identically."""
    sender = Sender("alumni@example.edu", "Alumni Office, École Normale")
    maker = skeleton(sender=sender, reply_to="office@example.edu")
    message_id = make_message_id("delivery-9", DOMAIN)
    to_name, subject = "Zoë O'Brien", "Réunion 2025 : la promo 2010 se retrouve"
    attachment = MimePart("application/pdf", PDF, "programme.pdf")
    ours = build(
        maker,
        to_name=to_name,
        subject=subject,
        message_id=message_id,
        extra_alternatives=[MimePart("text/calendar; method=REQUEST", CALENDAR)],
        attachments=[attachment],
    )

    reference = EmailMessage()
    reference["From"] = f'"{sender.name}" <{sender.address}>'
    reference["To"] = f"{to_name} <maria.silva@example.org>"
    reference["Subject"] = subject
    reference["Date"] = WHEN
    reference["Message-ID"] = message_id
    reference["List-Unsubscribe"] = f"<{UNSUBSCRIBE_URL}>, <mailto:{UNSUBSCRIBE_ADDRESS}>"
    reference["Reply-To"] = "office@example.edu"
    reference["List-Id"] = f"Class of 2010 <{LIST_ID}>"
    reference["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    reference.set_content(TEXT)
    reference.add_alternative(HTML, subtype="html")
    reference.add_alternative(CALENDAR, subtype="calendar", params={"method": "REQUEST"})
    reference.add_attachment(PDF, maintype="application", subtype="pdf", filename="programme.pdf")
    theirs = reference.as_bytes(policy=email.policy.default.clone(linesep="\r\n"))

    mine, expected = parse(ours), parse(theirs)
    for name in [*STANDARD_HEADERS[:-1], "Reply-To"]:
        assert str(mine[name]) == str(expected[name]), name
    assert [part.get_content_type() for part in mine.walk()] == [
        part.get_content_type() for part in expected.walk()
    ]
    for got, want in zip(leaves(mine), leaves(expected), strict=True):
        got_content, want_content = got.get_content(), want.get_content()
        if isinstance(got_content, str):
            got_content = got_content.replace("\r\n", "\n")
            want_content = want_content.replace("\r\n", "\n")
        assert got_content == want_content
        assert got.get_filename() == want.get_filename()
        assert got.get_param("method") == want.get_param("method")


# ---- no header injection, whatever the data holds ----

BUILD_FIELDS = ["to_address", "to_name", "message_id", "unsubscribe_url", "unsubscribe_mailto"]


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\x00"])
@pytest.mark.parametrize("field", BUILD_FIELDS)
def test_line_breaks_in_recipient_fields_are_refused(field: str, breaker: str) -> None:
    good = {
        "to_address": "maria.silva@example.org",
        "to_name": "Maria",
        "message_id": "abc@alumni.example.edu",
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "unsubscribe_mailto": UNSUBSCRIBE_ADDRESS,
    }[field]
    value = f"{good}{breaker}Bcc: victim@example.com"
    with pytest.raises(HeaderInjectionError) as caught:
        build(**{field: value})
    assert caught.value.field == field
    assert caught.value.value == value
    assert field in str(caught.value) and "line break" in str(caught.value)


def test_nul_in_a_subject_is_refused() -> None:
    with pytest.raises(HeaderInjectionError, match="subject"):
        build(subject="Hello\x00Bcc: victim@example.com")


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\x00"])
@pytest.mark.parametrize(
    ("field", "make"),
    [
        ("sender.address", lambda bad: Sender(f"alumni@example.edu{bad}", "Office")),
        ("sender.name", lambda bad: Sender("alumni@example.edu", f"Office{bad}")),
        ("reply_to", lambda bad: skeleton(reply_to=f"office@example.edu{bad}")),
        ("list_id", lambda bad: skeleton(list_id=f"{LIST_ID}{bad}")),
        ("list_name", lambda bad: skeleton(list_name=f"Class{bad}")),
        ("dkim.selector", lambda bad: DkimKey(f"s1{bad}", DOMAIN, b"")),
        ("dkim.domain", lambda bad: DkimKey("s1", f"{DOMAIN}{bad}", b"")),
        ("content_type", lambda bad: build(attachments=[MimePart(f"text/plain{bad}", "x")])),
        ("filename", lambda bad: build(attachments=[MimePart("text/plain", "x", f"a{bad}.txt")])),
    ],
)
def test_line_breaks_in_campaign_fields_are_refused(
    field: str, make: Callable[[str], object], breaker: str
) -> None:
    with pytest.raises(HeaderInjectionError) as caught:
        make(f"{breaker}Bcc: victim@example.com")
    assert caught.value.field == field


TEXT_FIELDS = ["to_name", "subject", "to_address", "message_id", "unsubscribe_url"]


@pytest.mark.parametrize("breaker", LINE_BREAKERS)
@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_no_value_ever_adds_a_header(field: str, breaker: str) -> None:
    """Whatever reaches a field is refused, or ends up inside that one header."""
    value = {
        "to_name": "Maria",
        "subject": "Hi",
        "to_address": "maria@example.org",
        "message_id": "abc@alumni.example.edu",
        "unsubscribe_url": UNSUBSCRIBE_URL,
    }[field]
    try:
        data = build(**{field: f"{value}{breaker}Bcc: victim@example.com"})
    except MessageError as error:
        assert error.field == field
        return
    check_wire(data)
    message = parse(data)
    assert list(message.keys()) == STANDARD_HEADERS
    assert b"\r\nBcc:" not in data


# ---- addresses ----

BAD_ADDRESSES = [
    "",
    "maria",
    "maria@",
    "@example.org",
    "maria@@example.org",
    "maria@home@example.org",
    "maria@example.org,eve@example.org",
    "maria@example.org eve@example.org",
    "<maria@example.org>",
    "Maria <maria@example.org>",
    "maria silva@example.org",
    '"maria"@example.org',
    "maria..silva@example.org",
    ".maria@example.org",
    "maria.@example.org",
    "maria@example..org",
    "maria@-example.org",
    "maria@example.org.",
    "maria@[127.0.0.1]",
    "maria(comment)@example.org",
    "maria;eve@example.org",
    "josé@example.org",
    "maria@bücher.example",
    "m" * 65 + "@example.org",
    "maria@" + ".".join(["a" * 60] * 5) + ".org",
]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_bad_addresses_are_refused_and_named(address: str) -> None:
    with pytest.raises(InvalidAddressError) as caught:
        build(to_address=address)
    assert caught.value.field == "to_address"
    assert caught.value.value == address
    if len(address) < 100:
        assert repr(address) in str(caught.value)
    with pytest.raises(InvalidAddressError):
        Sender(address, "Office")


def test_every_accepted_address_round_trips_through_parseaddr() -> None:
    """The strict addr-spec pattern implies parseaddr's round trip, so build skips the latter."""
    atext = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
    candidates = [f"{char}@example.org" for char in atext]
    candidates += [f"a{char}b@example.org" for char in string.printable + "\x7f\x80é"]
    candidates += [f"a@b{char}c.org" for char in string.printable]
    candidates += ["first.last@sub.example.co.uk", "x@localhost", "a-b@1.2.3.example"]
    accepted = 0
    for address in candidates:
        try:
            data = build(to_address=address, to_name="")
        except MessageError:
            continue
        accepted += 1
        assert parseaddr(address) == ("", address), address
        assert parse(data)["To"].addresses[0].addr_spec == address
    assert accepted > len(atext) * 2


# ---- List-Unsubscribe ----


def test_mailto_can_be_a_full_url() -> None:
    mailto = f"mailto:{UNSUBSCRIBE_ADDRESS}?subject=unsubscribe%20d123"
    message = parse(build(unsubscribe_mailto=mailto))
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE_URL}>, <{mailto}>"


@pytest.mark.parametrize(
    "url",
    [
        "http://alumni.example.edu/u/x",
        "https://alumni.example.edu/u/a b",
        "https://alumni.example.edu/u/<x>",
        "https://alumni.example.edu/u/ü",
        "javascript:alert(1)",
        "https://alumni.example.edu/" + "x" * 900,
    ],
)
def test_unusable_unsubscribe_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidHeaderError) as caught:
        build(unsubscribe_url=url)
    assert caught.value.field == "unsubscribe_url"


def test_plain_http_unsubscribe_is_allowed_on_localhost_only() -> None:
    url = "http://localhost:8000/u/token"
    assert parse(build(unsubscribe_url=url))["List-Unsubscribe"].startswith(f"<{url}>")
    with pytest.raises(InvalidHeaderError):
        build(unsubscribe_url="http://localhost.evil.example/u/token")


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("content_type", lambda: build(attachments=[MimePart("pdf", b"x")])),
        ("content_type", lambda: build(attachments=[MimePart("text/plain; name=ü", "x")])),
        ("filename", lambda: build(attachments=[MimePart("text/plain", "x", "")])),
        ("list_id", lambda: skeleton(list_id="nodots")),
        ("message_id", lambda: build(message_id="no-at-sign")),
        ("message_id", lambda: build(message_id="<a@b> <c@d>")),
    ],
)
def test_malformed_values_are_refused_and_named(field: str, call: Callable[[], object]) -> None:
    with pytest.raises(InvalidHeaderError) as caught:
        call()
    assert caught.value.field == field


# ---- VERP ----


def test_verp_addresses_round_trip() -> None:
    address = verp_address("bounces", DOMAIN, "d123-x9")
    assert address == f"bounces+d123-x9@{DOMAIN}"
    assert parse_verp(address, "bounces", DOMAIN) == "d123-x9"
    assert parse_verp(f"<{address.upper()}>", "bounces", DOMAIN) == "D123-X9"


@pytest.mark.parametrize(
    "address",
    [
        f"bounces@{DOMAIN}",
        f"bounces+@{DOMAIN}",
        f"other+d123@{DOMAIN}",
        "bounces+d123@elsewhere.example.org",
        f"bounces+d_123@{DOMAIN}",
        "not an address",
    ],
)
def test_other_addresses_are_not_verp(address: str) -> None:
    assert parse_verp(address, "bounces", DOMAIN) is None


@pytest.mark.parametrize("token", ["", "a_b", "a.b", "a+b", "a@b", "ü"])
def test_verp_tokens_are_letters_digits_and_dashes(token: str) -> None:
    with pytest.raises(InvalidHeaderError):
        verp_address("bounces", DOMAIN, token)


# ---- DKIM ----


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def dkim_key(rsa_key: rsa.RSAPrivateKey) -> DkimKey:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return DkimKey("s2025", DOMAIN, pem)


@pytest.fixture(scope="module")
def dns(rsa_key: rsa.RSAPrivateKey) -> Callable[..., bytes | None]:
    public = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def txt(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == f"s2025._domainkey.{DOMAIN}.".encode() else None

    return txt


def signed_fields(data: bytes) -> list[str]:
    signature = raw_header(data, "DKIM-Signature")
    found = re.search(r"\bh=([^;]*)", signature)
    assert found is not None
    return [name.strip() for name in found.group(1).split(":")]


def test_dkim_signature_verifies_and_covers_one_click(
    dkim_key: DkimKey, dns: Callable[..., bytes | None]
) -> None:
    maker = skeleton(dkim=dkim_key, reply_to="office@example.edu")
    data = build(
        maker,
        to_name="Zoë Ngũgĩ",
        extra_alternatives=[MimePart("text/calendar; method=REQUEST", CALENDAR)],
        attachments=[MimePart("application/pdf", PDF, "programme.pdf")],
    )
    check_wire(data)
    assert data.startswith(b"DKIM-Signature: ")
    assert dkim.verify(data, dnsfunc=dns)
    fields = signed_fields(data)
    for name in [*STANDARD_HEADERS, "Reply-To"]:
        assert name.lower() in fields
    assert "list-unsubscribe-post" in fields
    message = parse(data)
    assert next(iter(message.keys())) == "DKIM-Signature"
    assert text_of(leaves(message)[0]) == TEXT


def test_a_message_prepared_ahead_is_dated_and_signed_when_it_goes(
    dkim_key: DkimKey, dns: Callable[..., bytes | None]
) -> None:
    maker = skeleton(dkim=dkim_key)
    arguments = recipient(attachments=[MimePart("application/pdf", PDF, "programme.pdf")])
    prepared = maker.prepare(**arguments)
    later = WHEN + timedelta(hours=5)
    data = maker.finish(prepared, later)
    assert data == maker.build(**arguments, date=later)
    assert dkim.verify(data, dnsfunc=dns)
    assert parse(data)["Date"].datetime == later
    assert b"Date:" not in prepared.before_date + prepared.after_date


def test_dkim_leaves_reply_to_out_when_there_is_none(
    dkim_key: DkimKey, dns: Callable[..., bytes | None]
) -> None:
    data = build(skeleton(dkim=dkim_key))
    assert dkim.verify(data, dnsfunc=dns)
    assert "reply-to" not in signed_fields(data)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data: data.replace(b"Subject: The class", b"Subject: A class"),
        lambda data: data.replace(b"meets again", b"meets later"),
        lambda data: data.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", b""),
        lambda data: data.replace(b"\r\nTo: ", b"\r\nTo: eve@example.org\r\nTo: ", 1),
        lambda data: data.replace(b"\r\n\r\n", b"\r\nList-Unsubscribe: <https://evil/>\r\n\r\n", 1),
    ],
)
def test_dkim_fails_after_tampering(
    dkim_key: DkimKey, dns: Callable[..., bytes | None], tamper: Callable[[bytes], bytes]
) -> None:
    data = build(skeleton(dkim=dkim_key))
    tampered = tamper(data)
    assert tampered != data
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_pkcs8_keys_sign_too(rsa_key: rsa.RSAPrivateKey, dns: Callable[..., bytes | None]) -> None:
    pkcs8 = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    data = build(skeleton(dkim=DkimKey("s2025", DOMAIN, pkcs8.replace(b"\n", b"\r\n"))))
    assert dkim.verify(data, dnsfunc=dns)


def test_unusable_dkim_keys_are_refused_when_the_campaign_starts() -> None:
    # cryptography will not generate so small a key, so make one from two known 256-bit primes.
    p = 57896044618658097711785492504343953926634992332820282019728792003956564832381
    q = 57896044618658097711785492504343953926634992332820282019728792003956565820003
    d = pow(65537, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(65537, p * q)
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), public)
    small = numbers.private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    for pem, problem in ((b"not a key", "cannot be read"), (small, "under 1024")):
        with pytest.raises(ValueError, match=r"s2025\._domainkey\.alumni\.example\.edu") as caught:
            skeleton(dkim=DkimKey("s2025", DOMAIN, pem))
        assert problem in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "one line",
        "ends with a newline\n",
        "trailing space \nand tab\t\n\n.\n",
        "x" * 74 + " \n" + "y" * 75 + "=\n" + "z" * 200,
        "é" * 30 + "\u2014 " + "\n" * 3 + "x" * 70 + "=\u2014. ",
    ],
)
def test_body_encoded_line_by_line_is_what_whole_text_encoding_gives(text: str) -> None:
    whole = binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    assert _quoted_printable(text) == whole


def test_lines_encode_the_same_when_the_line_cache_is_emptied_as_it_fills(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_LineCache, "limit", 3)
    text = "".join(f"line {n} \n" + "x" * 74 + f" {n}\nFrom {n}\n" for n in range(10))
    whole = binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    whole = whole.replace(b"\r\nFrom ", b"\r\n=46rom ")  # mbox readers would add a '>'
    assert _quoted_printable(text) == _quoted_printable(text) == whole


def test_reprs_never_show_the_dkim_private_key(
    dkim_key: DkimKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem_body = b"".join(dkim_key.private_key_pem.splitlines()[1:-1]).decode()
    signing = skeleton(dkim=dkim_key)
    for shown in (repr(dkim_key), str(dkim_key), repr(signing), str(signing)):
        assert "PRIVATE KEY" not in shown
        assert pem_body[:24] not in shown
        assert str(rsa_key.private_numbers().d)[:24] not in shown
    assert repr(dkim_key) == f"DkimKey(selector='s2025', domain='{DOMAIN}')"
    assert repr(signing) == (
        f"MessageSkeleton(sender='alumni@example.edu', list_id='{LIST_ID}', "
        f"dkim='s2025._domainkey.{DOMAIN}')"
    )
