"""Record what one message from the office's mailbox is, and do what it calls for.

``track_message`` runs inside the caller's write transaction (the inbound loop's claim row and
this message's effects commit together), never raises for bad mail, and is idempotent per
message: running it twice on the same bytes changes nothing more.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from alumni.delivery.planning import PlanOptions
from alumni.settings import Settings

__all__ = ["Tracked", "TrackingContext", "track_message"]


@dataclass(frozen=True)
class TrackingContext:
    """What classifying and recording need, built once per run (``from_settings``)."""

    key: bytes  # Settings.signing_key(): verifies return-path and unsubscribe tokens
    return_local: str  # Settings.return_path()
    return_domain: str
    office_address: str  # ALUMNI_FROM: where replies and mailto unsubscribes land
    plan_options: PlanOptions  # for RSVP notices (waitlist / place)

    def __repr__(self) -> str:
        # The key is a secret: never in a log or a traceback.
        return (
            f"TrackingContext(return_local={self.return_local!r}, "
            f"return_domain={self.return_domain!r}, office_address={self.office_address!r})"
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> TrackingContext:
        """The context of ``ALUMNI_*``: signing key, return path, From address, plan options.

        Raises:
            ValueError: ALUMNI_FROM or ALUMNI_BOUNCE_ADDRESS has no usable address, or the
                signing key is too short.
        """
        local, domain = settings.sender_address()
        return_local, return_domain = settings.return_path()
        return cls(
            key=settings.signing_key(),
            return_local=return_local,
            return_domain=return_domain,
            office_address=f"{local}@{domain}",
            plan_options=PlanOptions.from_settings(settings),
        )


@dataclass(frozen=True)
class Tracked:
    """What one message was and what came of it (the inbound loop copies it to its row)."""

    kind: str  # bounce / auto_reply / complaint / unsubscribe / calendar / reply / unknown
    outcome: str  # handled / unmatched / unparsed
    message_id: str | None
    sender: str | None
    subject: str | None
    delivery_id: int | None
    alumnus_id: int | None
    detail: str | None  # one line for officers: what was done or why not (no tokens)


def track_message(
    connection: Connection, raw: bytes, *, digest: str, context: TrackingContext, now: datetime
) -> Tracked:
    """Classify one raw message, record a Response for it and apply its effects.

    Args:
        connection: a connection inside the caller's write transaction; every write goes
            through it.
        raw: the message as read from the mailbox.
        digest: the SHA-256 of ``raw`` (``InboundMessage.digest``): the Response's remote id.
        context: ``TrackingContext.from_settings(settings)``.
        now: the time of receipt, aware.

    Raises:
        Only database or configuration errors; bad mail gives ``outcome="unparsed"``.
    """
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        message_id = str(message.get("Message-ID", "")).strip() or None
        sender = str(message.get("From", "")).strip() or None
        subject = str(message.get("Subject", "")).strip() or None
    except Exception as exc:  # a header the parser cannot read: keep the message, say why
        return Tracked("unknown", "unparsed", None, None, None, None, None, f"unreadable: {exc}")
    return Tracked("unknown", "unmatched", message_id, sender, subject, None, None, None)
