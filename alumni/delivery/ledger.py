"""The ledger: one claim, lease and record mechanism for the rows of every channel.

A channel's rows (``DELIVERIES``: email and event mailings; ``POSTS``: social posts;
``NOTICES``: the office's own notices, escalation rungs and owners' digests, which belong to
no campaign) move pending → claimed → sent, pending again after a back-off, or failed; skipped
rows never move.

1. ``claim_rows`` (``claim`` for deliveries) gives a worker a batch of due rows under a lease
   (SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``FOR UPDATE SKIP LOCKED``).
2. ``Heartbeat`` renews the lease of a live worker's rows every third of it, however slow its
   batch (on PostgreSQL skipping, until the next beat, a row being recorded meanwhile). Rows
   whose lease lapsed (``lease_lapsed``: their worker died) are due again, and the
   next claim takes them over.
3. ``mark_handed`` notes, one UPDATE per group, the rows about to be handed to the transport. A
   row taken over while handed and not recorded is flagged ``maybe_duplicate``: it was in flight
   at the crash. A row claimed but never handed over is taken over unflagged.
4. ``record`` writes what the peer said: sent; transient back to pending after a back-off (or
   the peer's own Retry-After) until ``MAX_ATTEMPTS``; permanent failed. ``release`` gives
   unsent rows back without counting an attempt.

Planning rows is ``alumni.delivery.planning``; where a campaign stands and what a run does next
is ``alumni.delivery.progress``; the email receipts writer is ``alumni.delivery.receipts``.
"""

from __future__ import annotations

import logging
import operator
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.models import (
    Alumnus,
    Campaign,
    Delivery,
    DeliveryStatus,
    OfficeNotice,
    SocialPost,
    table_of,
    utcnow,
)
from alumni.people.bounced import mark_hard_bounce

_A = table_of(Alumnus)
_C = table_of(Campaign)
_D = table_of(Delivery)

MAX_ATTEMPTS = 5
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)

_log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Channel:
    """Where a channel's rows live, and what recording one of them touches.

    Attributes:
        name: what the rows are called in messages (``deliveries``, ``posts``).
        table: the table of the rows; each has id, status, due_at, attempts, claimed_at,
            claimed_by, handed_at, maybe_duplicate and error, and campaign_id if
            ``by_campaign``.
        sent_at: the column stamped when the peer accepted a row.
        hard_bounces: rows carry an email address, and a 5.1.1 suppresses it.
        by_campaign: rows belong to a campaign, and are claimed and renewed a campaign at a
            time; otherwise (office notices) the whole channel is one queue.
    """

    name: str
    table: sa.Table
    sent_at: str
    hard_bounces: bool = False
    by_campaign: bool = True

    @cached_property
    def _mark_sent(self) -> sa.Update:
        """UPDATE the rows ``ids`` to sent at ``now``: built once, run for most answers."""
        t = self.table
        return (
            sa.update(t)
            .where(t.c.id.in_(sa.bindparam("ids", expanding=True)))
            .values(
                {"status": DeliveryStatus.sent, self.sent_at: sa.bindparam("now"), "error": None}
            )
        )

    @cached_property
    def _mark_handed(self) -> sa.Update:
        """UPDATE the rows ``ids`` that ``worker`` holds to handed over at ``now``."""
        t = self.table
        return (
            sa.update(t)
            .where(
                t.c.id.in_(sa.bindparam("ids", expanding=True)),
                t.c.status == DeliveryStatus.claimed,
                t.c.claimed_by == sa.bindparam("worker"),
            )
            .values(handed_at=sa.bindparam("now"))
        )


DELIVERIES = Channel("deliveries", _D, "sent_at", hard_bounces=True)
POSTS = Channel("posts", table_of(SocialPost), "posted_at")
NOTICES = Channel("notices", table_of(OfficeNotice), "sent_at", by_campaign=False)


