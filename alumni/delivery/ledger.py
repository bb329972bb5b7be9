"""The delivery ledger: the record of what was sent, and the heart of exactly-once.

1. ``plan`` writes one Delivery row per (campaign, alum, channel) — pending with a due time, or
   skipped with its reason — in one transaction. Running it again writes nothing new (it only
   adds alumni who joined the class since).
2. ``claim`` hands a worker a batch of due rows (SQLite ``BEGIN IMMEDIATE``; PostgreSQL
   ``FOR UPDATE SKIP LOCKED``). A row claimed by a worker that died (its lease ran out) is
   claimed again and flagged ``maybe_duplicate``: it was in flight at the crash.
3. ``record`` marks rows sent as soon as the server accepted them (in groups, by a writer
   thread: see ``ReceiptBuffer``), puts transient failures back with a back-off, and fails
   permanent ones.

The in-flight bound: after a crash, at most the messages a sending process had sent but not yet
marked can go twice, and ``ReceiptBuffer`` keeps that to ``2 * MAX_UNWRITTEN`` (one group being
written, one waiting) plus one per open SMTP connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import bulk_insert, write_transaction
from alumni.delivery.audience import Budget, Member, decide
from alumni.delivery.send_time import due_at, parse_send_at, zone
from alumni.messages.mime import make_message_id
from alumni.models import (
    Alumnus,
    Campaign,
    CampaignStatus,
    Consent,
    ContactPoint,
    Delivery,
    DeliveryStatus,
    table_of,
    utcnow,
)
from alumni.people.suppression import suppress, suppressed_scopes
from alumni.settings import Settings

_A = table_of(Alumnus)
_CP = table_of(ContactPoint)
_CO = table_of(Consent)
_C = table_of(Campaign)
_D = table_of(Delivery)

MAX_ATTEMPTS = 5
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)


@dataclass(frozen=True)
class PlanOptions:
    """Office-wide rules that shape a plan."""

    office_timezone: str = "UTC"
    budget: Budget = field(default_factory=Budget)
    require_consent: bool = False
    message_id_domain: str = "school.example"


@dataclass(frozen=True)
class PlanSummary:
    campaign_id: int
    added: int
    pending: int
    skipped: int


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


# Alumni planned per round of queries and inserts: memory stays flat whatever the class size.
PLAN_CHUNK = 2000


def plan(engine: Engine, campaign_id: int, *, now: datetime, options: PlanOptions) -> PlanSummary:
    """Write the campaign's delivery rows (see the module docstring). Safe to run again."""
    with write_transaction(engine) as connection:
        campaign = load_campaign(connection, campaign_id, lock=True)
        if campaign.status == CampaignStatus.stopped:
            raise RuntimeError(f"campaign {campaign_id} was stopped: {campaign.note}")
        send_at = parse_send_at(campaign.send_at)
        already = set(
            connection.execute(
                sa.select(_D.c.alumnus_id).where(
                    _D.c.campaign_id == campaign_id, _D.c.channel == campaign.channel
                )
            ).scalars()
        )
        people = [p for p in _class_members(connection, campaign) if p.id not in already]
        # most of a class shares a few zones: resolve each zone and its due time once
        timing: dict[str | None, tuple[str, datetime]] = {}
        added = 0
        for start in range(0, len(people), PLAN_CHUNK):
            chunk = people[start : start + PLAN_CHUNK]
            members = _members(connection, chunk, campaign, now=now, window=options.budget.days)
            rows = []
            for person in chunk:
                member = members[person.id]
                reason = decide(
                    member,
                    purpose=campaign.purpose,
                    budget=options.budget,
                    require_consent=options.require_consent,
                )
                zone_due = timing.get(person.timezone)
                if zone_due is None:
                    tz = zone(person.timezone, options.office_timezone)
                    due = due_at(now=now, send_at=send_at, tz=tz, not_before=campaign.not_before)
                    zone_due = timing[person.timezone] = (tz.key, due)
                rows.append(
                    {
                        "campaign_id": campaign_id,
                        "alumnus_id": person.id,
                        "channel": campaign.channel,
                        "address": member.email if reason is None else None,
                        "locale": person.locale,
                        "timezone": zone_due[0],
                        "counts_toward_budget": campaign.purpose != "service",
                        "status": DeliveryStatus.skipped if reason else DeliveryStatus.pending,
                        "skip_reason": reason.value if reason else None,
                        "due_at": None if reason else zone_due[1],
                        "attempts": 0,
                        "maybe_duplicate": False,
                        # fixed per (campaign, alum, channel): a resend after a crash carries it
                        "message_id": None
                        if reason
                        else make_message_id(
                            f"{campaign_id}.{person.id}.{campaign.channel}",
                            options.message_id_domain,
                        ),
                    }
                )
            bulk_insert(connection, _D, rows)
            added += len(rows)
        if campaign.status == CampaignStatus.draft:
            connection.execute(
                sa.update(_C)
                .where(_C.c.id == campaign_id)
                .values(status=CampaignStatus.planned, planned_at=now)
            )
        counts: dict[str, int] = dict(
            connection.execute(
                sa.select(_D.c.status, sa.func.count())
                .where(_D.c.campaign_id == campaign_id)
                .group_by(_D.c.status)
            ).all()
        )
    return PlanSummary(
        campaign_id=campaign_id,
        added=added,
        pending=sum(n for s, n in counts.items() if s != DeliveryStatus.skipped),
        skipped=counts.get(DeliveryStatus.skipped, 0),
    )


