"""MIME assembly: the skeleton (alumni.messages.mime) against EmailMessage, under a ceiling.

Builds ~5 KB personalised messages (text + HTML, quoted-printable) three ways and prints
messages/s for each:

- ceiling: only the work no builder can skip (quoted-printable of both bodies, one join);
- skeleton: ``MessageSkeleton.build``, validation and all;
- EmailMessage: the stdlib with the default policy, ``as_bytes()``.

then skeleton / EmailMessage and skeleton / ceiling. Inputs are made before timing, so only
assembly is measured. One sample from each builder is parsed back and compared first.

    python bench/mime.py [--messages 20000] [--baseline-messages N] [--invite] [--dkim]
"""

from __future__ import annotations

import argparse
import binascii
import email
import email.policy
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alumni.messages.mime import DkimKey, MessageSkeleton, MimePart, Sender, make_message_id

DOMAIN = "alumni.example.edu"
LIST_ID = "class-2010.alumni.example.edu"
NAMES = [
    "Maria Silva",
    "José Müller",
    "Ngozi Okafor",
    "王小明",
    "Siobhán O'Neill",
    "Ali Y\u0131lmaz",
]
POOL = 1000  # distinct recipients, cycled: bodies differ per recipient as rendered ones do

CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//alumni-outreach//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:reunion-2010@alumni.example.edu\r\nSEQUENCE:0\r\n"
    "DTSTAMP:20250501T090000Z\r\nDTSTART:20250614T160000Z\r\nDTEND:20250614T220000Z\r\n"
    "SUMMARY:Class of 2010 reunion\r\nLOCATION:Old Hall\\, Main Campus\r\n"
    "ORGANIZER;CN=Alumni Office:mailto:alumni@example.edu\r\n"
    "ATTENDEE;CN=Maria Silva;RSVP=TRUE:mailto:maria@example.org\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    subject: str
    text: str
    html: str
    message_id: str
    date: datetime
    unsubscribe_url: str


def recipients() -> list[Recipient]:
    """~5 KB of text + HTML per recipient, personalised like a rendered campaign email."""
    start = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    made = []
    for index in range(POOL):
        name = NAMES[index % len(NAMES)]
        paragraph = (
            f"Dear {name}, fifteen years after graduation the class of 2010 meets again on "
            "14 June at the Old Hall. Classmates from 31 countries have said they will come; "
            "there is a virtual room for those who cannot travel.\n"
        )
        text = f"Dear {name},\n\n" + paragraph * 8 + "\nSee you there,\nthe Alumni Office\n"
        html = (
            f"<html><body><p>Dear {name},</p>\n"
            + f"<p>{paragraph.strip()} <a href='https://alumni.example.edu/e/{index}'>RSVP</a></p>\n"
            * 8
            + "</body></html>\n"
        )
        made.append(
            Recipient(
                address=f"alum{index}@example.org",
                name=name,
                subject=f"{name.split()[0]}, the class of 2010 meets again",
                text=text,
                html=html,
                message_id=make_message_id(f"delivery-{index}", DOMAIN),
                date=start + timedelta(seconds=index),
                unsubscribe_url=f"https://alumni.example.edu/u/MTIz{index:06d}.tsbb2h.{'x' * 43}",
            )
        )
    return made


def skeleton_builder(*, invite: bool, dkim: DkimKey | None) -> Callable[[Recipient], bytes]:
    skeleton = MessageSkeleton(
        sender=Sender("alumni@example.edu", "Alumni Office"),
        list_id=LIST_ID,
        list_name="Class of 2010",
        dkim=dkim,
    )
    extras = (MimePart("text/calendar; method=REQUEST", CALENDAR),) if invite else ()

    def build(recipient: Recipient) -> bytes:
        return skeleton.build(
            to_address=recipient.address,
            to_name=recipient.name,
            subject=recipient.subject,
            text=recipient.text,
            html=recipient.html,
            message_id=recipient.message_id,
            date=recipient.date,
            unsubscribe_url=recipient.unsubscribe_url,
            unsubscribe_mailto="unsubscribe@alumni.example.edu",
            extra_alternatives=extras,
        )

    return build