def of_campaign(channel: Channel, campaign_id: int | None) -> list[Any]:
    """The WHERE terms that keep a claim or renewal to one campaign's rows: none for a channel
    without campaigns (``campaign_id`` None).

    Raises:
        ValueError: a campaign given for a channel without campaigns, or none for one with.
    """
    if channel.by_campaign != (campaign_id is not None):
        wanted = "a campaign id" if channel.by_campaign else "no campaign id"
        raise ValueError(f"the {channel.name} channel takes {wanted}, not {campaign_id!r}")
    return [] if campaign_id is None else [channel.table.c.campaign_id == campaign_id]


def takeover_cutoff(*, now: datetime, lease: timedelta) -> datetime:
    """Claims last renewed before this instant may be taken over at ``now``."""
    return now - lease


def lease_lapsed(claimed_at: datetime, *, now: datetime, lease: timedelta) -> bool:
    """Whether a claim last renewed at ``claimed_at`` may be taken over at ``now`` (pure).

    A live worker renews its claims every ``renew_every(lease)``, so only a dead one's lapse.
    """
    return claimed_at < takeover_cutoff(now=now, lease=lease)


def renew_every(lease: timedelta) -> timedelta:
    """How often a live worker renews its claims: a third of the lease, so two renewals can
    be late (a busy database, a paused process) before anyone may take the rows over."""
    return lease / 3


def due_conditions(channel: Channel, *, now: datetime, lease: timedelta) -> tuple[Any, Any]:
    """The two ways a row is due: pending and its time has come; claimed under a lapsed lease."""
    t = channel.table
    return (
        sa.and_(t.c.status == DeliveryStatus.pending, t.c.due_at <= now),
        sa.and_(
            t.c.status == DeliveryStatus.claimed,
            t.c.claimed_at < takeover_cutoff(now=now, lease=lease),
        ),
    )


def load_campaign(connection: Connection, campaign_id: int, *, lock: bool = False) -> Any:
    """Return the campaign row, or raise LookupError naming the id.

    With ``lock``, hold the row until the transaction ends (PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` already serialises writers), so two runs cannot plan at once.
    """
    query = sa.select(_C).where(_C.c.id == campaign_id)
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        raise LookupError(f"no campaign with id {campaign_id}; `alumni campaign list` shows them")
    return row


def claim_rows(
    engine: Engine,
    channel: Channel,
    campaign_id: int | None,
    *,
    worker: str,
    limit: int,
    now: datetime,
    lease: timedelta,
    read: Callable[[Connection, list[int]], list[T]],
    where: Sequence[Any] = (),
) -> list[T]:
    """Claim up to ``limit`` due rows of the campaign (of the whole channel when it has no
    campaigns: ``campaign_id`` None) for ``worker``; ``read`` turns the claimed ids into what
    the worker needs, in the same transaction. ``where`` narrows the rows further (e.g. only
    the kinds of row this worker can send).

    Rows go in order of due time, then id. A row taken over from a worker whose lease lapsed is
    flagged ``maybe_duplicate`` if that worker had handed it over and not recorded it.
    """
    t = channel.table
    scope = [*of_campaign(channel, campaign_id), *where]
    with write_transaction(engine) as connection:
        # One query per way of being due, each read in order from the (campaign, status, due)
        # index; one query with OR sorted every row of the campaign, sent ones too.
        found: list[Any] = []
        for condition in due_conditions(channel, now=now, lease=lease):
            query = (
                sa.select(t.c.id, t.c.status, _raw(t.c.due_at), _raw(t.c.handed_at))
                .where(*scope, condition)
                .order_by(t.c.due_at, t.c.id)
                .limit(limit)
            )
            if engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=t)
            found.extend(connection.execute(query).all())
        found.sort(key=lambda r: (r.due_at is not None, r.due_at or 0, r.id))
        del found[limit:]
        if not found:
            return []
        ids = [r.id for r in found]
        in_flight = [
            r.id for r in found if r.status == DeliveryStatus.claimed and r.handed_at is not None
        ]
        if in_flight:
            connection.execute(
                sa.update(t).where(t.c.id.in_(in_flight)).values(maybe_duplicate=True)
            )
        connection.execute(
            sa.update(t)
            .where(t.c.id.in_(ids))
            .values(
                status=DeliveryStatus.claimed,
                claimed_by=worker,
                claimed_at=now,
                handed_at=None,
                attempts=t.c.attempts + 1,
            )
        )
        return read(connection, ids)


