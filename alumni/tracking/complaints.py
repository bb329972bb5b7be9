"""Complaints: ARF feedback reports (RFC 5965) a mailbox provider sends when someone marks our
mail as spam.

The report is a ``multipart/report; report-type=feedback-report`` with a
``message/feedback-report`` part (Feedback-Type, Original-Rcpt-To, Original-Mail-From) and the
original message or its headers, which carry our return path and Message-ID.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from alumni.tracking.reading import addresses, header, part_text

__all__ = ["Complaint", "read_complaint"]


@dataclass(frozen=True)
class Complaint:
    """What an ARF report says about the message complained of."""

    feedback_type: str  # abuse / fraud / virus / other / ...
    original_rcpt: str | None  # Original-Rcpt-To, lower-cased (providers often leave it out)
    original_mail_from: str | None  # Original-Mail-From: our return path, with its token


def read_complaint(message: Message) -> Complaint | None:
    """The complaint an ARF report makes, or None when the message is not one."""
    report = None
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            report = _fields(part)
            break
    is_arf = (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "feedback-report"
    )
    if report is None:
        return Complaint("abuse", None, None) if is_arf else None
    rcpt = addresses(report, "Original-Rcpt-To")
    mail_from = addresses(report, "Original-Mail-From")
    return Complaint(
        feedback_type=(header(report, "Feedback-Type") or "abuse").lower(),
        original_rcpt=rcpt[0] if rcpt else None,
        original_mail_from=mail_from[0] if mail_from else None,
    )


def _fields(part: Message) -> Message:
    """The header fields of a message/feedback-report part, however the parser held them."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return HeaderParser(policy=email.policy.default).parsestr(part_text(part))
