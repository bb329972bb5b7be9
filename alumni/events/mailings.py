"""Event mailings: who gets an invite, update, cancellation, reminder, thank-you or waitlist
notice, and the email each one is.

Every mailing is a Campaign of its own (channel ``calendar``) linked to its event by an
EventMailing row whose ``key`` is unique per event (``invite``, ``update-3``, ``cancel``,
``reminder-7``, ``thanks``, ``waitlist``, ``place``), so each alum gets one Delivery per mailing
and the ledger's claim and record send it exactly once. The invite reaches the whole class
(purpose ``events``: it counts toward the contact budget), or with a cap (``max_recipients``)
as many as the cap allows, in the caller's ``PlanOptions.order`` (those nobody reached longest
first: ``alumni.reach.priority.reach_order``); the other mailings go to those the invite
reached, chosen by their answers, as service messages that the budget never blocks. The
one planner (``alumni.delivery.planning``) writes the rows of both, with the one skip rule.
``mailings_due`` says which events call for a reminder or thank-you and which mailings have
messages due. Each engine-level function has an ``_on`` twin that works inside a transaction the
caller holds.

The email each mailing is (templates, context, calendar part): ``alumni.events.mailing_kit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.delivery import planning
from alumni.delivery.planning import PlanOptions
from alumni.events.schedule import load_event
from alumni.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    Event,
    EventMailing,
    EventStatus,
    Rsvp,
    table_of,
)

CHANNEL = "calendar"
KINDS = ("invite", "update", "cancel", "reminder", "thanks", "waitlist", "place")
ANSWERS = ("yes", "no", "maybe")
RSVP = "rsvp"
REMINDER_DAYS = (7, 1)  # reminders this many days before the start
THANKS_WITHIN = timedelta(days=14)  # after this long past the end, no thank-you goes out

_C = table_of(Campaign)
_E = table_of(Event)
_D = table_of(Delivery)
_M = table_of(EventMailing)
_R = table_of(Rsvp)


def kind_of(key: str) -> str:
    """The template kind of a mailing key: ``reminder`` for ``reminder-7``."""
    kind = key.split("-", 1)[0]
    if kind not in KINDS:
        raise ValueError(f"mailing {key!r}: the kind must be one of {', '.join(KINDS)}")
    return kind


def due_mailings(
    *, starts_at: datetime, ends_at: datetime, status: str, now: datetime
) -> list[str]:
    """The reminder or thank-you mailing keys an event calls for at ``now`` (pure).

    Only the nearest reminder is due (an event made two days ahead gets ``reminder-1`` only);
    a thank-you is due from the end until ``THANKS_WITHIN`` after.
    """
    if status != EventStatus.scheduled:
        return []
    if ends_at <= now < ends_at + THANKS_WITHIN:
        return ["thanks"]
    if now >= starts_at:
        return []
    for days in sorted(REMINDER_DAYS):
        if starts_at - timedelta(days=days) <= now:
            return [f"reminder-{days}"]
    return []


def follow_ups_due(engine: Engine, *, now: datetime) -> list[tuple[int, str]]:
    """The (event id, mailing key) pairs of every reminder and thank-you due at ``now``, but
    for one whose campaign is stopped: it waits for ``alumni campaign resume``."""
    with engine.connect() as connection:
        events = list(
            connection.execute(
                sa.select(_E.c.id, _E.c.starts_at, _E.c.ends_at, _E.c.status)
                .where(_E.c.status == EventStatus.scheduled, _E.c.ends_at > now - THANKS_WITHIN)
                .order_by(_E.c.id)
            )
        )
        stopped = {
            (row.event_id, row.key)
            for row in connection.execute(
                sa.select(_M.c.event_id, _M.c.key)
                .join(_C, _C.c.id == _M.c.campaign_id)
                .where(_C.c.status == CampaignStatus.stopped)
            )
        }
    return [
        (event.id, key)
        for event in events
        for key in due_mailings(
            starts_at=event.starts_at, ends_at=event.ends_at, status=event.status, now=now
        )
        if (event.id, key) not in stopped
    ]


@dataclass(frozen=True)
class MailingPlan:
    """What ``plan_mailing`` did."""

    campaign_id: int
    key: str
    added: int


def mailing_of(engine: Engine, campaign_id: int) -> tuple[int, str] | None:
    """The (event id, mailing key) a campaign sends, or None for an ordinary campaign."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(_M.c.event_id, _M.c.key).where(_M.c.campaign_id == campaign_id)
        ).first()
    return (found.event_id, found.key) if found else None


def mailing_campaign(
    engine: Engine,
    event_id: int,
    key: str,
    *,
    now: datetime,
    name: str | None = None,
    max_recipients: int | None = None,
) -> tuple[int, bool]:
    """Return the campaign of the event's mailing ``key``, creating it; and whether it is new.

    ``name``: what the officers call the campaign (kept, also when it exists already);
    None: "event <id> <key>: <title>". ``max_recipients``: the invite's cap (set, also when
    the campaign exists already; rows planned before are never taken back); None: no change.

    Raises:
        ValueError: a cap on a mailing other than the invite, or a cap below 1.
    """
    with write_transaction(engine) as connection:
        return mailing_campaign_on(
            connection, event_id, key, now=now, name=name, max_recipients=max_recipients
        )


