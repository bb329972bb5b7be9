"""Class events: create, change, cancel and list them, within each class's event budget, and
propose reunions for the classes at a milestone.

A class holds at most ``EVENT_BUDGET`` events in any ``BUDGET_DAYS`` days (the office's "one or
two a year"); a further one needs a reason, which is kept on the event. Pure decisions
(``budget_refusal``, ``reunion_proposals``) take plain data and ``now``; the rest reads and
writes the database.

Errors::

    EventError          a value an officer gave that cannot make an event (names the field)
    └── OverBudget      the class already has its events in that 12-month window
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.events.calendar_codec import InviteEvent
from alumni.models import Alumnus, Event, EventStatus, table_of

EVENT_BUDGET = 2  # events per class ...
BUDGET_DAYS = 365  # ... in any window of this many days
MILESTONES = (5, 10, 15, 20, 25, 30, 40, 50)
DEFAULT_LENGTH = timedelta(hours=3)
UID_DOMAIN = "alumni-outreach"

_E = table_of(Event)
_A = table_of(Alumnus)


class EventError(ValueError):
    """A value that cannot make an event; the message names the field and what to do."""


class OverBudget(EventError):
    """The class already has ``limit`` events in a window that the new one would join."""

    def __init__(self, class_year: int, starts_at: datetime, others: Sequence[datetime]) -> None:
        shown = ", ".join(f"{s:%Y-%m-%d}" for s in sorted(others))
        super().__init__(
            f"class {class_year} already has {len(others)} event(s) within {BUDGET_DAYS} days of "
            f"{starts_at:%Y-%m-%d} ({shown}); the budget is {EVENT_BUDGET}. Move the date, cancel "
            'one, or pass --over-budget "reason"'
        )
        self.others = list(others)


def budget_refusal(
    starts_at: datetime,
    others: Sequence[datetime],
    *,
    limit: int = EVENT_BUDGET,
    days: int = BUDGET_DAYS,
) -> list[datetime] | None:
    """Return the events that a new one at ``starts_at`` would exceed the budget with, or None.

    Every window of ``days`` days that holds the new event may hold at most ``limit`` events.

    Args:
        starts_at: the new event's start.
        others: the starts of the class's other events that count (scheduled ones).
    """
    span = timedelta(days=days)
    near = sorted(o for o in others if abs(o - starts_at) < span)
    moments = sorted([*near, starts_at])
    for first in moments:
        window = [m for m in moments if first <= m < first + span]
        if starts_at in window and len(window) > limit:
            return [m for m in window if m != starts_at] or None
    return None


@dataclass(frozen=True)
class ReunionProposal:
    """A reunion that ``reunion_proposals`` suggests for one class."""

    class_year: int
    milestone: int
    title: str
    starts_at: datetime


def reunion_proposals(
    year: int,
    class_years: Sequence[int],
    existing: Mapping[int, Sequence[datetime]],
    *,
    timezone: str = "UTC",
    limit: int = EVENT_BUDGET,
) -> list[ReunionProposal]:
    """Suggest one reunion per class at a milestone in ``year``, where the budget allows it.

    The suggested start is the second Saturday of June at 18:00 in ``timezone``: a placeholder
    the officer moves when accepting. Classes with a reunion already counted in the budget
    window are skipped rather than pushed over it.

    Args:
        year: the calendar year of the reunions.
        class_years: the classes that have alumni.
        existing: per class, the starts of its scheduled events.
    """
    proposals = []
    starts_at = _second_saturday_of_june(year, timezone)
    for class_year in sorted(set(class_years)):
        milestone = year - class_year
        if milestone not in MILESTONES:
            continue
        if budget_refusal(starts_at, existing.get(class_year, ()), limit=limit) is not None:
            continue
        proposals.append(
            ReunionProposal(
                class_year=class_year,
                milestone=milestone,
                title=f"Class of {class_year}: {milestone}-year reunion",
                starts_at=starts_at,
            )
        )
    return proposals


def _second_saturday_of_june(year: int, timezone: str) -> datetime:
    first = date(year, 6, 1)
    saturday = first + timedelta(days=(5 - first.weekday()) % 7 + 7)
    return datetime.combine(saturday, time(18, 0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def parse_local(value: str, tz: str, *, field: str) -> datetime:
    """Read ``"2027-06-12 18:00"`` as a wall time in ``tz``; return it in UTC.

    Raises:
        EventError: naming ``field`` when the text is not a date and time, the zone is unknown,
            or the wall time does not exist there (skipped by a clock change).
    """
    zone = zone_of(tz)
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError:
        raise EventError(
            f"{field} {value!r} is not a date and time like 2027-06-12 18:00"
        ) from None
    if naive.tzinfo is not None:
        raise EventError(
            f"{field} {value!r}: give the wall time without an offset; --tz says where"
        )
    local = naive.replace(tzinfo=zone)
    back = local.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != naive:
        raise EventError(f"{field} {value!r} does not exist in {tz} (the clocks change then)")
    return local.astimezone(UTC)


def zone_of(tz: str) -> ZoneInfo:
    """Return the zone, or raise EventError naming it."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise EventError(
            f"--tz {tz!r} is not an IANA time zone name (like Europe/London)"
        ) from None


