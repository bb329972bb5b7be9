"""Event mailings: invites, updates and cancellations for one event, and the scheduled flow that
sends reminders, thank-yous and waitlist notices.

Thin: who gets what is decided in ``alumni.events.mailings`` (the one planner and skip rule of
``alumni.delivery.planning``) and ``alumni.events.rsvp``; which mailings are due and when one
is done, by the ledger. Its claim and record make each message go once, so a rerun sends
nothing new. One task per batch.
"""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from alumni.db import get_engine
from alumni.delivery import batches, ledger, progress
from alumni.delivery.planning import PlanOptions
from alumni.delivery.report import campaign_report
from alumni.delivery.sending import compose_each
from alumni.events.mailing_kit import EventKit
from alumni.events.mailings import CHANNEL, follow_ups_due, plan_mailing
from alumni.events.rsvp import event_report
from alumni.models import utcnow
from alumni.settings import get_settings
from flows.waiting import Waiter, send_until_done


@task(name="plan-event-mailing")
def plan_event_mailing(event_id: int, key: str) -> dict[str, Any]:
    """Write the mailing's delivery rows (a rerun adds only newcomers)."""
    options = PlanOptions.from_settings(get_settings())
    plan = plan_mailing(get_engine(), event_id, key, now=utcnow(), options=options)
    return {"campaign_id": plan.campaign_id, "added": plan.added}


def _kit(campaign_id: int) -> EventKit:
    with get_engine().connect() as connection:
        return EventKit.for_mailing(connection, campaign_id, settings=get_settings(), now=utcnow())


@task(name="preflight-event-mailing")
def preflight_mailing(campaign_id: int) -> int:
    """Render every unsent recipient; stop the mailing, sending nothing, if one fails."""
    return batches.preflight(get_engine(), campaign_id, _kit(campaign_id).preflight)


@task(name="send-event-batch")
def send_event_batch(campaign_id: int, worker: str) -> dict[str, int]:
    """Claim one batch of due deliveries of the mailing, send it, record every answer."""
    kit = _kit(campaign_id)
    return batches.send_batch(
        get_engine(),
        campaign_id,
        worker=worker,
        settings=get_settings(),
        compose=lambda now: (
            lambda chunk: compose_each(lambda row: kit.compose(row, now=now), chunk)
        ),
    )


def _send_due(campaign_id: int) -> dict[str, int]:
    """Send what is due now of one mailing (and what another run holds, once it is answered
    or its lease lapses); mark it done when nothing is left."""
    worker = f"event-{uuid.uuid4().hex[:12]}"
    preflight_mailing(campaign_id)
    totals = send_until_done(
        lambda: send_event_batch(campaign_id, worker),
        channel=ledger.DELIVERIES,
        campaign_id=campaign_id,
        wait=False,
        waiter=Waiter(max_wait_hours=1, logger=get_run_logger()),
    )
    progress.finish(
        get_engine(),
        ledger.DELIVERIES,
        campaign_id,
        now=utcnow(),
        lease=batches.lease_of(get_settings()),
    )
    return dict(totals)


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
    settings = get_settings()
    now = utcnow()
    options = PlanOptions.from_settings(settings)
    planned = {
        f"{event_id}:{key}": plan_mailing(engine, event_id, key, now=now, options=options).added
        for event_id, key in follow_ups_due(engine, now=now)
    }
    due = progress.due_campaigns(
        engine, ledger.DELIVERIES, kinds=(CHANNEL,), now=now, lease=batches.lease_of(settings)
    )
    sent = {campaign_id: _send_due(campaign_id) for campaign_id in due}
    get_run_logger().info("planned %s; sent %s", planned, sent)
    return {"planned": planned, "sent": sent}
