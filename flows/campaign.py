"""The class-year email campaign: plan, preflight, then send in batches until nothing is due.

Thin by design: every decision is in ``alumni/`` (the planner, ``alumni.delivery.batches``, the
ledger's ``next_step`` and ``finish``); this file orchestrates. One task per batch of deliveries
(a task costs tens of milliseconds; one per recipient would cap a campaign near a hundred
messages a second). The database ledger, not Prefect's cache, is the record of what was sent,
so the tasks cache nothing and a rerun resumes where the last one stopped: right after a crash
it waits for the dead run's lease to lapse (tens of seconds), then takes its rows over. The
send workers of a big campaign belong to the run and are passed to its tasks. Several runs of
one campaign (other machines, on PostgreSQL) share its batches: the first plans and
preflights, the others wait for that and render only what they send.
"""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from dataclasses import asdict
from typing import Any, cast
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from alumni.db import get_engine
from alumni.delivery import batches, ledger, planning, progress
from alumni.delivery.campaigns import set_status
from alumni.delivery.report import campaign_report
from alumni.delivery.send_workers import SendPool
from alumni.delivery.sending import CampaignKit, kit_for
from alumni.models import CampaignStatus, utcnow
from alumni.settings import get_settings
from flows.relay_limit import relay_throttle
from flows.waiting import Waiter, send_until_done


@task(name="plan-deliveries")
def plan_deliveries(campaign_id: int) -> dict[str, int]:
    """One delivery row per alum of the class, pending or skipped with its reason."""
    options = planning.PlanOptions.from_settings(get_settings())
    return asdict(planning.plan(get_engine(), campaign_id, now=utcnow(), options=options))


def _kit(campaign_id: int) -> CampaignKit:
    with get_engine().connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
        return kit_for(connection, campaign, settings=get_settings(), now=utcnow())


# The send pool is a live object of this run: never hashed for a cache key.
@task(name="preflight", cache_policy=NO_CACHE)
def preflight_campaign(campaign_id: int, pool: SendPool | None) -> int:
    """Render every unsent recipient no passed preflight covered (a run that joins the
    campaign waits for one in progress); stop the campaign, sending nothing, if any fails."""
    if pool is not None:
        return batches.preflight(
            get_engine(), campaign_id, lambda rows: pool.preflight(campaign_id, rows)
        )
    return batches.preflight(get_engine(), campaign_id, _kit(campaign_id).preflight)


@task(name="send-batch", cache_policy=NO_CACHE)
def send_batch(campaign_id: int, worker: str, pool: SendPool | None) -> dict[str, int]:
    """Claim one batch of due deliveries, send it (at the relay's rate, when one is set), and
    record every answer; counts by outcome and how many had to be rendered."""
    settings = get_settings()
    throttle = relay_throttle(settings)
    if pool is not None:
        # the send workers keep their own kit; building one here counted the class every batch
        return batches.send_batch(
            get_engine(),
            campaign_id,
            worker=worker,
            settings=settings,
            pool=pool,
            throttle=throttle,
        )
    kit = _kit(campaign_id)
    counts = batches.send_batch(
        get_engine(),
        campaign_id,
        worker=worker,
        settings=settings,
        compose=lambda now: lambda chunk: kit.compose_many(chunk, now=now),
        throttle=throttle,
    )
    return {**counts, "rendered": kit.renders}


@flow(name="class-campaign")
def class_campaign(
    campaign_id: int, wait: bool = True, max_wait_hours: float = 36
) -> dict[str, Any]:
    """Send a class-year campaign: plan, preflight, then batches until nothing is due.

    Args:
        campaign_id: the campaign (``alumni campaign create`` prints it).
        wait: wait for deliveries due later (each alum's local --send-at); when False, stop
            after what is due now, and a later run sends the rest. Rows another run holds
            are waited for either way.
        max_wait_hours: never wait longer than this for the next group.
    """
    logger = get_run_logger()
    settings = get_settings()
    engine = get_engine()
    workers = batches.send_workers_for(engine, campaign_id, settings)
    with ExitStack() as stack:
        # started before planning, so the processes come up while the plan is written
        pool = (
            stack.enter_context(SendPool(workers, connections=settings.smtp_connections))
            if workers
            else None
        )
        planned = plan_deliveries(campaign_id)
        logger.info("planned: %s", planned)
        rendered = preflight_campaign(campaign_id, pool)
        logger.info("preflight rendered %d recipients", rendered)
        set_status(engine, campaign_id, CampaignStatus.sending)
        worker = f"flow-{uuid.uuid4().hex[:12]}"
        total = max(planned["pending"], 1)
        bar = cast(
            UUID, create_progress_artifact(progress=0.0, description=f"campaign {campaign_id}")
        )
        sent = [0]

        def one_batch() -> dict[str, int]:
            counts = send_batch(campaign_id, worker, pool)
            sent[0] += counts.get("sent", 0)
            update_progress_artifact(bar, progress=min(100.0, 100.0 * sent[0] / total))
            return counts

        totals = send_until_done(
            one_batch,
            channel=ledger.DELIVERIES,
            campaign_id=campaign_id,
            wait=wait,
            waiter=Waiter(max_wait_hours, logger),
        )
        logger.info(
            "this run sent %d; rendered %d while sending (the rest from its preflight)",
            totals["sent"],
            totals["rendered"],
        )
    progress.finish(
        engine,
        ledger.DELIVERIES,
        campaign_id,
        now=utcnow(),
        lease=batches.lease_of(settings),
    )
    with engine.connect() as connection:
        report = campaign_report(connection, campaign_id)
    create_markdown_artifact(markdown=report.markdown(), key=f"campaign-{campaign_id}-report")
    create_table_artifact(
        table=[{"outcome": k, "alumni": v} for k, v in sorted(report.outcomes.items())],
        key=f"campaign-{campaign_id}-outcomes",
    )
    return report.as_dict()
