"""The small interface every outbound mail connector speaks.

A transport takes a batch of ready-made messages and reports one `Receipt` per message as soon as
the server (or the outbox) has answered it, like listmonk's Messenger. It knows nothing of
campaigns: `OutgoingMail.key` is the caller's delivery row id, handed back untouched.

Example:
    >>> def mark(receipt: Receipt) -> None:  # must be thread-safe: see MailTransport.send
    ...     print(receipt.key, receipt.outcome)
    >>> transport.send([OutgoingMail(7, "b-7@alumni.test", "ada@example.org", data)], mark)
    7 sent
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, Self

# RFC 3463 status right after the basic reply code: "550 5.1.1 <x@y>: Recipient address rejected".
_ENHANCED_STATUS = re.compile(r"(?:\d{3}[ -])?([245]\.\d{1,3}\.\d{1,3})(?=\s|$)")


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One message for one recipient.

    Attributes:
        key: the delivery row id; opaque to the connector, returned in the receipt.
        envelope_from: the SMTP return path (VERP address), where bounces go.
        recipient: the envelope recipient.
        data: the complete RFC 5322 message with CRLF line endings.
    """

    key: int
    envelope_from: str
    recipient: str
    data: bytes


class Outcome(StrEnum):
    """What became of one message."""

    SENT = "sent"  # the server accepted responsibility for it
    TRANSIENT = "transient"  # not accepted this time; trying again later may work
    PERMANENT = "permanent"  # refused for this recipient; retrying will not help


@dataclass(frozen=True, slots=True)
class Receipt:
    """The answer for one `OutgoingMail`.

    Attributes:
        key: the `OutgoingMail.key` this answers.
        outcome: sent, transient or permanent.
        code: the server's basic reply code (250, 451, 550...), or None when no reply came.
        reply: the server's reply text, e.g. "550 5.1.1 <x@y>: Recipient address rejected",
            or what went wrong when there was no reply.
        in_doubt: True only when the connection died after the whole message had been sent but
            before the server answered: the outcome is transient, yet the message may have been
            delivered, so the caller counts it as possibly in flight.
    """

    key: int
    outcome: Outcome
    code: int | None
    reply: str
    in_doubt: bool = False

    @property
    def enhanced_status(self) -> str | None:
        """The RFC 3463 enhanced status code in the reply (e.g. "5.1.1"), if the server sent one."""
        match = _ENHANCED_STATUS.match(self.reply)
        return match.group(1) if match else None


class Closing:
    """Lets a connector be used in a ``with`` block that calls its ``close()`` at the end."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class MailTransport(Protocol):
    """An outbound mail connector (SMTP relay, Maildir outbox...)."""

    name: str

    def send(self, mails: Iterable[OutgoingMail], on_receipt: Callable[[Receipt], None]) -> None:
        """Send every mail; call `on_receipt` once per mail as soon as its outcome is known.

        `on_receipt` may be called from several worker threads at once, so it must be
        thread-safe (e.g. put receipts on a `queue.SimpleQueue`, or take a lock). If it raises,
        sending stops and `send` re-raises that exception; the caller then treats every mail
        still without a receipt as possibly in flight.

        Returns when every mail has exactly one receipt.
        """
        ...

    def close(self) -> None:
        """Release connections and other resources."""
        ...


def open_mail_transport(
    smtp_url: str | None, *, outbox_dir: Path, connections: int = 4
) -> MailTransport:
    """The SMTP server at ``smtp_url``, or the Maildir at ``outbox_dir`` when it is None."""
    if smtp_url is not None:
        from connectors.smtp import SmtpTransport

        return SmtpTransport.from_url(smtp_url, connections=connections)
    from connectors.maildir import MaildirTransport

    return MaildirTransport(outbox_dir)