def emailmessage_builder(*, invite: bool) -> Callable[[Recipient], bytes]:
    def build(recipient: Recipient) -> bytes:
        message = EmailMessage()
        message["From"] = Address("Alumni Office", addr_spec="alumni@example.edu")
        message["To"] = Address(recipient.name, addr_spec=recipient.address)
        message["Subject"] = recipient.subject
        message["Date"] = recipient.date
        message["Message-ID"] = recipient.message_id
        message["List-Unsubscribe"] = (
            f"<{recipient.unsubscribe_url}>, <mailto:unsubscribe@alumni.example.edu>"
        )
        message["List-Id"] = f"Class of 2010 <{LIST_ID}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(recipient.text)
        message.add_alternative(recipient.html, subtype="html")
        if invite:
            message.add_alternative(CALENDAR, subtype="calendar", params={"method": "REQUEST"})
        return message.as_bytes()

    return build


def ceiling_builder() -> Callable[[Recipient], bytes]:
    head = b"x" * 900  # about the size of the headers

    def build(recipient: Recipient) -> bytes:
        text = binascii.b2a_qp(recipient.text.encode(), istext=True)
        html = binascii.b2a_qp(recipient.html.encode(), istext=True)
        return b"".join((head, text, html))

    return build


def rate(build: Callable[[Recipient], bytes], pool: list[Recipient], count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        build(pool[index % POOL])
    return count / (time.perf_counter() - started)


def same_content(first: bytes, second: bytes) -> None:
    """Stop the bench if the two builders' messages do not read back the same."""
    one, two = (
        email.message_from_bytes(data, policy=email.policy.default) for data in (first, second)
    )
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe"):
        assert str(one[name]) == str(two[name]), name
    parts = [
        [
            (part.get_content_type(), part.get_content().replace("\r\n", "\n"))
            for part in message.walk()
            if not part.is_multipart()
        ]
        for message in (one, two)
    ]
    assert parts[0] == parts[1]


def dkim_key() -> DkimKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return DkimKey("bench", DOMAIN, pem)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument(
        "--baseline-messages",
        type=int,
        default=None,
        help="messages built with EmailMessage (default: --messages)",
    )
    parser.add_argument("--invite", action="store_true", help="add a text/calendar alternative")
    parser.add_argument("--dkim", action="store_true", help="sign with a 2048-bit RSA key")
    arguments = parser.parse_args()
    baseline_count = arguments.baseline_messages or arguments.messages

    pool = recipients()
    skeleton = skeleton_builder(
        invite=arguments.invite, dkim=dkim_key() if arguments.dkim else None
    )
    reference = emailmessage_builder(invite=arguments.invite)
    ceiling = ceiling_builder()
    sample = skeleton(pool[1])
    same_content(sample, reference(pool[1]))

    what = "text + HTML" + (" + invite" if arguments.invite else "")
    what += ", DKIM-signed" if arguments.dkim else ""
    print(
        f"MIME assembly: ~{len(sample) / 1000:.1f} KB messages ({what}), "
        f"Python {platform.python_version()}, one thread"
    )
    ceiling_rate = rate(ceiling, pool, arguments.messages)
    skeleton_rate = rate(skeleton, pool, arguments.messages)
    reference_rate = rate(reference, pool, baseline_count)
    rows = [
        ("ceiling (QP of both bodies, join)", ceiling_rate, arguments.messages),
        ("skeleton (alumni.messages.mime)", skeleton_rate, arguments.messages),
        ("EmailMessage (default, as_bytes)", reference_rate, baseline_count),
    ]
    for label, value, count in rows:
        print(f"  {label:<35}{value:>9,.0f} msg/s  ({count:,} messages)")
    if arguments.dkim:
        print("  (EmailMessage's messages are not signed)")
    print(f"  skeleton / EmailMessage            {skeleton_rate / reference_rate:>9.1f}x")
    print(f"  skeleton / ceiling                 {skeleton_rate / ceiling_rate:>9.2f}")


if __name__ == "__main__":
    main()