def _in_class(query: sa.Select[Any], campaign: Any, low: int, high: int) -> sa.Select[Any]:
    """Restrict a query joined to alumni to the campaign's class, alumni ids low to high.

    An id range, not a list of ids: the statement stays the same, so it is compiled once.
    """
    query = query.where(_A.c.class_year == campaign.class_year, _A.c.id.between(low, high))
    if campaign.programme:
        query = query.where(_A.c.programme == campaign.programme)
    return query


def _class_members(connection: Connection, campaign: Any) -> list[Any]:
    query = sa.select(_A.c.id, _A.c.status, _A.c.timezone, _A.c.locale).where(
        _A.c.class_year == campaign.class_year
    )
    if campaign.programme:
        query = query.where(_A.c.programme == campaign.programme)
    return list(connection.execute(query.order_by(_A.c.id)))


def _members(
    connection: Connection, people: list[Any], campaign: Any, *, now: datetime, window: int
) -> dict[int, Member]:
    """Read each person's email, suppressions, consent and recent messages (people by id)."""
    low, high = people[0].id, people[-1].id
    emails: dict[int, str] = {}
    for alumnus_id, value in connection.execute(
        _in_class(
            sa.select(_CP.c.alumnus_id, _CP.c.value).join(_A, _A.c.id == _CP.c.alumnus_id),
            campaign,
            low,
            high,
        )
        .where(_CP.c.kind == "email", _CP.c.status == "ok", _CP.c.superseded_at.is_(None))
        .order_by(_CP.c.id)
    ):
        emails[alumnus_id] = value  # the newest current address wins
    consent: dict[int, bool] = {}
    for alumnus_id, granted in connection.execute(
        _in_class(
            sa.select(_CO.c.alumnus_id, _CO.c.granted).join(_A, _A.c.id == _CO.c.alumnus_id),
            campaign,
            low,
            high,
        )
        .where(_CO.c.purpose == campaign.purpose, _CO.c.channel.in_(("any", "email")))
        .order_by(_CO.c.at, _CO.c.id)
    ):
        consent[alumnus_id] = granted
    recent: dict[int, int] = dict(
        connection.execute(
            _in_class(
                sa.select(_D.c.alumnus_id, sa.func.count()).join(_A, _A.c.id == _D.c.alumnus_id),
                campaign,
                low,
                high,
            )
            .where(
                _D.c.counts_toward_budget.is_(True),
                sa.or_(
                    sa.and_(
                        _D.c.status == DeliveryStatus.sent,
                        _D.c.sent_at >= now - timedelta(days=window),
                    ),
                    _D.c.status.in_((DeliveryStatus.pending, DeliveryStatus.claimed)),
                ),
            )
            .group_by(_D.c.alumnus_id)
        ).all()
    )
    wanted = [emails[p.id] for p in people if p.id in emails]
    blocked = suppressed_scopes(connection, [("email", e) for e in wanted])
    none: frozenset[str] = frozenset()
    return {
        person.id: Member(
            alumnus_id=person.id,
            status=person.status,
            email=(email := emails.get(person.id)),
            suppressed_scopes=frozenset(blocked.get(("email", email), none)) if email else none,
            consent=consent.get(person.id),
            recent_messages=recent.get(person.id, 0),
        )
        for person in people
    }


def iter_unsent(engine: Engine, campaign_id: int, *, chunk: int = 2000) -> Iterator[Claimed]:
    """Every delivery of the campaign not yet sent, failed or skipped; claims nothing."""
    last = 0
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                _claimed_query()
                .where(
                    _D.c.campaign_id == campaign_id,
                    _D.c.id > last,
                    _D.c.status.in_((DeliveryStatus.pending, DeliveryStatus.claimed)),
                )
                .order_by(_D.c.id)
                .limit(chunk)
            ).all()
        if not rows:
            return
        yield from (_claimed(r) for r in rows)
        last = rows[-1].id


