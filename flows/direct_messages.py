"""A direct-message campaign (channel ``mastodon``): preflight, then send in batches until done.

Thin by design: ``alumni.social.direct`` renders and sends, the ledger claims and records, and
``alumni.delivery.progress`` says what a run does next and when the campaign is done, as for
email. Planning is its maker's (``alumni.reach.hear_from_you.plan_direct``). The office's
account is opened inside the task from the environment or a Prefect Secret block, so no token
is ever a task parameter or in a log. ``class_campaign`` and the due-campaigns deployment run
this flow for any campaign of that kind, so ``alumni campaign run ID`` works too.
"""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from alumni.db import get_engine
from alumni.delivery import campaigns, ledger, progress
from alumni.delivery.batches import lease_of
from alumni.delivery.report import campaign_report
from alumni.models import utcnow
from alumni.settings import get_settings
from alumni.social import direct
from alumni.social.accounts import network_accounts
from flows.outcome import completed, reported
from flows.run_names import campaign_run_name
from flows.social import prefect_secret
from flows.waiting import Waiter, send_until_done


@task(name="preflight-direct-messages", cache_policy=NO_CACHE)
def preflight(campaign_id: int, resuming: bool = False) -> int:
    """Render every unsent message; stop the campaign, sending nothing, if any fails."""
    return direct.preflight(get_engine(), campaign_id, settings=get_settings(), resuming=resuming)


@task(
    name="send-direct-batch",
    cache_policy=NO_CACHE,
    task_run_name="send-direct-batch campaign-{campaign_id} #{number}",
)
def send_batch(campaign_id: int, worker: str, number: int = 1) -> dict[str, int]:
    """Claim one batch of due messages, send each and record the answers (``number``: the
    run's n-th batch, for its name)."""
    settings = get_settings()
    return direct.send_batch(
        get_engine(),
        campaign_id,
        lambda: network_accounts(settings, prefect_secret),
        worker=worker,
        settings=settings,
    )


@flow(name="direct-messages", flow_run_name=campaign_run_name)
@reported(
    "campaign-{campaign_id}-failure",
    "Fix the cause above, then run the campaign again (`alumni campaign run ID`): what was "
    "sent stays sent, and each alum still due gets one message.",
)
def direct_campaign(
    campaign_id: int, wait: bool = True, max_wait_hours: float = 36, resume: bool = False
) -> dict[str, Any]:
    """Send a direct-message campaign, each alum's message once.

    Args:
        campaign_id: the campaign (the hear-from-you flow makes them).
        wait: wait for messages due later (a network's rate limit); when False, stop after
            what is due now, and a later run sends the rest. Messages another run holds are
            waited for either way.
        max_wait_hours: never wait longer than this.
        resume: the campaign was stopped (its preflight failed) and the template is fixed:
            run the preflight again and go on when it passes.

    Returns:
        The campaign's report (``CampaignReport.as_dict()``), as for an email campaign.
    """
    logger = get_run_logger()
    engine = get_engine()
    if resume:
        campaigns.resume(engine, campaign_id, lambda: preflight(campaign_id, resuming=True))
    else:
        with engine.connect() as connection:
            progress.refuse_stopped(connection, campaign_id)
    rendered = preflight(campaign_id)
    logger.info("preflight rendered %d direct messages", rendered)
    progress.start_sending(engine, campaign_id)
    worker = f"direct-{uuid.uuid4().hex[:12]}"
    batch = [0]

    def one_batch() -> dict[str, int]:
        batch[0] += 1
        return send_batch(campaign_id, worker, batch[0])

    send_until_done(
        one_batch,
        channel=ledger.DELIVERIES,
        campaign_id=campaign_id,
        wait=wait,
        waiter=Waiter(max_wait_hours, logger),
    )
    progress.finish(
        engine, ledger.DELIVERIES, campaign_id, now=utcnow(), lease=lease_of(get_settings())
    )
    with engine.connect() as connection:
        report = campaign_report(connection, campaign_id)
    create_markdown_artifact(
        markdown=report.markdown(),
        key=f"campaign-{campaign_id}-report",
        description=f"Report of direct-message campaign {campaign_id} (class of "
        f"{report.class_year}, {report.name}): {report.in_words()}",
    )
    return completed(report.in_words(), report.as_dict())