def mailing_campaign_on(
    connection: Connection,
    event_id: int,
    key: str,
    *,
    now: datetime,
    name: str | None = None,
    max_recipients: int | None = None,
) -> tuple[int, bool]:
    """``mailing_campaign`` inside the caller's write transaction."""
    kind = kind_of(key)
    if max_recipients is not None and kind != "invite":
        raise ValueError(
            f"mailing {key!r}: only the invite takes a cap (max_recipients); a follow-up goes "
            "to those the invite reached"
        )
    if max_recipients is not None and max_recipients < 1:
        raise ValueError(f"max_recipients {max_recipients}: give 1 or more (None: no cap)")
    found = connection.execute(
        sa.select(_M.c.campaign_id).where(_M.c.event_id == event_id, _M.c.key == key)
    ).scalar()
    if found is not None:
        changes: dict[str, object] = {}
        if name:
            changes["name"] = name[:200]
        if max_recipients is not None:
            changes["max_recipients"] = max_recipients
        if changes:
            connection.execute(sa.update(_C).where(_C.c.id == found).values(**changes))
        return int(found), False
    event = load_event(connection, event_id)
    campaign_id: int = connection.execute(
        sa.insert(_C)
        .values(
            name=(name or f"event {event_id} {key}: {event.title}")[:200],
            class_year=event.class_year,
            channel=CHANNEL,
            template=kind,
            purpose="events" if kind == "invite" else "service",
            status=CampaignStatus.draft,
            created_at=now,
            max_recipients=max_recipients,
        )
        .returning(_C.c.id)
    ).scalar_one()
    connection.execute(
        sa.insert(_M).values(
            event_id=event_id, campaign_id=campaign_id, kind=kind, key=key, created_at=now
        )
    )
    return campaign_id, True


def plan_mailing(
    engine: Engine,
    event_id: int,
    key: str,
    *,
    now: datetime,
    options: PlanOptions,
    only: Sequence[int] | None = None,
    max_recipients: int | None = None,
) -> MailingPlan:
    """Write the delivery rows of one mailing about an event. Safe to run again.

    The invite goes to the whole class (with ``max_recipients``, to the first that many in
    ``options.order`` of those it may go to; the rest are skipped as ``over_cap``); a follow-up
    to those its kind picks among the alumni the invite reached (``only`` narrows ``waitlist``
    and ``place`` to the alumni to tell).
    Planning the cancellation first skips what is still unsent of the event's other mailings.
    Either way ``alumni.delivery.planning.plan`` writes the rows, with the skip reasons of every
    other campaign.

    Args:
        key: ``invite``, ``update-<sequence>``, ``cancel``, ``reminder-<days>``, ``thanks``,
            ``waitlist`` or ``place``.
        only: for ``waitlist`` and ``place``, the alumni to tell.
        max_recipients: the invite's cap (the office's contact budget allows that many); None:
            no cap, or the one it was given before.

    Returns:
        The mailing's campaign and how many deliveries were added now.

    Raises:
        ValueError: a cap on a mailing other than the invite, or a cap below 1.
    """
    with write_transaction(engine) as connection:
        return plan_mailing_on(
            connection,
            event_id,
            key,
            now=now,
            options=options,
            only=only,
            max_recipients=max_recipients,
        )


def plan_mailing_on(
    connection: Connection,
    event_id: int,
    key: str,
    *,
    now: datetime,
    options: PlanOptions,
    only: Sequence[int] | None = None,
    max_recipients: int | None = None,
) -> MailingPlan:
    """``plan_mailing`` inside the caller's write transaction (an RSVP's notice is planned in
    the transaction that records the answer)."""
    kind = kind_of(key)
    if kind == "cancel":
        cancel_pending_on(connection, event_id)
    campaign_id, _ = mailing_campaign_on(
        connection, event_id, key, now=now, max_recipients=max_recipients
    )
    audience = None if kind == "invite" else _followers(connection, event_id, kind, only)
    summary = planning.plan_on(connection, campaign_id, now=now, options=options, only=audience)
    return MailingPlan(campaign_id, key, summary.added)


def _followers(
    connection: Connection, event_id: int, kind: str, only: Sequence[int] | None
) -> list[int]:
    """Those the event's invite reached, picked by their answer for a follow-up ``kind``."""
    invite = (
        sa.select(_M.c.campaign_id)
        .where(_M.c.event_id == event_id, _M.c.key == "invite")
        .scalar_subquery()
    )
    query = (
        sa.select(_D.c.alumnus_id, _R.c.answer, _R.c.waitlisted_at, _R.c.attended)
        .outerjoin(_R, sa.and_(_R.c.alumnus_id == _D.c.alumnus_id, _R.c.event_id == event_id))
        .where(_D.c.campaign_id == invite, _D.c.status == DeliveryStatus.sent)
        .order_by(_D.c.alumnus_id)
    )
    if only is not None:
        query = query.where(_D.c.alumnus_id.in_(list(only)))
    rows = list(connection.execute(query))
    confirmed = [r for r in rows if r.answer == "yes" and r.waitlisted_at is None]
    if kind in ("update", "cancel"):
        picked = [r for r in rows if r.answer != "no"]
    elif kind == "reminder":
        picked = [*confirmed, *(r for r in rows if r.answer is None)]
    elif kind == "thanks":
        picked = [r for r in confirmed if r.attended is not False]
    else:
        picked = rows  # waitlist / place: the alumni named in ``only``
    return [r.alumnus_id for r in picked]


def cancel_pending(engine: Engine, event_id: int) -> int:
    """Skip the unsent deliveries of the event's mailings other than the cancellation."""
    with write_transaction(engine) as connection:
        return cancel_pending_on(connection, event_id)


def cancel_pending_on(connection: Connection, event_id: int) -> int:
    """``cancel_pending`` inside the caller's write transaction."""
    campaigns = sa.select(_M.c.campaign_id).where(_M.c.event_id == event_id, _M.c.key != "cancel")
    result = connection.execute(
        sa.update(_D)
        .where(_D.c.campaign_id.in_(campaigns), _D.c.status == DeliveryStatus.pending)
        .values(status=DeliveryStatus.skipped, skip_reason="event_cancelled", due_at=None)
    )
    return int(result.rowcount)