def _claimed_query() -> sa.Select[Any]:
    return sa.select(
        _D.c.id,
        _D.c.alumnus_id,
        _D.c.address,
        _D.c.message_id,
        _D.c.locale,
        _D.c.attempts,
        _A.c.first_name,
        _A.c.last_name,
        _A.c.class_year,
        _A.c.programme,
        _A.c.city,
        _A.c.country,
    ).join(_A, _A.c.id == _D.c.alumnus_id)


def _claimed(r: Any) -> Claimed:
    return Claimed(
        delivery_id=r.id,
        alumnus_id=r.alumnus_id,
        address=r.address,
        message_id=r.message_id,
        locale=r.locale,
        first_name=r.first_name,
        last_name=r.last_name,
        class_year=r.class_year,
        programme=r.programme,
        city=r.city,
        country=r.country,
        attempts=r.attempts,
    )


def claim(
    engine: Engine,
    campaign_id: int,
    *,
    worker: str,
    limit: int,
    now: datetime,
    lease: timedelta,
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries for ``worker``; rows whose lease ran out count.

    Rows go in order of due time, then id.
    """
    due = (
        sa.and_(_D.c.status == DeliveryStatus.pending, _D.c.due_at <= now),
        sa.and_(_D.c.status == DeliveryStatus.claimed, _D.c.claimed_at < now - lease),
    )
    with write_transaction(engine) as connection:
        # One query per status, each read in order from the (campaign, status, due) index;
        # one query with OR sorted every row of the campaign, sent ones too, at every claim.
        found: list[Any] = []
        for condition in due:
            query = (
                sa.select(_D.c.id, _D.c.status, _D.c.due_at)
                .where(_D.c.campaign_id == campaign_id, condition)
                .order_by(_D.c.due_at, _D.c.id)
                .limit(limit)
            )
            if engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=_D)
            found.extend(connection.execute(query).all())
        found.sort(key=lambda r: (r.due_at is not None, r.due_at or 0, r.id))
        del found[limit:]
        if not found:
            return []
        ids = [r.id for r in found]
        stale = [r.id for r in found if r.status == DeliveryStatus.claimed]
        connection.execute(
            sa.update(_D)
            .where(_D.c.id.in_(ids))
            .values(
                status=DeliveryStatus.claimed,
                claimed_by=worker,
                claimed_at=now,
                attempts=_D.c.attempts + 1,
            )
        )
        if stale:
            connection.execute(sa.update(_D).where(_D.c.id.in_(stale)).values(maybe_duplicate=True))
        rows = connection.execute(_claimed_query().where(_D.c.id.in_(ids)).order_by(_D.c.id))
        return [_claimed(r) for r in rows]


@dataclass(frozen=True, slots=True)
class Result:
    """What happened to one claimed delivery."""

    delivery_id: int
    outcome: str  # sent / transient / permanent
    reply: str = ""
    address: str | None = None
    enhanced_status: str | None = None


def record(
    engine: Engine,
    results: Sequence[Result],
    *,
    now: datetime,
    worker: str,
    retry_delays: Sequence[timedelta] = RETRY_DELAYS,
) -> None:
    """Write results: sent rows at once; transient ones back to pending; permanent ones failed.

    A 5.1.1 (no such mailbox) suppresses the address and marks the contact invalid.
    """
    if not results:
        return
    sent = [{"b_id": r.delivery_id} for r in results if r.outcome == "sent"]
    with write_transaction(engine) as connection:
        if sent:
            connection.execute(
                sa.update(_D)
                .where(_D.c.id == sa.bindparam("b_id"))
                .values(status=DeliveryStatus.sent, sent_at=now, error=None),
                sent,
            )
        transient = [r for r in results if r.outcome == "transient"]
        if transient:
            attempts = dict(
                connection.execute(
                    sa.select(_D.c.id, _D.c.attempts).where(
                        _D.c.id.in_([r.delivery_id for r in transient])
                    )
                ).all()
            )
            for r in transient:
                tries = attempts.get(r.delivery_id, MAX_ATTEMPTS)
                give_up = tries >= MAX_ATTEMPTS
                connection.execute(
                    sa.update(_D)
                    .where(
                        _D.c.id == r.delivery_id,
                        _D.c.status == DeliveryStatus.claimed,
                        _D.c.claimed_by == worker,
                    )
                    .values(
                        status=DeliveryStatus.failed if give_up else DeliveryStatus.pending,
                        due_at=None
                        if give_up
                        else now + retry_delays[min(tries, len(retry_delays)) - 1],
                        error=r.reply[:1000],
                    )
                )
        for r in results:
            if r.outcome != "permanent":
                continue
            connection.execute(
                sa.update(_D)
                .where(_D.c.id == r.delivery_id)
                .values(status=DeliveryStatus.failed, error=r.reply[:1000])
            )
            if r.enhanced_status == "5.1.1" and r.address:
                suppress(connection, kind="email", value=r.address, reason="hard_bounce")
                connection.execute(
                    sa.update(_CP)
                    .where(
                        _CP.c.kind == "email",
                        _CP.c.value == r.address,
                        _CP.c.superseded_at.is_(None),
                    )
                    .values(status="invalid")
                )


# How many answered results a ReceiptBuffer lets wait for its writer before the senders wait.
MAX_UNWRITTEN = 50
# How long the writer waits for half that many before writing fewer (seconds).
GROUP_WAIT = 0.05


class ReceiptBuffer:
    """Collects results from sending threads; a writer thread of its own records them.

    Thread-safe. The writer takes everything collected so far (once half of ``max_unwritten``
    have gathered, or ``GROUP_WAIT`` has passed) and records it in one transaction while the
    senders go on. A sender that would leave more than ``max_unwritten`` results waiting blocks
    until the writer has taken them. The in-flight bound: after a crash at most
    ``2 * max_unwritten`` accepted messages (one group being written, one waiting), plus one per
    open connection (answered, its result not yet handed over), are unrecorded and can go twice.
    ``flush`` writes the rest and stops the writer; a failed write is raised by the next
    ``add`` or ``flush``, so sending stops.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        worker: str,
        max_unwritten: int = MAX_UNWRITTEN,
        clock: Callable[[], datetime] = utcnow,
        retry_delays: Sequence[timedelta] = RETRY_DELAYS,
    ) -> None:
        if max_unwritten < 1:
            raise ValueError(f"max_unwritten must be at least 1, not {max_unwritten}")
        self.engine = engine
        self.retry_delays = retry_delays
        self.worker = worker
        self.max_unwritten = max_unwritten
        self._group = max(1, max_unwritten // 2)
        self._clock = clock
        self._changed = threading.Condition()
        self._pending: list[Result] = []
        self._stopping = False
        self._error: BaseException | None = None
        self._writer: threading.Thread | None = None
        self.counts: dict[str, int] = {"sent": 0, "transient": 0, "permanent": 0}

    @classmethod
    def for_settings(cls, engine: Engine, settings: Settings, *, worker: str) -> ReceiptBuffer:
        """A buffer with the retry delays of ``ALUMNI_RETRY_DELAYS_SECONDS``."""
        delays = [timedelta(seconds=s) for s in settings.retry_delays_seconds]
        return cls(engine, worker=worker, retry_delays=delays)

    def add(self, result: Result) -> None:
        """Hand over one result; waits while ``max_unwritten`` are already waiting."""
        with self._changed:
            while len(self._pending) >= self.max_unwritten and self._error is None:
                self._changed.wait()
            self._raise_error()
            self._pending.append(result)
            self.counts[result.outcome] += 1
            if self._writer is None:
                self._start_writer()
            elif len(self._pending) in (1, self._group):
                self._changed.notify_all()

    def _start_writer(self) -> None:
        self._stopping = False
        self._writer = threading.Thread(target=self._write_all, name="receipt-writer", daemon=True)
        self._writer.start()

    def flush(self) -> None:
        """Write everything collected so far and stop the writer (``add`` starts it again)."""
        while True:
            with self._changed:
                writer = self._writer
                if writer is None:
                    self._raise_error()
                    return
                self._stopping = True
                self._changed.notify_all()
            writer.join()
            with self._changed:
                self._writer = None
                if self._pending and self._error is None:  # added while the writer stopped
                    self._start_writer()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _write_all(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._stopping:
                    self._changed.wait()
                # fewer, larger transactions: wait a moment for a group to gather
                self._changed.wait_for(
                    lambda: self._stopping or len(self._pending) >= self._group, GROUP_WAIT
                )
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
                self._changed.notify_all()  # room for the senders again
            try:
                record(
                    self.engine,
                    batch,
                    now=self._clock(),
                    worker=self.worker,
                    retry_delays=self.retry_delays,
                )
            except BaseException as exc:  # raised to the senders by add() and flush()
                with self._changed:
                    self._error = exc
                    self._changed.notify_all()
                return


def release(engine: Engine, delivery_ids: Iterable[int], *, worker: str) -> None:
    """Give claimed rows back (pending, due now) when a batch stops before sending them."""
    ids = list(delivery_ids)
    if not ids:
        return
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(_D)
            .where(
                _D.c.id.in_(ids), _D.c.status == DeliveryStatus.claimed, _D.c.claimed_by == worker
            )
            .values(status=DeliveryStatus.pending, attempts=_D.c.attempts - 1)
        )
