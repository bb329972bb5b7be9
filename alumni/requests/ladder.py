"""The escalation ladder: which officers must hear of which open request, and when.

For each deadline a request has running (first response, next update, resolution; none while
the office waits on the alum), the ladder has these rungs:

- ``reminder`` to the owner (the desk lead when it has none) once 75% of the deadline's SLA time
  has passed (measured with ``alumni.requests.clock.elapsed``, so closed hours, holidays and
  pauses do not count);
- ``lead`` to ``ALUMNI_DESK_LEAD`` at the breach;
- ``director`` to ``ALUMNI_DESK_DIRECTOR`` the type's ``director_after`` later;
- for a type that escalates by the hour (welfare: ``escalate_every``), ``repeat-<n>`` every
  ``escalate_every`` after the breach, to the lead, and to the director too after the director
  rung.

A rung belongs to one deadline instant: when a deadline moves (a pause, a word to the alum) its
rungs are new ones, and those of the old instant are never fired again. ``due_rungs`` is pure
(``now`` given). What a catch-up fires: every rung due and not yet fired, in the order they fell
due, each once; of a deadline's hourly repeats only the latest due one (the earlier ones say the
same thing, later), so a day of downtime sends one repeat, not twenty-four.

``escalate`` plans each due rung as rows of the ledger's office-notices channel (one per email
recipient, one for the desk's chat webhook, one for the Prefect event) and sends what is due:
``alumni.requests.office_notices``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.models import Request, RequestPause, RequestStatus, table_of, utcnow
from alumni.requests.clock import BusinessCalendar, Pause, add_span, elapsed
from alumni.requests.deadlines import deadlines_of
from alumni.requests.types import RequestType, Span, load_request_types
from alumni.settings import Settings

if TYPE_CHECKING:
    from alumni.requests.officer_mail import NoticeEvent

DEADLINE_KINDS = ("first_response", "next_update", "resolution")
REMINDER, LEAD, DIRECTOR, REPEAT = "reminder", "lead", "director", "repeat"
LEVELS = {REMINDER: 1, LEAD: 2, DIRECTOR: 3}
REMINDER_SHARE = 0.75  # of a deadline's SLA time, when its owner is reminded
_PRECISION = timedelta(milliseconds=1)  # of the search for a reminder's instant

_Q = table_of(Request)
_P = table_of(RequestPause)


@dataclass(frozen=True, slots=True)
class OnTheClock:
    """An open request as the ladder reads it: its row and the pauses of its clock."""

    request: Any  # a Request row (id, type, owner, status, opened_at, first_response_at, ...)
    pauses: tuple[Pause, ...] = ()


@dataclass(frozen=True, slots=True)
class Officers:
    """Who hears of escalations: the desk lead and the director (addresses)."""

    lead: str
    director: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Officers:
        """``ALUMNI_DESK_LEAD`` (unset: the office's own address, ``ALUMNI_FROM``) and
        ``ALUMNI_DESK_DIRECTOR`` (unset: the lead).

        Raises:
            ValueError: one of them is not an email address (named), or the lead is unset and
                ALUMNI_FROM has no address.
        """
        if settings.desk_lead:
            lead = _officer_address("ALUMNI_DESK_LEAD", settings.desk_lead)
        else:
            local, domain = settings.sender_address()
            lead = f"{local}@{domain}"
        director = settings.desk_director
        if director:
            return cls(lead=lead, director=_officer_address("ALUMNI_DESK_DIRECTOR", director))
        return cls(lead=lead, director=lead)


def _officer_address(setting: str, value: str) -> str:
    """``value`` as one plain address, or ValueError naming the setting and what to write."""
    address = value.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c in address for c in " ,;<>\r\n"):
        raise ValueError(
            f"{setting}={value!r} is not an email address: give one plain address, like "
            "desk-lead@school.edu"
        )
    return address


@dataclass(frozen=True, slots=True)
class Rung:
    """One step of the ladder for one deadline of one request.

    Attributes:
        request_id: the request.
        deadline_kind: ``first_response``, ``next_update`` or ``resolution``.
        deadline: the deadline instant this rung belongs to (a moved deadline makes new rungs).
        rung: ``reminder`` (75% of the SLA time), ``lead`` (the breach), ``director``
            (``director_after`` later), ``repeat-<n>`` (every ``escalate_every`` after it).
        level: 1 reminder, 2 lead, 3 director, 3 + n for ``repeat-<n>``.
        recipients: who is emailed.
        due_at: when the rung fell due.
    """

    request_id: int
    deadline_kind: str
    deadline: datetime
    rung: str
    level: int
    recipients: tuple[str, ...]
    due_at: datetime

    @property
    def breached(self) -> bool:
        """Whether the rung says the deadline has passed (all but the reminder)."""
        return self.rung != REMINDER


@dataclass
class EscalationSummary:
    """What one run of the ladder did.

    Attributes:
        as_of: the instant the desk was read as of.
        fired: the rungs this run planned (each planned once, whoever runs).
        planned: notice rows this run inserted (emails, webhook messages, events).
        superseded: notice rows not sent because their deadline moved or the request closed
            since they were planned.
        sent, retrying, failed: notice rows sent, to be tried again, or given up by this run.
        unknown_types: requests whose type is not in the request types file (not escalated).
    """

    as_of: datetime
    fired: list[Rung] = field(default_factory=list)
    planned: int = 0
    superseded: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unknown_types: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain values (a flow's result): counts, and each fired rung without any content."""
        return {
            "as_of": self.as_of.isoformat(),
            "fired": [
                {
                    "request_id": r.request_id,
                    "deadline_kind": r.deadline_kind,
                    "deadline": r.deadline.isoformat(),
                    "rung": r.rung,
                    "level": r.level,
                }
                for r in self.fired
            ],
            "planned": self.planned,
            "superseded": self.superseded,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "unknown_types": self.unknown_types,
        }


def running_deadlines(
    item: OnTheClock, rtype: RequestType, calendar: BusinessCalendar, *, now: datetime
) -> dict[str, datetime]:
    """The deadlines running at ``now`` by kind; none while the request waits on the alum."""
    found = deadlines_of(item.request, rtype, calendar, item.pauses, now=now)
    if found.paused:
        return {}
    due = {
        "first_response": found.first_response_due,
        "next_update": found.next_update_due,
        "resolution": found.resolution_due,
    }
    return {kind: at for kind, at in due.items() if at is not None}


def due_rungs(
    requests: Iterable[OnTheClock],
    *,
    now: datetime,
    types: Mapping[str, RequestType],
    calendar: BusinessCalendar,
    settings: Settings,
) -> list[Rung]:
    """Every rung due at ``now`` for these open requests, in the order they fell due (pure).

    Requests of a type missing from ``types`` are left out (``escalate`` reports them).
    """
    officers = Officers.from_settings(settings)
    rungs: list[Rung] = []
    for item in requests:
        rtype = types.get(item.request.type)
        if rtype is None:
            continue
        for kind, deadline in running_deadlines(item, rtype, calendar, now=now).items():
            rungs.extend(
                _rungs_of(item, rtype, kind, deadline, calendar, officers=officers, now=now)
            )
    return sorted(rungs, key=lambda r: (r.due_at, r.request_id, r.level))


def _rungs_of(
    item: OnTheClock,
    rtype: RequestType,
    kind: str,
    deadline: datetime,
    calendar: BusinessCalendar,
    *,
    officers: Officers,
    now: datetime,
) -> list[Rung]:
    """The rungs of one deadline that are due at ``now``."""
    request = item.request
    pauses = [pause for pause in item.pauses if pause[0] <= now]  # known as of now: all ended

    def rung(name: str, level: int, recipients: Sequence[str], due_at: datetime) -> Rung:
        unique = tuple(dict.fromkeys(recipients))
        return Rung(request.id, kind, deadline, name, level, unique, due_at)

    found: list[Rung] = []
    reminder_at = reminder_instant(item, rtype, kind, deadline, calendar, pauses, now=now)
    if reminder_at is not None and reminder_at <= now:
        found.append(
            rung(REMINDER, LEVELS[REMINDER], [request.owner or officers.lead], reminder_at)
        )
    if deadline > now:
        return found
    found.append(rung(LEAD, LEVELS[LEAD], [officers.lead], deadline))
    director_at = add_span(calendar, deadline, rtype.director_after, pauses)
    if director_at <= now:
        found.append(rung(DIRECTOR, LEVELS[DIRECTOR], [officers.director], director_at))
    every = rtype.escalate_every
    if every is not None:
        latest = _latest_repeat(calendar, deadline, every, pauses, now=now)
        if latest is not None:
            n, at = latest
            to = [officers.lead, officers.director] if at > director_at else [officers.lead]
            found.append(rung(f"{REPEAT}-{n}", LEVELS[DIRECTOR] + n, to, at))
    return found


def reminder_instant(
    item: OnTheClock,
    rtype: RequestType,
    kind: str,
    deadline: datetime,
    calendar: BusinessCalendar,
    pauses: Sequence[Pause],
    *,
    now: datetime | None = None,
) -> datetime | None:
    """When 75% of the deadline's SLA time has passed, to the second (pure); None when the
    deadline left no SLA time at all (an alum's own deadline before the request came), or,
    with ``now``, when that has not happened by ``now`` (one measure, no search).

    The SLA time of a deadline is its type's span; a resolution capped by the alum's own
    deadline has the time from opening to that deadline.
    """
    span: Span | None = {
        "first_response": rtype.first_response,
        "next_update": rtype.next_update,
        "resolution": rtype.resolution,
    }[kind]
    opened: datetime = item.request.opened_at
    unit = (span or rtype.first_response).unit

    def remaining(at: datetime) -> float:
        return elapsed(calendar, at, deadline, unit, pauses)

    whole = remaining(opened) if kind == "resolution" or span is None else float(span.amount)
    if whole <= 0:
        return None
    target = whole * (1 - REMINDER_SHARE)
    if now is not None and now < deadline and remaining(now) > target:
        return None
    # The earliest instant from which no more than a quarter remains (remaining never rises).
    low, high = min(opened, deadline), deadline
    if remaining(low) <= target:
        return low
    while high - low > _PRECISION:
        middle = low + (high - low) / 2
        if remaining(middle) <= target:
            high = middle
        else:
            low = middle
    # To the nearest second: the float arithmetic of ``elapsed`` blurs the exact instant.
    return (high + timedelta(microseconds=500_000)).replace(microsecond=0)


def _latest_repeat(
    calendar: BusinessCalendar,
    deadline: datetime,
    every: Span,
    pauses: Sequence[Pause],
    *,
    now: datetime,
) -> tuple[int, datetime] | None:
    """The latest repeat due at ``now`` as (n, instant), or None before the first."""
    passed = elapsed(calendar, deadline, now, every.unit, pauses)
    n = int(passed // every.amount)
    if n < 1:
        return None
    at = add_span(calendar, deadline, Span(n * every.amount, every.unit), pauses)
    if at > now:  # the float division rounded up past an instant not yet reached
        n -= 1
        if n < 1:
            return None
        at = add_span(calendar, deadline, Span(n * every.amount, every.unit), pauses)
    return n, at


def as_of_instant(as_of: datetime | None, *, now: datetime) -> datetime:
    """The instant a run of the ladder reads the desk as of: ``as_of`` (a past instant, for
    catching up and audits) or ``now``.

    Raises:
        ValueError: ``as_of`` is naive, or later than ``now`` (rungs not yet due would fire).
    """
    if as_of is None:
        return now
    if as_of.utcoffset() is None:
        raise ValueError(
            f"as of {as_of.isoformat()}: give a time zone, e.g. {as_of.isoformat()}+00:00"
        )
    if as_of > now:
        raise ValueError(
            f"as of {as_of.isoformat()} is in the future: the ladder runs as of now or a past "
            "instant (rungs not yet due must not fire); nothing was done"
        )
    return as_of


def desk_rules(settings: Settings) -> tuple[dict[str, RequestType], BusinessCalendar]:
    """The request types (``ALUMNI_REQUESTS_FILE``) and the office's calendar (its days, hours,
    zone and the holidays of ``ALUMNI_HOLIDAYS_ICS``).

    Raises:
        RequestTypesError: the request types file cannot be used (named).
        HolidaysError: the holidays feed cannot be read (named).
    """
    return load_request_types(settings.requests_file), BusinessCalendar.from_settings(settings)


def open_requests(connection: Connection, *, now: datetime) -> list[OnTheClock]:
    """The requests not closed as of ``now`` (opened by then), each with its pauses."""
    rows = connection.execute(
        sa.select(_Q)
        .where(
            _Q.c.opened_at <= now,
            sa.or_(
                _Q.c.status != RequestStatus.closed,
                _Q.c.closed_at > now,  # closed since: open as of ``now`` (--as-of)
            ),
        )
        .order_by(_Q.c.id)
    ).all()
    pauses: dict[int, list[Pause]] = {}
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        for pause in connection.execute(
            sa.select(_P.c.request_id, _P.c.started_at, _P.c.ended_at)
            .where(_P.c.request_id.in_(ids[start : start + 500]))
            .order_by(_P.c.request_id, _P.c.started_at)
        ):
            pauses.setdefault(pause.request_id, []).append((pause.started_at, pause.ended_at))
    return [OnTheClock(row, tuple(pauses.get(row.id, ()))) for row in rows]


def escalate(
    engine: Engine,
    *,
    now: datetime,
    settings: Settings,
    emit: Callable[[NoticeEvent], bool] | None = None,
    worker: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> EscalationSummary:
    """Fire every rung due at ``now``, each once, and send the office notices that are due.

    Args:
        engine: the database.
        now: the instant the desk is read as of (``alumni escalate --as-of``); the ledger's
            claims and leases run on ``clock`` (the real time) whatever it is.
        settings: officers, the webhook, mail and the desk's rules.
        emit: sends one ``officer_mail.NoticeEvent`` as a Prefect event and says whether it
            went (the flow's); None: event rows wait for a run that has one.
        worker: the name this run claims rows under (default: a random one).
        clock: the real time.

    Raises:
        RequestTypesError, HolidaysError: the desk's rules cannot be read (nothing changed).
        ValueError: ALUMNI_FROM has no address, or the desk's webhook URL is unusable.
    """
    # Imported here: the notices build on this module's rungs.
    from alumni.requests import office_notices, owner_digest

    types, calendar = desk_rules(settings)
    with engine.connect() as connection:
        on_clock = open_requests(connection, now=now)
    summary = EscalationSummary(as_of=now)
    summary.unknown_types = [i.request.id for i in on_clock if i.request.type not in types]
    rungs = due_rungs(on_clock, now=now, types=types, calendar=calendar, settings=settings)
    summary.fired, summary.planned = office_notices.plan_rungs(
        engine, rungs, settings=settings, now=clock()
    )
    counts = office_notices.send_due(
        engine,
        settings=settings,
        types=types,
        calendar=calendar,
        emit=emit,
        compose_digest=owner_digest.composer(
            engine, settings=settings, types=types, calendar=calendar
        ),
        worker=worker,
        clock=clock,
    )
    summary.sent = counts["sent"]
    summary.retrying = counts["transient"]
    summary.failed = counts["permanent"]
    summary.superseded = counts["skipped"]
    return summary
