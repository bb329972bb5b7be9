"""Event mailings: who gets an invite, update, cancellation, reminder, thank-you or waitlist
notice, and the email each one is.

Every mailing is a Campaign of its own (channel ``calendar``) linked to its event by an
EventMailing row whose ``key`` is unique per event (``invite``, ``update-3``, ``cancel``,
``reminder-7``, ``thanks``, ``waitlist``, ``place``), so each alum gets one Delivery per mailing
and the outbox's claim/record machinery sends it exactly once. The invite reaches the whole
class through ``ledger.plan`` (purpose ``events``: it counts toward the contact budget); the
other mailings go to those the invite reached, chosen by their answers, as service messages
that the budget never blocks.

The email each mailing is (templates, context, calendar part): ``alumni.events.mailing_kit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import bulk_insert, write_transaction
from alumni.delivery import ledger
from alumni.delivery.audience import Budget
from alumni.delivery.send_time import due_at, zone
from alumni.events.schedule import load_event
from alumni.messages.mime import make_message_id
from alumni.models import (
    Alumnus,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    EventMailing,
    EventStatus,
    Rsvp,
    table_of,
)
from alumni.people.suppression import suppressed_scopes
from alumni.settings import Settings

CHANNEL = "calendar"
KINDS = ("invite", "update", "cancel", "reminder", "thanks", "waitlist", "place")
ANSWERS = ("yes", "no", "maybe")
RSVP = "rsvp"
REMINDER_DAYS = (7, 1)  # reminders this many days before the start
THANKS_WITHIN = timedelta(days=14)  # after this long past the end, no thank-you goes out

_A = table_of(Alumnus)
_C = table_of(Campaign)
_D = table_of(Delivery)
_M = table_of(EventMailing)
_R = table_of(Rsvp)


def plan_options(settings: Settings) -> ledger.PlanOptions:
    """The planning rules of ``ALUMNI_*`` (budget, consent, Message-ID domain)."""
    return ledger.PlanOptions(
        office_timezone=settings.office_timezone,
        budget=Budget(limit=settings.contact_budget, days=settings.contact_budget_days),
        require_consent=settings.require_consent,
        message_id_domain=settings.sender.rsplit("@", 1)[-1].strip("> "),
    )


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


def mailing_campaign(engine: Engine, event_id: int, key: str, *, now: datetime) -> tuple[int, bool]:
    """Return the campaign of the event's mailing ``key``, creating it; and whether it is new."""
    kind = kind_of(key)
    with write_transaction(engine) as connection:
        found = connection.execute(
            sa.select(_M.c.campaign_id).where(_M.c.event_id == event_id, _M.c.key == key)
        ).scalar()
        if found is not None:
            return int(found), False
        event = load_event(connection, event_id)
        campaign_id: int = connection.execute(
            sa.insert(_C)
            .values(
                name=f"event {event_id} {key}: {event.title}"[:200],
                class_year=event.class_year,
                channel=CHANNEL,
                template=kind,
                purpose="events" if kind == "invite" else "service",
                status=CampaignStatus.draft,
                created_at=now,
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
    options: ledger.PlanOptions,
    only: Sequence[int] | None = None,
) -> MailingPlan:
    """Write the delivery rows of one mailing about an event. Safe to run again.

    Args:
        key: ``invite``, ``update-<sequence>``, ``cancel``, ``reminder-<days>``, ``thanks``,
            ``waitlist`` or ``place``.
        only: for ``waitlist`` and ``place``, the alumni to tell.

    Returns:
        The mailing's campaign and how many deliveries were added now.
    """
    campaign_id, _ = mailing_campaign(engine, event_id, key, now=now)
    kind = kind_of(key)
    if kind == "invite":
        summary = ledger.plan(engine, campaign_id, now=now, options=options)
        return MailingPlan(campaign_id, key, summary.added)
    with write_transaction(engine) as connection:
        people = _followers(connection, event_id, kind, only)
        done = set(
            connection.execute(
                sa.select(_D.c.alumnus_id).where(_D.c.campaign_id == campaign_id)
            ).scalars()
        )
        people = [p for p in people if p.alumnus_id not in done]
        blocked = suppressed_scopes(connection, [("email", p.address) for p in people])
        rows = []
        for person in people:
            reason = None
            if person.status != "active":
                reason = person.status
            elif "all" in blocked.get(("email", person.address), ()):
                reason = "suppressed"
            rows.append(
                {
                    "campaign_id": campaign_id,
                    "alumnus_id": person.alumnus_id,
                    "channel": CHANNEL,
                    "address": None if reason else person.address,
                    "locale": person.locale,
                    "timezone": person.timezone,
                    "counts_toward_budget": False,
                    "status": DeliveryStatus.skipped if reason else DeliveryStatus.pending,
                    "skip_reason": reason,
                    # Not in the alum's night, like every other message.
                    "due_at": None
                    if reason
                    else due_at(
                        now=now,
                        send_at=None,
                        tz=zone(person.timezone, options.office_timezone),
                    ),
                    "attempts": 0,
                    "maybe_duplicate": False,
                    "message_id": None
                    if reason
                    else make_message_id(
                        f"{campaign_id}.{person.alumnus_id}.{CHANNEL}", options.message_id_domain
                    ),
                }
            )
        bulk_insert(connection, _D, rows)
        connection.execute(
            sa.update(_C)
            .where(_C.c.id == campaign_id, _C.c.status == CampaignStatus.draft)
            .values(status=CampaignStatus.planned, planned_at=now)
        )
    return MailingPlan(campaign_id, key, len(rows))


def _followers(
    connection: Connection, event_id: int, kind: str, only: Sequence[int] | None
) -> list[Any]:
    """Those the event's invite reached, with their answer, filtered for a follow-up ``kind``."""
    invite = (
        sa.select(_M.c.campaign_id)
        .where(_M.c.event_id == event_id, _M.c.key == "invite")
        .scalar_subquery()
    )
    query = (
        sa.select(
            _D.c.alumnus_id,
            _D.c.address,
            _D.c.locale,
            _D.c.timezone,
            _A.c.status,
            _R.c.answer,
            _R.c.waitlisted_at,
            _R.c.attended,
        )
        .join(_A, _A.c.id == _D.c.alumnus_id)
        .outerjoin(_R, sa.and_(_R.c.alumnus_id == _D.c.alumnus_id, _R.c.event_id == event_id))
        .where(_D.c.campaign_id == invite, _D.c.status == DeliveryStatus.sent)
        .order_by(_D.c.alumnus_id)
    )
    if only is not None:
        query = query.where(_D.c.alumnus_id.in_(list(only)))
    rows = list(connection.execute(query))
    confirmed = [r for r in rows if r.answer == "yes" and r.waitlisted_at is None]
    if kind in ("update", "cancel"):
        return [r for r in rows if r.answer != "no"]
    if kind == "reminder":
        return [*confirmed, *(r for r in rows if r.answer is None)]
    if kind == "thanks":
        return [r for r in confirmed if r.attended is not False]
    return rows  # waitlist / place: the alumni named in ``only``


def cancel_pending(engine: Engine, event_id: int) -> int:
    """Skip the unsent deliveries of the event's mailings other than the cancellation."""
    with write_transaction(engine) as connection:
        campaigns = sa.select(_M.c.campaign_id).where(
            _M.c.event_id == event_id, _M.c.key != "cancel"
        )
        result = connection.execute(
            sa.update(_D)
            .where(_D.c.campaign_id.in_(campaigns), _D.c.status == DeliveryStatus.pending)
            .values(status=DeliveryStatus.skipped, skip_reason="event_cancelled", due_at=None)
        )
    return int(result.rowcount)