def _raw(column: sa.Column[Any]) -> sa.Label[Any]:
    """``column`` as the driver gives it: a time only sorted or tested for None need not be
    parsed into a datetime (on SQLite, a third of a claim of 5,000)."""
    return sa.type_coerce(column, sa.types.NullType()).label(column.name)


def mark_handed(
    engine: Engine, channel: Channel, row_ids: Sequence[int], *, worker: str, now: datetime
) -> set[int]:
    """Note that these claimed rows are about to go to the transport; return those still held
    by ``worker`` (only those may be handed over: another worker took the rest over)."""
    if not row_ids:
        return set()
    t = channel.table
    mine = sa.and_(
        t.c.id.in_(list(row_ids)),
        t.c.status == DeliveryStatus.claimed,
        t.c.claimed_by == worker,
    )
    with write_transaction(engine) as connection:
        result = connection.execute(
            channel._mark_handed, {"ids": list(row_ids), "worker": worker, "now": now}
        )
        if result.rowcount == len(row_ids):
            return set(row_ids)
        return set(connection.execute(sa.select(t.c.id).where(mine)).scalars())


def renew(
    engine: Engine, channel: Channel, campaign_id: int | None, *, worker: str, now: datetime
) -> int:
    """Renew the lease of every row of the campaign (of the channel, for one without campaigns)
    that ``worker`` holds; return how many.

    On PostgreSQL a row another transaction has locked (the receipt writer recording it) is
    skipped until the next beat: waiting for it while holding the rest deadlocked against the
    writer, which locks the same rows in its own order.
    """
    t = channel.table
    mine = [*of_campaign(channel, campaign_id), t.c.status == DeliveryStatus.claimed]
    mine.append(t.c.claimed_by == worker)
    with write_transaction(engine) as connection:
        if engine.dialect.name == "postgresql":
            free = sa.select(t.c.id).where(*mine).with_for_update(skip_locked=True)
            statement = sa.update(t).where(t.c.id.in_(free.scalar_subquery()))
        else:
            statement = sa.update(t).where(*mine)
        result = connection.execute(statement.values(claimed_at=now))
    return int(result.rowcount)


