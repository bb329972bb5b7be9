"""Event mailings: invites, updates and cancellations for one event, and the scheduled flow that
sends reminders, thank-yous and waitlist notices.

Thin: who gets what is decided in ``alumni.events.mailings`` and ``alumni.events.rsvp``; the
ledger's claim and record make each message go once, so a rerun sends nothing new. One task per
batch.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from alumni.db import get_engine, write_transaction
from alumni.delivery import ledger
from alumni.delivery.report import campaign_report
from alumni.delivery.sending import compose_each
from alumni.events.mailing_kit import EventKit
from alumni.events.mailings import (
    THANKS_WITHIN,
    cancel_pending,
    due_mailings,
    plan_mailing,
    plan_options,
)
from alumni.events.rsvp import event_report
from alumni.messages.rendering import PreflightError
from alumni.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    Event,
    EventMailing,
    EventStatus,
    table_of,
    utcnow,
)
from alumni.settings import get_settings
from flows.campaign import claim_and_send

_C = table_of(Campaign)
_D = table_of(Delivery)
_E = table_of(Event)
_M = table_of(EventMailing)


@task(name="plan-event-mailing")
def plan_event_mailing(event_id: int, key: str) -> dict[str, Any]:
    """Write the mailing's delivery rows (a rerun adds only newcomers)."""
    engine = get_engine()
    if key == "cancel":
        cancel_pending(engine, event_id)
    plan = plan_mailing(engine, event_id, key, now=utcnow(), options=plan_options(get_settings()))
    return {"campaign_id": plan.campaign_id, "added": plan.added}


def _kit(campaign_id: int) -> EventKit:
    with get_engine().connect() as connection:
        return EventKit.for_mailing(connection, campaign_id, settings=get_settings(), now=utcnow())


@task(name="preflight-event-mailing")
def preflight_mailing(campaign_id: int) -> int:
    """Render every unsent recipient; stop the mailing, sending nothing, if any fails."""
    try:
        return _kit(campaign_id).preflight(ledger.iter_unsent(get_engine(), campaign_id))
    except (PreflightError, ValueError) as exc:
        with write_transaction(get_engine()) as connection:
            connection.execute(
                sa.update(_C)
                .where(_C.c.id == campaign_id)
                .values(status=CampaignStatus.stopped, note=f"preflight failed: {exc}"[:2000])
            )
        raise


@task(name="send-event-batch")
def send_event_batch(campaign_id: int, worker: str) -> dict[str, int]:
    """Claim one batch of due deliveries of the mailing, send it, record every answer."""
    kit = _kit(campaign_id)
    return claim_and_send(
        campaign_id,
        worker,
        lambda now: lambda chunk: compose_each(lambda row: kit.compose(row, now=now), chunk),
    )


def _send_due(campaign_id: int) -> dict[str, int]:
    """Send what is due now of one mailing; mark it done when nothing is left."""
    worker = f"event-{uuid.uuid4().hex[:12]}"
    preflight_mailing(campaign_id)
    totals: dict[str, int] = {}
    while True:
        counts = send_event_batch(campaign_id, worker)
        for name, value in counts.items():
            totals[name] = totals.get(name, 0) + value
        if not counts["claimed"]:
            break
    with write_transaction(get_engine()) as connection:
        left = connection.execute(
            sa.select(sa.func.count()).where(
                _D.c.campaign_id == campaign_id,
                _D.c.status.in_((DeliveryStatus.pending, DeliveryStatus.claimed)),
            )
        ).scalar_one()
        connection.execute(
            sa.update(_C)
            .where(_C.c.id == campaign_id)
            .values(
                status=CampaignStatus.sending if left else CampaignStatus.done,
                finished_at=None if left else utcnow(),
            )
        )
    return totals


def _report_artifact(event_id: int) -> list[dict[str, Any]]:
    with get_engine().connect() as connection:
        report = event_report(connection, event_id)
    rows = report.rows()
    create_table_artifact(
        table=rows,
        key=f"event-{event_id}-rsvps",
        description=f"{report.title}: invited and answers by country",
    )
    return rows


@flow(name="event-mailing")
def event_mailing(event_id: int, key: str = "invite") -> dict[str, Any]:
    """Send one mailing about an event: ``invite``, ``update-<sequence>`` or ``cancel``.

    Args:
        event_id: the event (``alumni event create`` prints it).
        key: the mailing; a rerun of the same key sends nothing twice.
    """
    planned = plan_event_mailing(event_id, key)
    campaign_id = planned["campaign_id"]
    counts = _send_due(campaign_id)
    get_run_logger().info("event %d %s: %s", event_id, key, counts)
    with get_engine().connect() as connection:
        outcomes = campaign_report(connection, campaign_id).outcomes
    create_markdown_artifact(
        markdown=f"event {event_id}, mailing `{key}`: "
        + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
        key=f"event-{event_id}-{key}",
    )
    return {
        "event_id": event_id,
        "key": key,
        "campaign_id": campaign_id,
        "outcomes": dict(outcomes),
        "report": _report_artifact(event_id),
    }


@flow(name="event-reminders")
def event_reminders() -> dict[str, Any]:
    """Scheduled: plan the reminders and thank-yous that are due, and send every event mailing
    with messages due (waitlist and place notices included). Each goes at most once."""
    engine = get_engine()
    now = utcnow()
    options = plan_options(get_settings())
    with engine.connect() as connection:
        events = list(
            connection.execute(
                sa.select(_E.c.id, _E.c.starts_at, _E.c.ends_at, _E.c.status).where(
                    _E.c.status == EventStatus.scheduled,
                    _E.c.ends_at > now - THANKS_WITHIN,
                )
            )
        )
    planned: dict[str, int] = {}
    for event in events:
        for key in due_mailings(
            starts_at=event.starts_at, ends_at=event.ends_at, status=event.status, now=now
        ):
            plan = plan_mailing(engine, event.id, key, now=now, options=options)
            planned[f"{event.id}:{key}"] = plan.added
    with engine.connect() as connection:
        due = list(
            connection.execute(
                sa.select(_D.c.campaign_id)
                .distinct()
                .join(_M, _M.c.campaign_id == _D.c.campaign_id)
                .where(_D.c.status == DeliveryStatus.pending, _D.c.due_at <= now)
                .order_by(_D.c.campaign_id)
            ).scalars()
        )
    sent = {campaign_id: _send_due(campaign_id) for campaign_id in due}
    get_run_logger().info("planned %s; sent %s", planned, sent)
    return {"planned": planned, "sent": sent}
