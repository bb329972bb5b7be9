"""Read raw mail without ever failing on it: the message, its headers, its text, and the
headers of a message it returns (a bounce or an abuse report carries our original).

Mail from the outside is often broken: bad charsets, headers the ``email`` package cannot
parse, MIME trees cut short. Every function here answers with what it could read (a header
that cannot be parsed is taken raw) and only ``parse_message`` refuses, for bytes that are not
a message at all.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime

from alumni.tracking.html_text import html_to_text

__all__ = [
    "Unparseable",
    "addresses",
    "body_text",
    "header",
    "inline_message_ids",
    "message_date",
    "message_ids",
    "parse_message",
    "part_text",
    "returned_headers",
    "sender_address",
]

_ID_RE = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
# A returned message's headers quoted in a plain-text bounce (qmail, Exim, Yahoo): the copy
# starts with lines like these.
_INLINE_ID_RE = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]+@[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what broken encodings leave
_MAX_TEXT = 200_000  # characters of body read; more is never needed to classify a message


class Unparseable(ValueError):
    """The bytes are not an email message; ``str()`` says why, for the officer."""


def parse_message(raw: bytes) -> EmailMessage:
    """Parse raw bytes with ``policy.default``.

    Raises:
        Unparseable: the bytes are empty, or have no header that a message must have.
    """
    if not raw.strip():
        raise Unparseable("the message is empty")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the parser is lenient; this is only for the truly odd input
        raise Unparseable(f"the email package could not read it ({type(exc).__name__})") from None
    assert isinstance(message, EmailMessage)
    names = {name.lower() for name, _ in message.raw_items()}
    if not names & {"from", "to", "subject", "message-id", "date"}:
        raise Unparseable("it has no From, To, Subject, Message-ID or Date: not an email message")
    return message


def header(message: Message, name: str) -> str | None:
    """The header's value on one line, or None; a header that will not parse is taken raw."""
    try:
        value = message.get(name)
        text = None if value is None else str(value)
    except Exception:  # e.g. an address header the parser chokes on
        raw = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
        text = None if raw is None else str(raw)
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def _all_raw(message: Message, name: str) -> list[str]:
    return [str(v) for k, v in message.raw_items() if k.lower() == name.lower()]


def addresses(message: Message, *names: str) -> list[str]:
    """Every address in the named headers (all occurrences), lower-cased, in order."""
    found: list[str] = []
    for name in names:
        for _, address in getaddresses(_all_raw(message, name)):
            address = address.strip().lower()
            if "@" in address and address not in found:
                found.append(address)
    return found


def sender_address(message: Message) -> str | None:
    """The From address, lower-cased, or None."""
    found = addresses(message, "From")
    return found[0] if found else None


def message_ids(text: str | None) -> list[str]:
    """The ``<id@host>`` Message-IDs in a header value, in order."""
    return [f"<{found}>" for found in _ID_RE.findall(text or "")]


def message_date(message: Message) -> datetime | None:
    """The Date header as an aware datetime, or None when missing or unreadable."""
    raw = next((v for k, v in message.raw_items() if k.lower() == "date"), None)
    if raw is None:
        return None
    try:
        when = parsedate_to_datetime(str(raw).strip())
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" is UTC with the sender's zone unknown (RFC 5322 3.3): parsed naive
    return when if when.utcoffset() is not None else when.replace(tzinfo=UTC)


def _leaves(message: Message) -> Iterator[Message]:
    """The non-multipart parts, not descending into attached messages."""
    if message.is_multipart() and message.get_content_maintype() != "message":
        payload = message.get_payload()
        for part in payload if isinstance(payload, list) else []:
            if isinstance(part, Message):
                yield from _leaves(part)
    else:
        yield message


def part_text(part: Message) -> str:
    """A text part decoded to ``str``: its charset if known, else UTF-8, bad bytes replaced."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        text = payload.decode("utf-8", errors="replace")
    return _CONTROL_RE.sub("", text)


def body_text(message: Message) -> str:
    """The message's own text: its first text/plain part, else its first text/html part
    converted to text; attached messages (a bounce's returned copy) are not read."""
    plain = html = None
    for part in _leaves(message):
        kind = part.get_content_type()
        if part.get_content_disposition() == "attachment":
            continue
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and html is None:
            html = part
    if plain is not None:
        return part_text(plain)[:_MAX_TEXT]
    if html is not None:
        return html_to_text(part_text(html)[:_MAX_TEXT])
    return ""


def returned_headers(message: Message) -> list[Message]:
    """The headers of every message a report returns: ``message/rfc822`` parts and
    ``text/rfc822-headers`` (or ``message/rfc822-headers``) parts, outermost first."""
    found: list[Message] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                found.append(inner)
        elif kind in ("text/rfc822-headers", "message/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                found.append(payload[0])
            else:
                text = part_text(part).encode("utf-8", errors="replace")
                found.append(BytesHeaderParser(policy=email.policy.default).parsebytes(text))
    return found


def inline_message_ids(text: str) -> list[str]:
    """Message-IDs quoted in a plain-text bounce's copy of the original (``Message-ID:`` lines)."""
    return list(dict.fromkeys(_INLINE_ID_RE.findall(text)))
