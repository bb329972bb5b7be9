"""Event mailings: invites, updates and cancellations for one event, and the scheduled flow that
sends reminders, thank-yous and waitlist notices.

Thin: who gets what is decided in ``alumni.events.mailings`` (the one planner and skip rule of
``alumni.delivery.planning``; an invite the officer caps goes to those nobody reached longest
first, ``alumni.reach.priority.plan_options``) and ``alumni.events.rsvp``; which mailings are
due and when one is done, by the ledger. Its claim and record make each message go once, so a
rerun sends nothing new. One task per batch.

A stopped mailing (its preflight failed) is sent by neither flow until it is resumed
(``event_mailing(..., resume=True)``, or ``alumni campaign resume ID``). Runs are named
``event-4 invite`` and ``event-reminders 2026-11-30 00:15`` and end with a state message in
words; a failed run leaves a report saying what to do.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from alumni.db import get_engine
from alumni.delivery import batches, campaigns, ledger, progress
from alumni.delivery.planning import PlanOptions
from alumni.delivery.report import campaign_report
from alumni.delivery.sending import compose_each
from alumni.events.mailing_kit import EventKit
from alumni.events.mailings import CHANNEL, follow_ups_due, mailing_campaign, plan_mailing
from alumni.events.rsvp import event_report
from alumni.models import CampaignStatus, utcnow
from alumni.reach.priority import plan_options
from alumni.settings import get_settings
from flows.outcome import completed, reported
from flows.run_names import at_scheduled_minute, event_mailing_run_name
from flows.waiting import send_until_done


@task(name="plan-event-mailing")
def plan_event_mailing(
    event_id: int, key: str, max_recipients: int | None = None
) -> dict[str, Any]:
    """Write the mailing's delivery rows (a rerun adds only newcomers); an invite capped at
    ``max_recipients`` goes to those nobody reached longest first, as a capped campaign does."""
    options = plan_options(get_settings())
    plan = plan_mailing(
        get_engine(), event_id, key, now=utcnow(), options=options, max_recipients=max_recipients
    )
    return {"campaign_id": plan.campaign_id, "added": plan.added}


def _kit(campaign_id: int) -> EventKit:
    with get_engine().connect() as connection:
        return EventKit.for_mailing(connection, campaign_id, settings=get_settings(), now=utcnow())


@task(name="preflight-event-mailing")
def preflight_mailing(campaign_id: int, resuming: bool = False) -> int:
    """Render every unsent recipient; stop the mailing, sending nothing, if one fails."""
    return batches.preflight(
        get_engine(),
        campaign_id,
        _kit(campaign_id).preflight,
        resuming=resuming,
        templates=get_settings().templates_dir,
    )


@task(name="send-event-batch", task_run_name="send-batch campaign-{campaign_id} #{number}")
def send_event_batch(campaign_id: int, worker: str, number: int = 1) -> dict[str, int]:
    """Claim one batch of due deliveries of the mailing, send it, record every answer
    (``number``: the run's n-th batch, for its name)."""
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
    with get_engine().connect() as connection:
        progress.refuse_stopped(connection, campaign_id)
    preflight_mailing(campaign_id)
    totals = send_until_done(
        lambda worker, number: send_event_batch(campaign_id, worker, number),
        channel=ledger.DELIVERIES,
        campaign_id=campaign_id,
        worker_prefix="event",
        wait=False,
        max_wait_hours=1,
        logger=get_run_logger(),
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


@flow(name="event-mailing", flow_run_name=event_mailing_run_name)
@reported(
    "event-{event_id}-{key}-failure",
    "Fix the cause above, then send the mailing again (`alumni event send` or this "
    "deployment): what was sent stays sent, and each alum still due gets one message.",
)
def event_mailing(
    event_id: int, key: str = "invite", resume: bool = False, max_recipients: int | None = None
) -> dict[str, Any]:
    """Send one mailing about an event: ``invite``, ``update-<sequence>`` or ``cancel``.

    Args:
        event_id: the event (``alumni event create`` prints it).
        key: the mailing; a rerun of the same key sends nothing twice.
        max_recipients: the invite only: at most this many of the class get it, those nobody
            reached longest first (the contact budget allows that many); None: the whole class.
        resume: the mailing was stopped (its preflight failed) and the template is fixed: run
            the preflight again and go on when it passes. A mailing that is not stopped is
            left as it is.
    """
    engine = get_engine()
    if resume:
        campaign_id, _ = mailing_campaign(engine, event_id, key, now=utcnow())
        with engine.connect() as connection:
            report = campaign_report(connection, campaign_id)
        if report.status != CampaignStatus.stopped:
            return completed(
                f"event {event_id} {key} (campaign {campaign_id}) is not stopped (it is "
                f"{report.status}): nothing to resume, nothing changed",
                {"event_id": event_id, "key": key, "campaign_id": campaign_id},
            )
        campaigns.resume(engine, campaign_id, lambda: preflight_mailing(campaign_id, resuming=True))
    planned = plan_event_mailing(event_id, key, max_recipients)
    campaign_id = planned["campaign_id"]
    _send_due(campaign_id)
    with engine.connect() as connection:
        report = campaign_report(connection, campaign_id)
    create_markdown_artifact(
        markdown=report.markdown(),
        key=f"event-{event_id}-{key}",
        description=f"Event {event_id}, mailing {key} (campaign {campaign_id}): "
        f"{report.in_words()}",
    )
    outcomes = report.outcomes
    said = f"event {event_id} {key}: {report.in_words()}"
    return completed(
        said,
        {
            "event_id": event_id,
            "key": key,
            "campaign_id": campaign_id,
            "outcomes": dict(outcomes),
            "report": _report_artifact(event_id),
        },
    )


@flow(name="event-reminders", flow_run_name=at_scheduled_minute("event-reminders"))
@reported(
    "event-reminders-failure",
    "Fix the cause above; the next scheduled run (every 15 minutes) sends what is due, and "
    "nothing twice.",
)
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
    added = sum(planned.values())
    messages = sum(counts.get("sent", 0) for counts in sent.values())
    if not added and not sent:
        said = "nothing due"
    else:
        said = (
            f"{added} follow-up message(s) planned ({len(planned)} mailing(s)); "
            f"{messages} sent for {len(sent)} mailing(s)"
        )
        for campaign_id, counts in sent.items():
            get_run_logger().info(
                "campaign %d: %d sent, %d to retry, %d failed",
                campaign_id,
                counts.get("sent", 0),
                counts.get("transient", 0),
                counts.get("permanent", 0),
            )
    return completed(said, {"planned": planned, "sent": sent})
