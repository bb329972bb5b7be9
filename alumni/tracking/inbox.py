"""Read the office's mailbox once: every new message handled exactly once, none deleted.

Where reading stopped is a ``MailboxCursor`` (UIDVALIDITY and the last UID done); a new
UIDVALIDITY means the server renumbered the mailbox, and reading starts again from UID 1. For
each message after the cursor:

1. fetch it (left unread) and take its SHA-256;
2. in one write transaction, insert its ``InboundMessage`` row, the claim (unique by digest and
   by mailbox, UIDVALIDITY and UID, so of two runs at once only one inserts it), and record it
   with ``alumni.tracking.record.track_message`` on the same connection; commit;
3. move it to the done folder and set ``moved_at``, or, when it could not be parsed, leave it in
   the mailbox flagged ``\\Flagged`` and ``$AlumniUnparsed`` for a person to read;
4. advance the cursor.

A crash before step 2 commits leaves nothing: the next run handles the message at once. A crash
after it leaves a handled row whose message is still in the mailbox: the next run finds the row
(the insert conflicts, or the row has no ``moved_at``) and only moves the message. A message is
moved while its row is locked (SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``FOR UPDATE``), so two
runs never move one message twice (two IMAP sessions moving it at once could copy it twice).
Mail leaves the mailbox only by that move: nothing is ever deleted.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.models import InboundMessage, MailboxCursor, table_of, utcnow
from alumni.settings import Settings
from alumni.tracking.record import Tracked, TrackingContext, track_message
from connectors.imap import ImapAddress, ImapConfigError, ImapMailbox

__all__ = [
    "UNPARSED_FLAGS",
    "Claim",
    "InboxSummary",
    "Unparsed",
    "claim_and_track",
    "mailbox_key",
    "office_mailbox",
    "read_mailbox",
]

# How a message that could not be parsed is marked in the mailbox, for a person to find it.
UNPARSED_FLAGS = ("\\Flagged", "$AlumniUnparsed")
_IM = table_of(InboundMessage)
_C = table_of(MailboxCursor)
_KEY_CHARS = 200  # MailboxCursor.mailbox, InboundMessage.mailbox


@dataclass(frozen=True)
class Unparsed:
    """A message kept in the mailbox because it could not be parsed."""

    uid: int
    inbound_id: int
    sender: str | None
    subject: str | None
    detail: str | None


@dataclass
class InboxSummary:
    """What one reading of the mailbox did.

    Attributes:
        mailbox: the cursor's key (``mailbox_key``).
        restarted: the UIDVALIDITY changed since the last run, so reading began at UID 1.
        counts: kind -> outcome -> how many messages this run handled.
        already_handled: messages another run had handled; this one only moved or flagged them.
        moved: messages this run moved to the done folder.
        unparsed: messages this run could not parse, kept and flagged.
        deliveries: the deliveries this run's messages answered (their campaigns' reports
            changed).
    """

    mailbox: str
    uidvalidity: int
    last_uid: int
    done_folder: str
    restarted: bool = False
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    already_handled: int = 0
    moved: int = 0
    unparsed: list[Unparsed] = field(default_factory=list)
    deliveries: set[int] = field(default_factory=set)

    @property
    def handled(self) -> int:
        """How many messages this run handled itself."""
        return sum(sum(outcomes.values()) for outcomes in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready values."""
        return {
            "mailbox": self.mailbox,
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "done_folder": self.done_folder,
            "restarted": self.restarted,
            "handled": self.handled,
            "counts": {kind: dict(outcomes) for kind, outcomes in sorted(self.counts.items())},
            "already_handled": self.already_handled,
            "moved": self.moved,
            "unparsed": [vars(u) for u in self.unparsed],
        }

    def markdown(self) -> str:
        """A report for the Prefect UI: counts only (no addresses or subjects), and the UIDs
        of the messages kept because they could not be parsed."""
        lines = [
            f"# Mailbox {self.mailbox}",
            "",
            f"{self.handled} new message(s) handled, {self.already_handled} found handled by "
            f"another run; {self.moved} moved to {self.done_folder}.",
        ]
        if self.restarted:
            lines.append(f"The server renumbered the mailbox (UIDVALIDITY {self.uidvalidity}).")
        if self.counts:
            lines += ["", "| kind | outcome | messages |", "|---|---|---|"]
            for kind, outcomes in sorted(self.counts.items()):
                lines += [f"| {kind} | {o} | {n} |" for o, n in sorted(outcomes.items())]
        if self.unparsed:
            uids = ", ".join(str(u.uid) for u in self.unparsed)
            lines += [
                "",
                f"{len(self.unparsed)} message(s) could not be parsed and were kept in the "
                f"mailbox, flagged {' '.join(UNPARSED_FLAGS)}: UID {uids}.",
            ]
        return "\n".join(lines) + "\n"


