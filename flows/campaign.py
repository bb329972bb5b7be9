"""The class-year email campaign: plan, preflight, then send in batches until nothing is due.

Thin by design: every decision is in ``alumni/``; this file orchestrates. One task per batch of
deliveries (a task costs tens of milliseconds; one per recipient would cap a campaign near a
hundred messages a second). The database outbox, not Prefect's cache, is the record of what was
sent, so the tasks cache nothing and a rerun resumes where the last one stopped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from alumni.db import get_engine
from alumni.delivery import ledger
from alumni.delivery.audience import Budget
from alumni.delivery.campaigns import set_status
from alumni.delivery.report import campaign_report
from alumni.delivery.send_workers import SendPool
from alumni.delivery.sending import CampaignKit, Composed, send_claimed
from alumni.messages.rendering import PreflightError
from alumni.models import Alumnus, Campaign, CampaignStatus, table_of, utcnow
from alumni.settings import Settings, get_settings
from connectors.mail import MailTransport, open_mail_transport
from flows.waiting import wait_until

_A = table_of(Alumnus)
_C = table_of(Campaign)
# Below this many messages, starting worker processes costs more than it saves.
POOL_THRESHOLD = 2000


def open_transport(settings: Settings) -> MailTransport:
    """The SMTP server of ALUMNI_SMTP_URL, or the Maildir outbox when it is unset."""
    url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
    return open_mail_transport(
        url, outbox_dir=settings.outbox_dir, connections=settings.smtp_connections
    )


def _class_size(campaign_id: int) -> int:
    with get_engine().connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
        return int(
            connection.execute(
                sa.select(sa.func.count()).where(_A.c.class_year == campaign.class_year)
            ).scalar_one()
        )


@task(name="plan-deliveries")
def plan_deliveries(campaign_id: int) -> dict[str, int]:
    """One delivery row per alum of the class, pending or skipped with its reason."""
    settings = get_settings()
    domain = settings.sender.rsplit("@", 1)[-1].strip("> ")
    options = ledger.PlanOptions(
        office_timezone=settings.office_timezone,
        budget=Budget(limit=settings.contact_budget, days=settings.contact_budget_days),
        require_consent=settings.require_consent,
        message_id_domain=domain,
    )
    return asdict(ledger.plan(get_engine(), campaign_id, now=utcnow(), options=options))


class _RunResources:
    """What one flow run keeps between its tasks: the sending processes, if any."""

    pool: SendPool | None = None


def _kit(campaign_id: int) -> CampaignKit:
    with get_engine().connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
        return CampaignKit.build(connection, campaign, settings=get_settings(), now=utcnow())


@task(name="preflight")
def preflight_campaign(campaign_id: int) -> int:
    """Render every unsent recipient; stop the campaign, sending nothing, if any fails."""
    unsent = ledger.iter_unsent(get_engine(), campaign_id)
    pool = _RunResources.pool
    try:
        if pool is not None:
            return pool.preflight(campaign_id, unsent)
        return _kit(campaign_id).preflight(unsent)
    except PreflightError as exc:
        set_status(get_engine(), campaign_id, CampaignStatus.stopped, f"preflight failed: {exc}")
        raise


def claim_and_send(
    campaign_id: int,
    worker: str,
    compose: Callable[[datetime], Callable[[Sequence[ledger.Claimed]], list[Composed]]],
) -> dict[str, int]:
    """Claim one batch of due deliveries and send it through ALUMNI_SMTP_URL (or the Maildir).

    ``compose(now)`` gives the function that turns a chunk of claimed rows into messages.
    """
    settings = get_settings()
    engine = get_engine()
    now = utcnow()
    rows = ledger.claim(
        engine,
        campaign_id,
        worker=worker,
        limit=settings.send_batch_size,
        now=now,
        lease=timedelta(seconds=settings.claim_lease_seconds),
    )
    if not rows:
        return {"claimed": 0}
    pool = _RunResources.pool
    if pool is not None:
        return {"claimed": len(rows), **pool.send(campaign_id, rows, now=now, worker=worker)}
    transport = open_transport(settings)
    try:
        counts = send_claimed(
            compose(now),
            rows,
            transport=transport,
            buffer=ledger.ReceiptBuffer.for_settings(engine, settings, worker=worker),
        )
    finally:
        transport.close()
    return {"claimed": len(rows), **counts}


@task(name="send-batch")
def send_batch(campaign_id: int, worker: str) -> dict[str, int]:
    """Claim one batch of due deliveries, send it, and record every answer."""
    if _RunResources.pool is not None:
        # the send workers keep their own kit; building one here counted the class every batch
        return claim_and_send(campaign_id, worker, _composed_in_workers)
    kit = _kit(campaign_id)
    return claim_and_send(
        campaign_id, worker, lambda now: lambda chunk: kit.compose_many(chunk, now=now)
    )


def _composed_in_workers(now: datetime) -> Callable[[Sequence[ledger.Claimed]], list[Composed]]:
    raise AssertionError("with a send pool, the workers compose")


@flow(name="class-campaign")
def class_campaign(
    campaign_id: int, wait: bool = True, max_wait_hours: float = 36
) -> dict[str, Any]:
    """Send a class-year campaign: plan, preflight, then batches until nothing is due.

    Args:
        campaign_id: the campaign (``alumni campaign create`` prints it).
        wait: wait for deliveries due later (each alum's local --send-at); when False, stop
            after what is due now, and a later run sends the rest.
        max_wait_hours: never wait longer than this for the next group.
    """
    logger = get_run_logger()
    settings = get_settings()
    if settings.send_workers and _class_size(campaign_id) >= POOL_THRESHOLD:
        # started before planning, so the processes come up while the plan is written
        _RunResources.pool = SendPool(settings.send_workers, connections=settings.smtp_connections)
    try:
        planned = plan_deliveries(campaign_id)
        logger.info("planned: %s", planned)
        return _send_all(campaign_id, planned, wait=wait, max_wait_hours=max_wait_hours)
    finally:
        if _RunResources.pool is not None:
            _RunResources.pool.close()
            _RunResources.pool = None


def _send_all(
    campaign_id: int, planned: dict[str, int], *, wait: bool, max_wait_hours: float
) -> dict[str, Any]:
    logger = get_run_logger()
    worker = f"flow-{uuid.uuid4().hex[:12]}"
    rendered = preflight_campaign(campaign_id)
    logger.info("preflight rendered %d recipients", rendered)
    set_status(get_engine(), campaign_id, CampaignStatus.sending)
    total = max(planned["pending"], 1)
    progress = cast(
        UUID, create_progress_artifact(progress=0.0, description=f"campaign {campaign_id}")
    )
    deadline = time.monotonic() + max_wait_hours * 3600
    sent = 0
    while True:
        counts = send_batch(campaign_id, worker)
        sent += counts.get("sent", 0)
        update_progress_artifact(progress, progress=min(100.0, 100.0 * sent / total))
        if counts["claimed"]:
            continue
        with get_engine().connect() as connection:
            next_due = campaign_report(connection, campaign_id).next_due
        if next_due is None or not wait:
            break
        if not wait_until(next_due, deadline=deadline, what="group", logger=logger):
            break
    with get_engine().connect() as connection:
        report = campaign_report(connection, campaign_id)
    if report.next_due is None and report.outcomes.get("pending", 0) == 0:
        set_status(get_engine(), campaign_id, CampaignStatus.done)
        report.status = CampaignStatus.done
    create_markdown_artifact(markdown=report.markdown(), key=f"campaign-{campaign_id}-report")
    create_table_artifact(
        table=[{"outcome": k, "alumni": v} for k, v in sorted(report.outcomes.items())],
        key=f"campaign-{campaign_id}-outcomes",
    )
    return report.as_dict()
