"""A class whose event invitation went out, and the inbound loop's transaction around
``track_message`` (its claim row and the message's effects commit together)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery.planning import PlanOptions
from alumni.events.mailings import plan_mailing
from alumni.events.schedule import create_event, load_event
from alumni.models import ContactPoint, Delivery, InboundMessage, Response, table_of
from alumni.people.suppression import suppressed_for, suppressed_scopes
from alumni.settings import get_settings
from alumni.tracking.record import Tracked, TrackingContext, track_message
from tests.factories import add_alumnus
from tests.tracking.samples import Filling, filling

OPTIONS = PlanOptions(message_id_domain="school.example")
_D = table_of(Delivery)
_R = table_of(Response)
_CP = table_of(ContactPoint)
_IN = table_of(InboundMessage)


@dataclass(frozen=True)
class Sent:
    """One alum's invitation, sent."""

    delivery_id: int
    alumnus_id: int
    campaign_id: int
    address: str
    message_id: str
    event_uid: str

    def fill(self, **more: Any) -> Filling:
        """The corpus filling that makes a sample answer this delivery; ``more`` overrides."""
        made = filling(
            get_settings().signing_key(),
            self.delivery_id,
            address=self.address,
            message_id=self.message_id,
            event_uid=self.event_uid,
        )
        return replace(made, **more)


def invited_class(
    url: str, size: int, *, now: datetime, capacity: int | None = None, class_year: int = 2016
) -> tuple[int, list[Sent]]:
    """An event for a class of ``size`` (addresses ``alum<n>@example.org``) whose invitations
    all went out; the event's id and each alum's invitation."""
    for n in range(size):
        add_alumnus(url, f"T{class_year}-{n}", class_year=class_year, email=f"Alum{n}@Example.org")
    engine = engine_for(url)
    event_id = create_event(
        engine,
        class_year=class_year,
        title="Summer reunion",
        starts_at=now + timedelta(days=60),
        tz="Europe/London",
        capacity=capacity,
        now=now,
    )
    plan = plan_mailing(engine, event_id, "invite", now=now, options=OPTIONS)
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(_D)
            .where(_D.c.campaign_id == plan.campaign_id)
            .values(status="sent", sent_at=now, attempts=1)
        )
        uid = load_event(connection, event_id).uid
        rows = connection.execute(
            sa.select(_D).where(_D.c.campaign_id == plan.campaign_id).order_by(_D.c.alumnus_id)
        ).all()
    return event_id, [
        Sent(r.id, r.alumnus_id, r.campaign_id, r.address, r.message_id, uid) for r in rows
    ]


def track(url: str, raw: bytes, *, now: datetime) -> Tracked:
    """Track one message as the inbound loop does: claim row and effects in one transaction.

    Run again with the same bytes, the claim row is already there and only tracking runs.
    """
    digest = hashlib.sha256(raw).hexdigest()
    context = TrackingContext.from_settings(get_settings())
    with write_transaction(engine_for(url)) as connection:
        claimed = connection.execute(sa.select(_IN.c.id).where(_IN.c.digest == digest)).first()
        if claimed is None:
            uid = connection.execute(sa.select(sa.func.count()).select_from(_IN)).scalar_one() + 1
            connection.execute(
                sa.insert(_IN).values(
                    digest=digest,
                    mailbox="INBOX",
                    uidvalidity=1,
                    uid=uid,
                    outcome="claimed",
                    claimed_at=now,
                )
            )
        return track_message(connection, raw, digest=digest, context=context, now=now)


def responses(url: str) -> list[Any]:
    """Every Response, oldest first."""
    with engine_for(url).connect() as connection:
        return list(connection.execute(sa.select(_R).order_by(_R.c.id)))


def contact_status(url: str, address: str) -> str:
    with engine_for(url).connect() as connection:
        return str(
            connection.execute(
                sa.select(_CP.c.status).where(_CP.c.value == address, _CP.c.kind == "email")
            ).scalar_one()
        )


def scopes(url: str, address: str) -> set[str]:
    """The scopes an address is suppressed for."""
    with engine_for(url).connect() as connection:
        found = suppressed_scopes(connection, [("email", address)])
    return found.get(("email", address), set())


def suppressed_because(url: str, address: str, reason: str) -> bool:
    with engine_for(url).connect() as connection:
        return bool(suppressed_for(connection, [("email", address)], reason=reason))