def office_mailbox(settings: Settings) -> ImapAddress:
    """The office's mailbox as ``ALUMNI_IMAP_URL`` names it.

    Raises:
        ImapConfigError: it is unset or not a usable URL; the message says how to write it
            and never shows the password.
    """
    if settings.imap_url is None:
        raise ImapConfigError(
            "ALUMNI_IMAP_URL is not set: set it to the office's mailbox, where replies and "
            "bounces land, e.g. imaps://alumni%40school.edu:PASSWORD@imap.school.edu/INBOX"
        )
    try:
        return ImapAddress.from_url(settings.imap_url.get_secret_value())
    except ImapConfigError as exc:
        raise ImapConfigError(f"ALUMNI_IMAP_URL: {exc}") from None


def mailbox_key(address: ImapAddress) -> str:
    """The name the cursor and claim rows use for a mailbox: ``user@host/MAILBOX``."""
    key = f"{address.username}@{address.host.lower()}/{address.mailbox}"
    if len(key) <= _KEY_CHARS:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{key[: _KEY_CHARS - 17]}#{digest}"


def read_mailbox(
    engine: Engine,
    mailbox: ImapMailbox,
    *,
    context: TrackingContext,
    done_folder: str,
    worker: str,
    now: Callable[[], datetime] = utcnow,
) -> InboxSummary:
    """Handle every message that arrived since the last run, once (see the module).

    Args:
        engine: the database.
        mailbox: an open session (``ImapMailbox.open``); its URL's mailbox is read.
        context: ``TrackingContext.from_settings(settings)``.
        done_folder: where handled mail goes (``ALUMNI_IMAP_DONE_FOLDER``).
        worker: this run's name, kept on the rows it claims.
        now: the clock; a message's time of receipt is the server's, never later than this.

    Raises:
        ImapConfigError: the mailbox or the done folder cannot be used (raised before any
            message is claimed), or the server cannot move one message alone.
    """
    uidvalidity = mailbox.select()
    mailbox.ensure_folder(done_folder)  # a name the server refuses stops before any claim
    key = mailbox_key(mailbox.address)
    start, restarted = _start(engine, key, uidvalidity, now())
    summary = InboxSummary(key, uidvalidity, start, done_folder, restarted=restarted)
    reading = _Reading(engine, mailbox, key, uidvalidity, done_folder, now, summary)
    for row_id, uid in _unmoved(engine, key, uidvalidity):  # left by a run that stopped
        reading.move_once(row_id, uid, advance=False)
    for uid in mailbox.uids_after(start):
        reading.one(uid, context=context, worker=worker)
    return summary


@dataclass(frozen=True)
class Claim:
    """A message's claim row: its id and outcome, and what this run recorded (None: another
    run had handled the message, so nothing was recorded again)."""

    inbound_id: int
    outcome: str
    tracked: Tracked | None


@dataclass(frozen=True)
class _Reading:
    """One run over one mailbox: the pieces each message goes through."""

    engine: Engine
    mailbox: ImapMailbox
    key: str
    uidvalidity: int
    done_folder: str
    now: Callable[[], datetime]
    summary: InboxSummary

    def one(self, uid: int, *, context: TrackingContext, worker: str) -> None:
        fetched = self.mailbox.fetch(uid)
        if fetched is None:  # moved away meanwhile, by another run
            with write_transaction(self.engine) as connection:
                self.advance(connection, uid)
            return
        received = min(fetched.received_at, self.now())
        claim = claim_and_track(
            self.engine,
            fetched.raw,
            mailbox=self.key,
            uidvalidity=self.uidvalidity,
            uid=uid,
            context=context,
            worker=worker,
            received=received,
            now=self.now(),
        )
        tracked = claim.tracked
        if tracked is None:
            self.summary.already_handled += 1
        else:
            self.summary.counts.setdefault(tracked.kind, Counter())[tracked.outcome] += 1
            if tracked.delivery_id is not None:
                self.summary.deliveries.add(tracked.delivery_id)
        if claim.outcome == "unparsed":
            self.mailbox.add_flags(uid, UNPARSED_FLAGS)
            if tracked is not None:
                self.summary.unparsed.append(
                    Unparsed(uid, claim.inbound_id, tracked.sender, tracked.subject, tracked.detail)
                )
            with write_transaction(self.engine) as connection:
                self.advance(connection, uid)
        else:
            self.move_once(claim.inbound_id, uid, advance=True)

    def move_once(self, inbound_id: int, uid: int, *, advance: bool) -> None:
        """Move the message of row ``inbound_id`` unless a run already did, holding the row."""
        with write_transaction(self.engine) as connection:
            query = sa.select(_IM.c.moved_at).where(_IM.c.id == inbound_id)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update()
            if connection.execute(query).scalar_one() is None:
                self.mailbox.move(uid, self.done_folder)  # False if it was gone: moved before
                connection.execute(
                    sa.update(_IM).where(_IM.c.id == inbound_id).values(moved_at=self.now())
                )
                self.summary.moved += 1
            if advance:
                self.advance(connection, uid)

    def advance(self, connection: Connection, uid: int) -> None:
        """Move the cursor up to ``uid`` (never down: another run may be further on)."""
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        same = _C.c.uidvalidity == self.uidvalidity
        connection.execute(
            dialect.insert(_C)
            .values(
                mailbox=self.key, uidvalidity=self.uidvalidity, last_uid=uid, updated_at=self.now()
            )
            .on_conflict_do_update(
                index_elements=[_C.c.mailbox],
                set_={
                    "last_uid": sa.case(
                        (sa.and_(same, _C.c.last_uid > uid), _C.c.last_uid), else_=uid
                    ),
                    "uidvalidity": self.uidvalidity,
                    "updated_at": self.now(),
                },
            )
        )
        self.summary.last_uid = max(self.summary.last_uid, uid)


