"""RSVPs: answers from signed links and from calendar REPLYs, capacity and the waitlist, and
the event report.

The latest answer wins by when it was given (the click, or the REPLY's DTSTAMP), so a REPLY
that a calendar sends late cannot overwrite a newer click. With a capacity, a yes beyond it goes
to the waitlist (the alum is told); a confirmed alum who then declines frees a place, and the
first on the waitlist gets it (and is told). The notices are queued as event mailings
(``waitlist``, ``place``) that the event-mail flow sends, planned in the transaction that
records the answer. ``apply_answer_on`` and ``apply_reply_on`` work inside a transaction the
caller holds (a REPLY read from the office's mailbox is recorded with the message).

Errors::

    RsvpError   an answer that cannot be applied (unknown event or attendee, cancelled event)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.delivery.planning import PlanOptions
from alumni.events.calendar_codec import PartStat, Reply
from alumni.events.mailings import ANSWERS, plan_mailing_on
from alumni.events.schedule import load_event
from alumni.models import (
    Alumnus,
    Delivery,
    DeliveryStatus,
    Event,
    EventMailing,
    EventStatus,
    Rsvp,
    table_of,
)

PARTSTAT_ANSWERS: dict[PartStat, str] = {"ACCEPTED": "yes", "DECLINED": "no", "TENTATIVE": "maybe"}

_A = table_of(Alumnus)
_D = table_of(Delivery)
_E = table_of(Event)
_M = table_of(EventMailing)
_R = table_of(Rsvp)


class RsvpError(ValueError):
    """An answer that cannot be applied; the message says which event or address and why."""


@dataclass(frozen=True)
class RsvpOutcome:
    """What one answer did."""

    event_id: int
    alumnus_id: int
    answer: str
    applied: bool  # False: an answer given later was already recorded
    waitlisted: bool = False
    promoted: list[int] = field(default_factory=list)  # alumni moved off the waitlist


def apply_answer(
    engine: Engine,
    *,
    event_id: int,
    alumnus_id: int,
    answer: str,
    at: datetime,
    source: str,
    now: datetime,
    options: PlanOptions | None = None,
) -> RsvpOutcome:
    """Record an alum's answer unless a later one is already there; run the waitlist.

    Args:
        answer: ``yes``, ``no`` or ``maybe``.
        at: when the alum gave it (the click, or the REPLY's DTSTAMP); the latest wins.
        source: ``link``, ``itip`` or ``officer``.
        options: how notices are planned (message-id domain); None: the defaults.

    Raises:
        RsvpError: the answer is not yes/no/maybe, or the event is cancelled.
    """
    with write_transaction(engine) as connection:
        return apply_answer_on(
            connection,
            event_id=event_id,
            alumnus_id=alumnus_id,
            answer=answer,
            at=at,
            source=source,
            now=now,
            options=options,
        )


def apply_answer_on(
    connection: Connection,
    *,
    event_id: int,
    alumnus_id: int,
    answer: str,
    at: datetime,
    source: str,
    now: datetime,
    options: PlanOptions | None = None,
) -> RsvpOutcome:
    """``apply_answer`` inside the caller's write transaction; the waitlist and place notices
    are planned in it too. An RsvpError is raised before anything is written."""
    if answer not in ANSWERS:
        raise RsvpError(f"answer {answer!r} must be one of {', '.join(ANSWERS)}")
    event = _locked_event(connection, event_id)
    if event.status != EventStatus.scheduled:
        raise RsvpError(f"event {event_id} ({event.title}) is {event.status}; nothing to answer")
    current = connection.execute(
        sa.select(_R).where(_R.c.event_id == event_id, _R.c.alumnus_id == alumnus_id)
    ).first()
    if current is not None and current.answered_at >= at:
        return RsvpOutcome(event_id, alumnus_id, current.answer, applied=False)
    was_confirmed = (
        current is not None and current.answer == "yes" and current.waitlisted_at is None
    )
    waitlisted_at = None
    full = event.capacity is not None and _confirmed(connection, event_id) >= event.capacity
    if answer == "yes" and not was_confirmed and full:
        keep = current.waitlisted_at if current is not None else None
        waitlisted_at = keep or at
    values = {
        "answer": answer,
        "answered_at": at,
        "source": source,
        "waitlisted_at": waitlisted_at,
        "updated_at": now,
    }
    if current is None:
        connection.execute(sa.insert(_R).values(event_id=event_id, alumnus_id=alumnus_id, **values))
    else:
        connection.execute(sa.update(_R).where(_R.c.id == current.id).values(**values))
    promoted: list[int] = []
    if was_confirmed and answer != "yes" and event.capacity is not None:
        promoted = _fill_places(connection, event_id, event.capacity, now=now)
    waitlisted = waitlisted_at is not None and (current is None or current.waitlisted_at is None)
    options = options or PlanOptions()
    if waitlisted:
        plan_mailing_on(
            connection, event_id, "waitlist", now=now, options=options, only=[alumnus_id]
        )
    if promoted:
        plan_mailing_on(connection, event_id, "place", now=now, options=options, only=promoted)
    return RsvpOutcome(
        event_id,
        alumnus_id,
        answer,
        applied=True,
        waitlisted=waitlisted_at is not None,
        promoted=promoted,
    )


def _locked_event(connection: Connection, event_id: int) -> Any:
    # PostgreSQL: one answer at a time per event, so two yeses cannot both take the last place.
    query = sa.select(_E).where(_E.c.id == event_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        raise RsvpError(f"no event with id {event_id}")
    return row


def _confirmed(connection: Connection, event_id: int) -> int:
    return int(
        connection.execute(
            sa.select(sa.func.count()).where(
                _R.c.event_id == event_id, _R.c.answer == "yes", _R.c.waitlisted_at.is_(None)
            )
        ).scalar_one()
    )


def _fill_places(
    connection: Connection, event_id: int, capacity: int, *, now: datetime
) -> list[int]:
    free = capacity - _confirmed(connection, event_id)
    if free <= 0:
        return []
    waiting = list(
        connection.execute(
            sa.select(_R.c.id, _R.c.alumnus_id)
            .where(_R.c.event_id == event_id, _R.c.waitlisted_at.is_not(None))
            .order_by(_R.c.waitlisted_at, _R.c.id)
            .limit(free)
        )
    )
    if waiting:
        connection.execute(
            sa.update(_R)
            .where(_R.c.id.in_([w.id for w in waiting]))
            .values(waitlisted_at=None, updated_at=now)
        )
    return [w.alumnus_id for w in waiting]


def delivery_event(connection: Connection, delivery_id: int) -> tuple[int, int] | None:
    """Return (event id, alumnus id) of an event-mailing delivery, or None."""
    row = connection.execute(
        sa.select(_M.c.event_id, _D.c.alumnus_id)
        .join(_M, _M.c.campaign_id == _D.c.campaign_id)
        .where(_D.c.id == delivery_id)
    ).first()
    return None if row is None else (row.event_id, row.alumnus_id)


def apply_link(
    engine: Engine,
    delivery_id: int,
    answer: str,
    *,
    now: datetime,
    options: PlanOptions | None = None,
) -> RsvpOutcome:
    """Apply the answer of a signed RSVP link (the token already checked), given at ``now``.

    Raises:
        RsvpError: the delivery is not part of an event mailing (or is gone).
    """
    with engine.connect() as connection:
        found = delivery_event(connection, delivery_id)
    if found is None:
        raise RsvpError(f"delivery {delivery_id} is not an invitation to an event")
    event_id, alumnus_id = found
    return apply_answer(
        engine,
        event_id=event_id,
        alumnus_id=alumnus_id,
        answer=answer,
        at=now,
        source="link",
        now=now,
        options=options,
    )


def apply_reply(
    engine: Engine, reply: Reply, *, now: datetime, options: PlanOptions | None = None
) -> RsvpOutcome:
    """Apply an iTIP REPLY (``alumni.events.calendar_codec.parse_reply_message``), timed by its
    DTSTAMP.

    The attendee is matched by the address the event's mail went to, case-insensitively.

    Raises:
        RsvpError: no event has the UID, or nobody was invited at the attendee's address.
    """
    with write_transaction(engine) as connection:
        return apply_reply_on(connection, reply, now=now, options=options)


def apply_reply_on(
    connection: Connection, reply: Reply, *, now: datetime, options: PlanOptions | None = None
) -> RsvpOutcome:
    """``apply_reply`` inside the caller's write transaction; RsvpError comes before any write."""
    invitation = invitation_of(connection, reply)
    return apply_answer_on(
        connection,
        event_id=invitation.event_id,
        alumnus_id=invitation.alumnus_id,
        answer=PARTSTAT_ANSWERS[reply.partstat],
        at=reply.dtstamp,
        source="itip",
        now=now,
        options=options,
    )


@dataclass(frozen=True)
class Invitation:
    """The event a REPLY answers and the sent delivery that invited its attendee."""

    event_id: int
    alumnus_id: int
    delivery_id: int


def invitation_of(connection: Connection, reply: Reply) -> Invitation:
    """Find the event of a REPLY's UID and the mail of it sent to the attendee's address
    (case-insensitively).

    Raises:
        RsvpError: no event has the UID, or nobody was invited at the attendee's address.
    """
    event_id = connection.execute(sa.select(_E.c.id).where(_E.c.uid == reply.uid)).scalar()
    if event_id is None:
        raise RsvpError(f"REPLY for UID {reply.uid!r}: no event has that UID")
    found = connection.execute(
        sa.select(_D.c.id, _D.c.alumnus_id)
        .join(_M, _M.c.campaign_id == _D.c.campaign_id)
        .where(
            _M.c.event_id == event_id,
            sa.func.lower(_D.c.address) == reply.attendee_email.lower(),
            _D.c.status == DeliveryStatus.sent,
        )
        .order_by(_D.c.id)
        .limit(1)
    ).first()
    if found is None:
        raise RsvpError(
            f"REPLY for event {event_id} from {reply.attendee_email}: nobody was invited at that "
            "address; check whether the alum answered from another one"
        )
    return Invitation(event_id, found.alumnus_id, found.id)


def record_attendance(
    engine: Engine, event_id: int, external_ids: Sequence[str], *, came: bool, now: datetime
) -> int:
    """Mark who came (or did not) among those who said yes; the thank-you goes to those who came
    and to confirmed alumni with nothing recorded. Returns how many rows changed.

    Raises:
        RsvpError: naming the external ids that have no yes for this event.
    """
    ids = list(dict.fromkeys(external_ids))
    with write_transaction(engine) as connection:
        load_event(connection, event_id)
        found = dict(
            connection.execute(
                sa.select(_A.c.external_id, _R.c.id)
                .join(_R, _R.c.alumnus_id == _A.c.id)
                .where(_R.c.event_id == event_id, _R.c.answer == "yes", _A.c.external_id.in_(ids))
            ).all()
        )
        missing = [i for i in ids if i not in found]
        if missing:
            raise RsvpError(
                f"event {event_id}: no yes from {', '.join(missing)}; record their answer first"
            )
        connection.execute(
            sa.update(_R).where(_R.c.id.in_(found.values())).values(attended=came, updated_at=now)
        )
    return len(found)


@dataclass
class EventReport:
    """Who was invited to an event and how they answered, overall and by country."""

    event_id: int
    title: str
    status: str
    counts: Counter[str]
    by_country: dict[str, Counter[str]]

    COLUMNS = ("invited", "yes", "no", "maybe", "no answer", "waitlist")

    def rows(self) -> list[dict[str, Any]]:
        """One row per country (``?`` when unknown) and a total, for tables and artifacts."""
        table = [
            {"country": country, **{c: counts[c] for c in self.COLUMNS}}
            for country, counts in sorted(self.by_country.items())
        ]
        table.append({"country": "all", **{c: self.counts[c] for c in self.COLUMNS}})
        return table


def event_report(connection: Connection, event_id: int) -> EventReport:
    """Count the invited (invite sent) by answer: yes (with a place), waitlist, no, maybe, none."""
    event = load_event(connection, event_id)
    invite = (
        sa.select(_M.c.campaign_id)
        .where(_M.c.event_id == event_id, _M.c.key == "invite")
        .scalar_subquery()
    )
    rows = connection.execute(
        sa.select(_A.c.country, _R.c.answer, _R.c.waitlisted_at)
        .select_from(_D)
        .join(_A, _A.c.id == _D.c.alumnus_id)
        .outerjoin(_R, sa.and_(_R.c.alumnus_id == _D.c.alumnus_id, _R.c.event_id == event_id))
        .where(_D.c.campaign_id == invite, _D.c.status == DeliveryStatus.sent)
    )
    counts: Counter[str] = Counter()
    by_country: dict[str, Counter[str]] = {}
    for row in rows:
        if row.answer is None:
            outcome = "no answer"
        elif row.answer == "yes" and row.waitlisted_at is not None:
            outcome = "waitlist"
        else:
            outcome = str(row.answer)
        for bucket in (counts, by_country.setdefault(row.country or "?", Counter())):
            bucket["invited"] += 1
            bucket[outcome] += 1
    return EventReport(event_id, event.title, str(event.status), counts, by_country)