def load_event(connection: Connection, event_id: int) -> Any:
    """Return the event row, or raise LookupError naming the id."""
    row = connection.execute(sa.select(_E).where(_E.c.id == event_id)).first()
    if row is None:
        raise LookupError(f"no event with id {event_id}; `alumni event list` shows them")
    return row


def _counted_starts(connection: Connection, class_year: int, *, exclude: int | None) -> list[Any]:
    query = sa.select(_E.c.starts_at).where(
        _E.c.class_year == class_year, _E.c.status == EventStatus.scheduled
    )
    if exclude is not None:
        query = query.where(_E.c.id != exclude)
    return list(connection.execute(query).scalars())


def create_event(
    engine: Engine,
    *,
    class_year: int,
    title: str,
    starts_at: datetime,
    tz: str,
    now: datetime,
    ends_at: datetime | None = None,
    place: str | None = None,
    online_url: str | None = None,
    capacity: int | None = None,
    country: str | None = None,
    description: str = "",
    over_budget: str | None = None,
    status: EventStatus = EventStatus.scheduled,
) -> int:
    """Create an event and return its id.

    Raises:
        OverBudget: the class has its budget of events around ``starts_at`` and no
            ``over_budget`` reason was given (proposed events are not checked).
        EventError: a field that cannot be used (named).
    """
    zone_of(tz)
    ends = ends_at or starts_at + DEFAULT_LENGTH
    _check(title=title, starts_at=starts_at, ends_at=ends, capacity=capacity, url=online_url)
    if over_budget is not None and not over_budget.strip():
        raise EventError("--over-budget needs a reason the office can read later")
    with write_transaction(engine) as connection:
        if status == EventStatus.scheduled and not over_budget:
            others = _counted_starts(connection, class_year, exclude=None)
            clash = budget_refusal(starts_at, others)
            if clash is not None:
                raise OverBudget(class_year, starts_at, clash)
        event_id: int = connection.execute(
            sa.insert(_E)
            .values(
                uid=f"{uuid.uuid4()}@{UID_DOMAIN}",
                sequence=0,
                class_year=class_year,
                title=title.strip(),
                description=description,
                starts_at=starts_at,
                ends_at=ends,
                timezone=tz,
                country=country.upper() if country else None,
                place=place,
                online_url=online_url,
                capacity=capacity,
                status=status,
                over_budget_reason=over_budget,
                created_at=now,
                updated_at=now,
            )
            .returning(_E.c.id)
        ).scalar_one()
    return event_id


def _check(
    *, title: str, starts_at: datetime, ends_at: datetime, capacity: int | None, url: str | None
) -> None:
    if not title.strip():
        raise EventError("--title is empty; give the event a name alumni will recognise")
    if ends_at <= starts_at:
        raise EventError(f"--ends {ends_at:%Y-%m-%d %H:%M} UTC is not after --starts")
    if capacity is not None and capacity < 1:
        raise EventError(f"--capacity {capacity} must be at least 1 (leave it out for no limit)")
    if url is not None and not url.startswith(("https://", "http://")):
        raise EventError(f"--online-url {url!r} must be an http(s) link")


# Changes invitees must hear about: they raise SEQUENCE and call for an update mailing.
NOTIFIABLE = ("starts_at", "ends_at", "timezone", "place", "online_url", "title")