def claim_and_track(
    engine: Engine,
    raw: bytes,
    *,
    mailbox: str,
    uidvalidity: int,
    uid: int,
    context: TrackingContext,
    worker: str,
    received: datetime,
    now: datetime,
) -> Claim:
    """Insert the message's claim row and record the message, in one write transaction.

    When the row exists (same digest, or same mailbox, UIDVALIDITY and UID), another run
    handled the message: nothing is recorded again, and its row's outcome is returned.

    Args:
        received: when the server received the message (its time of receipt for recording).
        now: the time of the claim.
    """
    digest = hashlib.sha256(raw).hexdigest()
    with write_transaction(engine) as connection:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        inbound_id = connection.execute(
            dialect.insert(_IM)
            .values(
                digest=digest,
                mailbox=mailbox,
                uidvalidity=uidvalidity,
                uid=uid,
                outcome="claimed",
                claimed_by=worker,
                claimed_at=now,
            )
            .on_conflict_do_nothing()
            .returning(_IM.c.id)
        ).scalar()
        if inbound_id is None:
            earlier = connection.execute(
                sa.select(_IM.c.id, _IM.c.outcome).where(
                    sa.or_(
                        _IM.c.digest == digest,
                        sa.and_(
                            _IM.c.mailbox == mailbox,
                            _IM.c.uidvalidity == uidvalidity,
                            _IM.c.uid == uid,
                        ),
                    )
                )
            ).first()
            assert earlier is not None  # the conflict was with it
            return Claim(earlier.id, earlier.outcome, None)
        tracked = _track(connection, raw, digest=digest, context=context, received=received)
        connection.execute(
            sa.update(_IM)
            .where(_IM.c.id == inbound_id)
            .values(
                kind=tracked.kind[:16],
                outcome=tracked.outcome[:16],
                message_id=_clip(tracked.message_id, 500),
                sender=_clip(tracked.sender, 320),
                subject=_clip(tracked.subject, 500),
                detail=_clip(tracked.detail, 1000),
                delivery_id=tracked.delivery_id,
                alumnus_id=tracked.alumnus_id,
                processed_at=now,
            )
        )
    return Claim(inbound_id, tracked.outcome, tracked)


def _track(
    connection: Connection,
    raw: bytes,
    *,
    digest: str,
    context: TrackingContext,
    received: datetime,
) -> Tracked:
    """``track_message`` in a savepoint: a message it fails on is kept for a person (outcome
    unparsed) instead of stopping every later run at the same message."""
    try:
        with connection.begin_nested():
            return track_message(connection, raw, digest=digest, context=context, now=received)
    except sa.exc.OperationalError:  # the database itself (gone, locked): the run stops
        raise
    except Exception as exc:
        why = f"could not be handled ({type(exc).__name__}: {exc})"
        return Tracked("unknown", "unparsed", None, None, None, None, None, why[:1000])


def _start(engine: Engine, key: str, uidvalidity: int, now: datetime) -> tuple[int, bool]:
    """The UID to read after, and whether the mailbox was renumbered since the last run (the
    cursor then starts again at 0 under the new UIDVALIDITY)."""
    with engine.connect() as connection:
        cursor = connection.execute(
            sa.select(_C.c.uidvalidity, _C.c.last_uid).where(_C.c.mailbox == key)
        ).first()
    if cursor is None:
        return 0, False
    if cursor.uidvalidity == uidvalidity:
        return int(cursor.last_uid), False
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(_C)
            .where(_C.c.mailbox == key, _C.c.uidvalidity == cursor.uidvalidity)
            .values(uidvalidity=uidvalidity, last_uid=0, updated_at=now)
        )
    return 0, True


def _unmoved(engine: Engine, key: str, uidvalidity: int) -> list[tuple[int, int]]:
    """(row id, UID) of handled messages of this numbering that were never moved."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(_IM.c.id, _IM.c.uid)
            .where(
                _IM.c.mailbox == key,
                _IM.c.uidvalidity == uidvalidity,
                _IM.c.moved_at.is_(None),
                _IM.c.outcome != "unparsed",
            )
            .order_by(_IM.c.uid)
        )
        return [(int(r.id), int(r.uid)) for r in rows]


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None
