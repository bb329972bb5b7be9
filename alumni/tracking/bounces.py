"""Bounces: whether a message reports mail that could not be delivered, to whom, and whether
the address is dead (hard) or only failing for now (soft).

``flufl.bounce`` finds the failed recipients, in RFC 3464 delivery-status reports and in the
common non-standard formats (qmail, Exim, Yahoo, old Exchange, ...), with its own split into
temporary and permanent failures. The enhanced status code, where the report gives one (the
DSN's ``Status``, or a ``5.1.1`` in the server's words), decides over that split: 5.x.x is hard
and 4.x.x soft, except 5.2.2 (mailbox full), which is soft. Three soft bounces of one address
within 30 days count as hard (``soft_bounces_make_hard``).
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message

from flufl.bounce import all_failures

from alumni.tracking.reading import body_text, header, sender_address

__all__ = [
    "SOFT_BOUNCES_FOR_HARD",
    "SOFT_BOUNCE_WINDOW",
    "BounceReport",
    "Failure",
    "is_hard",
    "looks_like_bounce",
    "read_bounce",
    "soft_bounces_make_hard",
]

SOFT_BOUNCES_FOR_HARD = 3
SOFT_BOUNCE_WINDOW = timedelta(days=30)
MAILBOX_FULL = "5.2.2"

_STATUS_RE = re.compile(r"(?<![\d.])([45])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_FULL_RE = re.compile(
    r"mailbox\s+(?:is\s+)?full|over\s*quota|quota\s+exceeded|exceeded\s+(?:its|the|their)\s+"
    r"(?:storage|quota)|insufficient\s+(?:system\s+)?storage|mailbox\s+has\s+exceeded",
    re.IGNORECASE,
)
_DAEMON_RE = re.compile(
    r"^(?:mailer[-_]?daemon|mail[-_]?daemon|postmaster|microsoftexchange[0-9a-f]*)@", re.IGNORECASE
)
_SUBJECT_RE = re.compile(
    r"undeliver|undelivered mail|delivery status notification|returned mail|mail delivery"
    r"|delivery fail|failure notice|failed delivery|failure delivery|could not be delivered"
    r"|delivery has failed|non[- ]?remis|unzustellbar|nicht zustellbar"
    r"|no se (?:pudo|puede) entregar"
    r"|n[ãa]o (?:foi )?entregue|message delayed|delayed mail",
    re.IGNORECASE,
)
# Where a plain-text bounce starts quoting the returned message: its words are not the server's.
_COPY_RE = re.compile(
    r"^.*(?:copy of the (?:original )?message|original message follows|below this line"
    r"|original message headers|--- ?original message)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Failure:
    """One recipient a bounce reports."""

    address: str  # lower-cased
    hard: bool
    status: str | None  # the enhanced status code, e.g. 5.1.1
    diagnostic: str | None  # the server's words, one line


@dataclass(frozen=True)
class BounceReport:
    """The failures one bounce reports (at least one)."""

    failures: tuple[Failure, ...]

    def failure_for(self, address: str | None) -> Failure:
        """The failure of ``address`` (any case), else the first one reported."""
        wanted = (address or "").lower()
        return next((f for f in self.failures if f.address == wanted), self.failures[0])


def looks_like_bounce(message: Message) -> bool:
    """Whether a message is worth scanning for failures: a delivery-status report, or mail from
    a mail system (MAILER-DAEMON, postmaster) or with a bounce's subject or headers.

    Heuristic detectors are not run on other mail, so a person's words cannot make a bounce.
    """
    if any(part.get_content_type() == "message/delivery-status" for part in message.walk()):
        return True
    sender = sender_address(message) or ""
    if _DAEMON_RE.match(sender) or header(message, "X-Failed-Recipients"):
        return True
    return bool(_SUBJECT_RE.search(header(message, "Subject") or ""))


def is_hard(*, permanent: bool, status: str | None, text: str) -> bool:
    """Whether a failure means the address is dead (pure).

    Args:
        permanent: what the detector said (``flufl.bounce``'s permanent set).
        status: the enhanced status code, if the report gives one; it decides.
        text: the server's words, for a mailbox-full failure without a status code.
    """
    if status is not None:
        return status.startswith("5.") and status != MAILBOX_FULL
    if _FULL_RE.search(text):
        return False
    return permanent


def soft_bounces_make_hard(times: Iterable[datetime], *, now: datetime) -> bool:
    """Whether an address's soft bounces (``times``, this one included) count as hard: three or
    more within the 30 days up to ``now`` (pure)."""
    since = now - SOFT_BOUNCE_WINDOW
    return sum(1 for at in times if since <= at <= now) >= SOFT_BOUNCES_FOR_HARD


def read_bounce(raw: bytes, message: Message) -> BounceReport | None:
    """The failures a bounce reports, or None when it reports none (not a bounce, or a report
    of delivery or relay only).

    Args:
        raw: the message's bytes (``flufl.bounce`` reads its own parse of them).
        message: the same message parsed with ``policy.default``.
    """
    if not looks_like_bounce(message):
        return None
    legacy = email.message_from_bytes(raw)  # flufl.bounce's detectors expect compat32
    try:
        temporary, permanent = all_failures(legacy)
    except Exception:  # a detector tripped on odd input: not a bounce we can read
        return None
    found = {_text(a): False for a in temporary} | {_text(a): True for a in permanent}
    found.pop("", None)
    if not found:
        return None
    dsn = _dsn_fields(legacy)
    own_words = _own_words(body_text(message))
    failures = []
    for address, is_permanent in found.items():
        status, diagnostic = dsn.get(address, (None, None))
        words = diagnostic or own_words
        if status is None:
            status = _status_in(words)
        failures.append(
            Failure(
                address=address,
                hard=is_hard(permanent=is_permanent, status=status, text=words),
                status=status,
                diagnostic=_one_line(diagnostic or _diagnostic_line(own_words)),
            )
        )
    return BounceReport(tuple(failures))


def _text(address: bytes) -> str:
    return address.decode("ascii", errors="replace").strip().strip("<>").lower()


def _dsn_fields(message: Message) -> dict[str, tuple[str | None, str | None]]:
    """(status, diagnostic) of each recipient block of the delivery-status parts."""
    fields: dict[str, tuple[str | None, str | None]] = {}
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status" or not part.is_multipart():
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            status = _status_in(str(block.get("Status", "")))
            diagnostic = str(block.get("Diagnostic-Code", "")) or None
            for name in ("Original-Recipient", "Final-Recipient", "X-Actual-Recipient"):
                value = str(block.get(name, ""))
                address = value.split(";", 1)[-1].strip().strip("<>").lower()
                if "@" in address:
                    fields.setdefault(address, (status, diagnostic))
    return fields


def _status_in(text: str) -> str | None:
    found = _STATUS_RE.search(text)
    return None if found is None else ".".join(found.groups())


def _own_words(text: str) -> str:
    """The bounce's own text, before any copy of the returned message."""
    copy = _COPY_RE.search(text)
    return text[: copy.start()] if copy else text


def _diagnostic_line(text: str) -> str | None:
    """The line of the server's words that gives the status code or the reason, if any."""
    for line in text.splitlines():
        if _STATUS_RE.search(line) or _FULL_RE.search(line):
            return line
    return None


def _one_line(text: str | None) -> str | None:
    if not text:
        return None
    return " ".join(text.split())[:300] or None