def update_event(engine: Engine, event_id: int, *, now: datetime, **changes: Any) -> bool:
    """Apply ``changes`` (fields of Event); return True when invitees must be told.

    SEQUENCE rises when a time, the place, the link or the title changes (RFC 5546). A new
    ``starts_at`` without ``ends_at`` keeps the event's length.

    Raises:
        LookupError: no such event. EventError: a cancelled event, or a field that cannot be used.
        OverBudget: a new date that the budget does not allow (unless ``over_budget_reason``).
    """
    changes = {k: v for k, v in changes.items() if v is not None}
    with write_transaction(engine) as connection:
        row = load_event(connection, event_id)
        if row.status == EventStatus.cancelled:
            raise EventError(f"event {event_id} is cancelled; create a new one instead")
        if "timezone" in changes:
            zone_of(changes["timezone"])
        if "starts_at" in changes and "ends_at" not in changes:
            # A moved event keeps its length unless a new end is given.
            changes["ends_at"] = changes["starts_at"] + (row.ends_at - row.starts_at)
        merged = {**row._mapping, **changes}
        _check(
            title=merged["title"],
            starts_at=merged["starts_at"],
            ends_at=merged["ends_at"],
            capacity=merged["capacity"],
            url=merged["online_url"],
        )
        notify = any(k in NOTIFIABLE and changes[k] != getattr(row, k) for k in changes)
        moved = "starts_at" in changes and changes["starts_at"] != row.starts_at
        if moved and row.status == EventStatus.scheduled and not merged["over_budget_reason"]:
            clash = budget_refusal(
                changes["starts_at"], _counted_starts(connection, row.class_year, exclude=event_id)
            )
            if clash is not None:
                raise OverBudget(row.class_year, changes["starts_at"], clash)
        values = {**changes, "updated_at": now}
        if notify and row.status == EventStatus.scheduled:
            values["sequence"] = row.sequence + 1
        connection.execute(sa.update(_E).where(_E.c.id == event_id).values(**values))
    return notify and row.status == EventStatus.scheduled


def accept_event(engine: Engine, event_id: int, *, now: datetime) -> None:
    """Turn a proposed event into a scheduled one, checking the class's budget."""
    with write_transaction(engine) as connection:
        row = load_event(connection, event_id)
        if row.status != EventStatus.proposed:
            raise EventError(f"event {event_id} is {row.status}, not proposed")
        if not row.over_budget_reason:
            clash = budget_refusal(
                row.starts_at, _counted_starts(connection, row.class_year, exclude=event_id)
            )
            if clash is not None:
                raise OverBudget(row.class_year, row.starts_at, clash)
        connection.execute(
            sa.update(_E)
            .where(_E.c.id == event_id)
            .values(status=EventStatus.scheduled, updated_at=now)
        )


def cancel_event(engine: Engine, event_id: int, *, now: datetime) -> bool:
    """Cancel the event (SEQUENCE rises); return False when it was already cancelled."""
    with write_transaction(engine) as connection:
        row = load_event(connection, event_id)
        if row.status == EventStatus.cancelled:
            return False
        connection.execute(
            sa.update(_E)
            .where(_E.c.id == event_id)
            .values(status=EventStatus.cancelled, sequence=row.sequence + 1, updated_at=now)
        )
    return True


def list_events(connection: Connection, *, class_year: int | None = None) -> list[Any]:
    """Every event (of one class), soonest first."""
    query = sa.select(_E).order_by(_E.c.starts_at, _E.c.id)
    if class_year is not None:
        query = query.where(_E.c.class_year == class_year)
    return list(connection.execute(query))


def plan_reunions(
    engine: Engine, year: int, *, now: datetime, timezone: str = "UTC"
) -> list[tuple[int, ReunionProposal]]:
    """Store this year's reunion proposals as proposed events; return (event id, proposal).

    Safe to run again: a class that already has this year's reunion (proposed or not) gets none.
    """
    with write_transaction(engine) as connection:
        classes = list(connection.execute(sa.select(_A.c.class_year).distinct()).scalars())
        existing: dict[int, list[datetime]] = {}
        titles: set[tuple[int, str]] = set()
        for row in connection.execute(
            sa.select(_E.c.class_year, _E.c.starts_at, _E.c.status, _E.c.title)
        ):
            if row.status == EventStatus.scheduled:
                existing.setdefault(row.class_year, []).append(row.starts_at)
            if row.status != EventStatus.cancelled:
                titles.add((row.class_year, row.title))
    proposals = [
        p
        for p in reunion_proposals(year, classes, existing, timezone=timezone)
        if (p.class_year, p.title) not in titles
    ]
    made = []
    for proposal in proposals:
        event_id = create_event(
            engine,
            class_year=proposal.class_year,
            title=proposal.title,
            starts_at=proposal.starts_at,
            tz=timezone,
            now=now,
            status=EventStatus.proposed,
        )
        made.append((event_id, proposal))
    return made


def invite_event(row: Any, *, organizer_email: str, organizer_name: str) -> InviteEvent:
    """The invite's view of an event row (see ``alumni.events.calendar_codec``)."""
    return InviteEvent(
        uid=row.uid,
        sequence=row.sequence,
        title=row.title,
        description=row.description,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        tz=row.timezone,
        location=row.place,
        online_url=row.online_url,
        organizer_email=organizer_email,
        organizer_name=organizer_name,
        status="CANCELLED" if row.status == EventStatus.cancelled else "CONFIRMED",
    )
