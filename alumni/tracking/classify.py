"""Decide what one raw message from the office's mailbox is, without the database (pure).

The kinds, tried in this order (the first that fits wins)::

    complaint    an ARF feedback report (someone marked our mail as spam)
    bounce       a delivery-status report or a mail system's non-standard one, with failures
    auto_reply   an out-of-office or other program's answer (never a person's, never a bounce)
    unsubscribe  mail whose subject is "unsubscribe <token>" (our List-Unsubscribe mailto)
    calendar     an iTIP REPLY from a calendar client
    reply        personal mail: a person's answer, if it matches what we sent or who we know
    unknown      list or bulk mail (a newsletter, spam with list headers), or bytes that are
                 not a message (``problem`` says why)

Besides the kind, ``Classified`` carries what matching needs: return-path tokens (unverified;
``alumni.tracking.matching`` checks them), the Message-IDs of a returned message, and those a
reply answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import Message

from alumni.events.calendar_codec import InviteError, Reply, parse_reply_message
from alumni.messages.mime import parse_verp
from alumni.tracking.autoreplies import auto_reply_reason
from alumni.tracking.bounces import BounceReport, read_bounce
from alumni.tracking.complaints import Complaint, read_complaint
from alumni.tracking.reading import (
    Unparseable,
    addresses,
    body_text,
    header,
    inline_message_ids,
    message_date,
    message_ids,
    parse_message,
    part_text,
    returned_headers,
    sender_address,
)
from alumni.tracking.replies import new_text, referenced_ids

__all__ = ["KINDS", "Classified", "classify"]

KINDS = ("complaint", "bounce", "auto_reply", "unsubscribe", "calendar", "reply", "unknown")

# Where a return-path address shows in a message delivered to it (Postfix, Exim, aiosmtpd, ...).
_ENVELOPE_HEADERS = (
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "X-RcptTo",
    "To",
    "Cc",
)
_UNSUBSCRIBE_RE = re.compile(r"^\s*unsubscribe(?:\s+(\S+))?\s*$", re.IGNORECASE)
_METHOD_REPLY_RE = re.compile(r"^METHOD:\s*REPLY\s*$", re.IGNORECASE | re.MULTILINE)
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "Feedback-ID")


@dataclass(frozen=True)
class Classified:
    """What a message is and what it carries to match it (see the module docstring)."""

    kind: str
    message_id: str | None = None
    sender: str | None = None  # the From address, lower-cased
    subject: str | None = None
    date: datetime | None = None  # the Date header, aware; None when missing or unreadable
    return_tokens: tuple[str, ...] = ()  # our return path's tokens found, unverified
    returned_ids: tuple[str, ...] = ()  # Message-IDs of the message a report returns
    returned_to: tuple[str, ...] = ()  # where the returned message went (its To, Original-Rcpt)
    references: tuple[str, ...] = ()  # In-Reply-To, then References newest first
    bounce: BounceReport | None = None
    complaint: Complaint | None = None
    auto_reason: str | None = None
    unsubscribe_token: str | None = None
    calendar: Reply | None = None
    text: str | None = None  # a reply's new text; a calendar answer's comment
    problem: str | None = None  # why it could not be read (kind unknown, or a broken REPLY)


def classify(raw: bytes, *, return_local: str, return_domain: str) -> Classified:
    """Classify raw bytes from the mailbox; never raises for bad mail.

    Args:
        raw: the message as read.
        return_local, return_domain: our return path (``Settings.return_path()``), whose
            ``+<token>`` ties a bounce to its delivery.
    """
    try:
        message = parse_message(raw)
    except Unparseable as exc:
        return Classified("unknown", problem=str(exc))
    try:
        return _classify(raw, message, return_local, return_domain)
    except Exception as exc:  # broken MIME the readers did not foresee: keep it, say why
        return Classified(
            "unknown",
            message_id=_first(message_ids(header(message, "Message-ID"))),
            sender=sender_address(message),
            subject=header(message, "Subject"),
            problem=f"the message could not be read ({type(exc).__name__}: {exc})"[:300],
        )


def _classify(raw: bytes, message: Message, local: str, domain: str) -> Classified:
    returned = returned_headers(message)
    body = body_text(message)
    complaint = read_complaint(message)
    outer_tokens = _tokens(addresses(message, *_ENVELOPE_HEADERS), local, domain)
    inner_from = (
        [complaint.original_mail_from] if complaint and complaint.original_mail_from else []
    )
    inner = inner_from + [a for h in returned for a in addresses(h, "Return-Path")]
    own_id = _first(message_ids(header(message, "Message-ID")))
    returned_ids = [i for h in returned for i in message_ids(header(h, "Message-ID"))]
    base = Classified(
        "unknown",
        message_id=own_id,
        sender=sender_address(message),
        subject=header(message, "Subject"),
        date=message_date(message),
        return_tokens=tuple(dict.fromkeys([*outer_tokens, *_tokens(inner, local, domain)])),
        references=tuple(referenced_ids(message)),
    )
    if complaint is not None:
        to = [complaint.original_rcpt] if complaint.original_rcpt else []
        to += [a for h in returned for a in addresses(h, "To")]
        return replace(
            base,
            kind="complaint",
            complaint=complaint,
            returned_ids=tuple(dict.fromkeys(returned_ids)),
            returned_to=tuple(dict.fromkeys(to)),
        )
    bounce = read_bounce(raw, message)
    if bounce is not None:
        # a plain-text bounce quotes the original's headers in its body
        ids = [*returned_ids, *(i for i in inline_message_ids(body) if i != own_id)]
        return replace(
            base,
            kind="bounce",
            bounce=bounce,
            returned_ids=tuple(dict.fromkeys(ids)),
            returned_to=tuple(f.address for f in bounce.failures),
        )
    reason = auto_reply_reason(message, body=body)
    if reason is not None:
        return replace(base, kind="auto_reply", auto_reason=reason)
    unsubscribe = _UNSUBSCRIBE_RE.match(header(message, "Subject") or "")
    if unsubscribe is not None:
        return replace(base, kind="unsubscribe", unsubscribe_token=unsubscribe.group(1))
    if _has_calendar_reply(message):
        try:
            answer = parse_reply_message(raw)
        except InviteError as exc:
            return replace(base, kind="calendar", problem=str(exc)[:300])
        return replace(base, kind="calendar", calendar=answer, text=answer.comment)
    if any(header(message, name) for name in _LIST_HEADERS) or _bulk(message):
        return base
    return replace(base, kind="reply", text=new_text(body))


def _tokens(found: list[str], local: str, domain: str) -> list[str]:
    tokens = (parse_verp(address, local, domain) for address in found)
    return [token for token in tokens if token]


def _has_calendar_reply(message: Message) -> bool:
    for part in message.walk():
        kind = part.get_content_type()
        name = (part.get_filename() or "").lower()
        if kind in ("text/calendar", "application/ics") or name.endswith(".ics"):
            if _METHOD_REPLY_RE.search(part_text(part)):
                return True
            if kind == "text/calendar" and str(part.get_param("method", "")).upper() == "REPLY":
                return True
    return False


def _bulk(message: Message) -> bool:
    return (header(message, "Precedence") or "").lower() in ("bulk", "list", "junk")


def _first(values: list[str]) -> str | None:
    return values[0] if values else None