class Heartbeat:
    """Renews a worker's claims on one campaign (or on a channel without campaigns:
    ``campaign_id`` None) every third of the lease while it works.

    A context manager: a thread renews from ``__enter__`` until ``__exit__``. A renewal that
    fails (the database busy or away) is logged and tried again at the next beat, so a slow
    but live batch keeps its rows; a dead process renews nothing and its rows lapse.
    """

    def __init__(
        self,
        engine: Engine,
        channel: Channel,
        campaign_id: int | None,
        *,
        worker: str,
        lease: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.campaign_id = campaign_id
        self.worker = worker
        self.interval = renew_every(lease).total_seconds()
        self.beats = 0
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ledger-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                renew(
                    self.engine,
                    self.channel,
                    self.campaign_id,
                    worker=self.worker,
                    now=self._clock(),
                )
            except Exception as exc:  # the next beat tries again; the lease has room for it
                _log.warning("could not renew the claims of %s: %s", self.worker, exc)
                continue
            self.beats += 1


@dataclass(frozen=True, slots=True)
class Result:
    """What the peer said about one claimed row.

    Attributes:
        row_id: the delivery or post id.
        outcome: ``sent``, ``transient``, ``permanent``, or ``skipped`` (not to be sent after
            all, e.g. an office notice whose deadline moved; the reply says why).
        reply: the peer's answer (kept as the row's error unless sent).
        address: email only: the recipient, suppressed on a 5.1.1.
        enhanced_status: email only: the RFC 3463 status of the reply (``5.1.1``).
        retry_after: transient only: seconds the peer asked to wait (HTTP Retry-After); a rate
            limit is the peer's schedule, so it is waited out whatever the attempts.
        remote_id: sent only: the peer's id for what it published (a post's id).
        url: sent only: where it can be seen.
    """

    row_id: int
    outcome: str
    reply: str = ""
    address: str | None = None
    enhanced_status: str | None = None
    retry_after: float | None = None
    remote_id: str | None = None
    url: str | None = None


def retry_delay(attempts: int, retry_delays: Sequence[timedelta]) -> timedelta:
    """The back-off before the next try of a row that has had ``attempts`` tries (pure)."""
    return retry_delays[min(max(attempts, 1), len(retry_delays)) - 1]


def record(
    engine: Engine,
    channel: Channel,
    results: Sequence[Result],
    *,
    now: datetime,
    worker: str,
    retry_delays: Sequence[timedelta] = RETRY_DELAYS,
) -> None:
    """Write results in one transaction: sent rows at once; transient ones back to pending
    after their back-off (failed after ``MAX_ATTEMPTS``, unless the peer set the wait);
    permanent ones failed; skipped ones (while ``worker`` still holds them) skipped, with the
    reply as their error.

    A sent or permanent answer is written whoever holds the row (it is what happened); a
    transient one only while ``worker`` still holds it. On channels with ``hard_bounces`` a
    5.1.1 (no such mailbox) suppresses the address and marks the contact invalid.
    """
    if not results:
        return
    t = channel.table
    sent_values = {"status": DeliveryStatus.sent, channel.sent_at: now, "error": None}
    with write_transaction(engine) as connection:
        plain = [r.row_id for r in results if r.outcome == "sent" and not _remote(r)]
        if plain:  # one prepared statement for all of them: most results are these
            connection.execute(channel._mark_sent, {"ids": plain, "now": now})
        for r in results:
            if r.outcome == "sent" and _remote(r):
                connection.execute(
                    sa.update(t)
                    .where(t.c.id == r.row_id)
                    .values(**sent_values, remote_id=r.remote_id, url=r.url)
                )
        transient = [r for r in results if r.outcome == "transient"]
        if transient:
            attempts = dict(
                connection.execute(
                    sa.select(t.c.id, t.c.attempts).where(t.c.id.in_([r.row_id for r in transient]))
                ).all()
            )
            for r in transient:
                tries = attempts.get(r.row_id, MAX_ATTEMPTS)
                if r.retry_after is not None:
                    values: dict[str, Any] = {
                        "status": DeliveryStatus.pending,
                        "due_at": now + timedelta(seconds=r.retry_after),
                    }
                elif tries >= MAX_ATTEMPTS:
                    values = {"status": DeliveryStatus.failed, "due_at": None}
                else:
                    values = {
                        "status": DeliveryStatus.pending,
                        "due_at": now + retry_delay(tries, retry_delays),
                    }
                connection.execute(
                    sa.update(t)
                    .where(
                        t.c.id == r.row_id,
                        t.c.status == DeliveryStatus.claimed,
                        t.c.claimed_by == worker,
                    )
                    .values(**values, error=r.reply[:1000] or None)
                )
        for r in results:
            if r.outcome == "skipped":  # nothing went: only while still held, like transient
                connection.execute(
                    sa.update(t)
                    .where(
                        t.c.id == r.row_id,
                        t.c.status == DeliveryStatus.claimed,
                        t.c.claimed_by == worker,
                    )
                    .values(status=DeliveryStatus.skipped, error=r.reply[:1000] or None)
                )
            if r.outcome != "permanent":
                continue
            connection.execute(
                sa.update(t)
                .where(t.c.id == r.row_id)
                .values(status=DeliveryStatus.failed, error=r.reply[:1000] or None)
            )
            if channel.hard_bounces and r.enhanced_status == "5.1.1" and r.address:
                mark_hard_bounce(connection, r.address)


def _remote(result: Result) -> bool:
    return result.remote_id is not None or result.url is not None


def release(engine: Engine, channel: Channel, row_ids: Iterable[int], *, worker: str) -> int:
    """Give rows ``worker`` claimed and has no answer for back (pending, due as before), not
    counting the attempt; return how many went back."""
    ids = list(row_ids)
    if not ids:
        return 0
    t = channel.table
    with write_transaction(engine) as connection:
        result = connection.execute(
            sa.update(t)
            .where(t.c.id.in_(ids), t.c.status == DeliveryStatus.claimed, t.c.claimed_by == worker)
            .values(status=DeliveryStatus.pending, handed_at=None, attempts=t.c.attempts - 1)
        )
    return int(result.rowcount)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed delivery with what it takes to render and send it."""

    delivery_id: int
    alumnus_id: int
    address: str
    message_id: str
    locale: str | None
    first_name: str
    last_name: str
    class_year: int
    programme: str | None
    city: str | None
    country: str | None
    attempts: int

    def __reduce__(self) -> tuple[type[Claimed], tuple[Any, ...]]:
        # Pickled (to the send workers) as its fields in order: a third of the time of a
        # slots dataclass's own way.
        return Claimed, _CLAIMED_FIELDS(self)


_CLAIMED_FIELDS = operator.attrgetter(*(f.name for f in fields(Claimed)))


def _claimed_query() -> sa.Select[Any]:
    # the columns in the order of Claimed's fields: a row becomes one with Claimed(*row)
    return sa.select(
        _D.c.id,
        _D.c.alumnus_id,
        _D.c.address,
        _D.c.message_id,
        _D.c.locale,
        _A.c.first_name,
        _A.c.last_name,
        _A.c.class_year,
        _A.c.programme,
        _A.c.city,
        _A.c.country,
        _D.c.attempts,
    ).join(_A, _A.c.id == _D.c.alumnus_id)


def _claimed(r: Any) -> Claimed:
    return Claimed(*r)


def _read_deliveries(connection: Connection, ids: list[int]) -> list[Claimed]:
    rows = connection.execute(_claimed_query().where(_D.c.id.in_(ids)).order_by(_D.c.id))
    return [_claimed(r) for r in rows]


def claim(
    engine: Engine,
    campaign_id: int,
    *,
    worker: str,
    limit: int,
    now: datetime,
    lease: timedelta,
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries of an email or event-mailing campaign
    (``claim_rows`` on ``DELIVERIES``)."""
    return claim_rows(
        engine,
        DELIVERIES,
        campaign_id,
        worker=worker,
        limit=limit,
        now=now,
        lease=lease,
        read=_read_deliveries,
    )


def iter_unsent(
    engine: Engine,
    campaign_id: int,
    *,
    chunk: int = 2000,
    after: int = 0,
    through: int | None = None,
) -> Iterator[Claimed]:
    """Every delivery of the campaign not yet sent, failed or skipped, with an id above
    ``after`` (and up to ``through`` when given), in id order; claims nothing. Each chunk is
    read on a connection of its own."""
    last = after
    while True:
        with engine.connect() as connection:
            rows = _unsent_chunk(connection, campaign_id, last, through, chunk)
        if not rows:
            return
        yield from (_claimed(r) for r in rows)
        last = rows[-1].id


def iter_unsent_on(
    connection: Connection, campaign_id: int, *, chunk: int = 2000
) -> Iterator[Claimed]:
    """``iter_unsent`` inside the caller's transaction: a blast's dry run reads the plan it
    has not committed (and never will)."""
    last = 0
    while rows := _unsent_chunk(connection, campaign_id, last, None, chunk):
        yield from (_claimed(r) for r in rows)
        last = rows[-1].id


def _unsent_chunk(
    connection: Connection, campaign_id: int, after: int, through: int | None, chunk: int
) -> Sequence[Any]:
    upto = [] if through is None else [_D.c.id <= through]
    if after == 0:  # start at the campaign's first row, not at the table's
        first = connection.execute(
            sa.select(sa.func.min(_D.c.id)).where(_D.c.campaign_id == campaign_id)
        ).scalar()
        after = 0 if first is None else first - 1
    return connection.execute(
        _claimed_query()
        .where(
            # Read forward from ``after`` in id order, stopping at ``chunk``: "+ 0" keeps the
            # planner off the (campaign, status, due) index, through which every chunk read
            # and sorted all of the campaign's unsent rows (a class of 100,000: 4 s in all).
            _D.c.campaign_id + 0 == campaign_id,
            _D.c.id > after,
            *upto,
            _D.c.status.in_((DeliveryStatus.pending, DeliveryStatus.claimed)),
        )
        .order_by(_D.c.id)
        .limit(chunk)
    ).all()
