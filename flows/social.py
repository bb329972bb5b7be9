"""The social campaign: plan (render and check every post), then post what is due until done.

Thin by design: decisions are in ``alumni.social.posts`` and the ledger (``next_step``, the
window, ``finish``). Accounts are opened inside the task
from the environment or Prefect Secret blocks, so no token or password is ever a task
parameter or in a log. A rate-limited post waits for as long as the network asks, but never past
the campaign's window: what cannot go out in time is named in the report, and a later run posts
it. A stopped campaign (a post failed its preflight) posts nothing until it is resumed
(``resume=True`` renders its posts again and goes on when they pass).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.blocks.system import Secret

from alumni.db import get_engine
from alumni.delivery import campaigns, ledger, progress
from alumni.delivery.campaigns import set_status
from alumni.delivery.ledger import load_campaign
from alumni.messages.rendering import PreflightError
from alumni.models import CampaignStatus, utcnow
from alumni.settings import get_settings
from alumni.social import posts
from alumni.social.accounts import Account, class_channels, network_accounts
from alumni.social.report import social_report
from flows.outcome import completed, reported
from flows.run_names import campaign_run_name
from flows.waiting import send_until_done


def prefect_secret(name: str) -> str | None:
    """The value of the Prefect Secret block ``name``, or None when there is none."""
    try:
        block: Secret[str] = Secret.load(name, _sync=True)  # type: ignore[call-arg, assignment]
        value = block.get()
    except ValueError:  # Prefect's "Unable to find block document named ..."
        return None
    return str(value) if value else None


def campaign_accounts(campaign_id: int) -> list[Account]:
    """The accounts and class channels a social campaign posts to."""
    settings = get_settings()
    with get_engine().connect() as connection:
        campaign = load_campaign(connection, campaign_id)
        channels = class_channels(connection, campaign.class_year)
    wanted = set(campaign.networks.split(",")) if campaign.networks else None
    accounts = network_accounts(settings, prefect_secret) + channels
    return [a for a in accounts if wanted is None or a.network in wanted]


@task(name="plan-posts")
def plan_posts(campaign_id: int) -> int:
    """Render and check every post of the campaign, then write them; nothing is posted."""
    try:
        return posts.plan_posts(
            get_engine(),
            campaign_id,
            campaign_accounts(campaign_id),
            settings=get_settings(),
            now=utcnow(),
        )
    except (PreflightError, ValueError) as exc:
        set_status(get_engine(), campaign_id, CampaignStatus.stopped, f"preflight failed: {exc}")
        raise


@task(name="post-batch", task_run_name="post-batch campaign-{campaign_id} #{number}")
def post_batch(campaign_id: int, worker: str, number: int = 1) -> dict[str, int]:
    """Claim the posts that are due and post each through its account (``number``: the run's
    n-th batch, for its name)."""
    return posts.post_batch(
        get_engine(),
        campaign_id,
        lambda: campaign_accounts(campaign_id),
        worker=worker,
        settings=get_settings(),
    )


@flow(name="social-campaign", flow_run_name=campaign_run_name)
@reported(
    "campaign-{campaign_id}-failure",
    "Fix the cause above, then run the campaign again (`alumni campaign run ID`): what was "
    "posted stays posted, and each post still due goes once.",
)
def social_campaign(
    campaign_id: int, wait: bool = True, max_wait_hours: float = 36, resume: bool = False
) -> dict[str, Any]:
    """Post a class's social campaign to every account and class channel, exactly once.

    Args:
        campaign_id: the campaign (``alumni campaign create --channel social`` prints it).
        wait: wait for posts due later (``--send-at``, rate limits) inside the window; when
            False, stop after what is due now, and a later run posts the rest. Posts another
            run holds are waited for either way.
        max_wait_hours: never wait longer than this for the next post.
        resume: the campaign was stopped (a post failed its preflight) and the template is
            fixed: render the posts again and go on when they pass. A campaign that is not
            stopped is left as it is.
    """
    logger = get_run_logger()
    engine = get_engine()
    with engine.connect() as connection:
        stopped = load_campaign(connection, campaign_id).status == CampaignStatus.stopped
    if resume and not stopped:
        with engine.connect() as connection:
            report = social_report(connection, campaign_id)
        return completed(
            f"campaign {campaign_id} is not stopped (it is {report.status}): nothing to "
            "resume, nothing changed",
            report.as_dict(),
        )
    if resume:
        campaigns.resume(engine, campaign_id, lambda: plan_posts(campaign_id))
    else:
        with engine.connect() as connection:
            progress.refuse_stopped(connection, campaign_id)
    planned = plan_posts(campaign_id)
    logger.info("planned %d new post(s)", planned)
    progress.start_sending(engine, campaign_id)
    with engine.connect() as connection:
        window_ends_at = load_campaign(connection, campaign_id).window_ends_at
    send_until_done(
        lambda worker, number: post_batch(campaign_id, worker, number),
        channel=ledger.POSTS,
        campaign_id=campaign_id,
        worker_prefix="social",
        wait=wait,
        max_wait_hours=max_wait_hours,
        logger=logger,
        window_ends_at=window_ends_at,
    )
    with engine.connect() as connection:
        report = social_report(connection, campaign_id)
    said = f"class of {report.class_year}, {report.name}: {report.in_words()}"
    create_markdown_artifact(
        markdown=report.markdown(),
        key=f"campaign-{campaign_id}-posts",
        description=f"Posts of social campaign {campaign_id} ({said})",
    )
    create_table_artifact(
        table=[
            {"network": p.network, "account": p.account, "status": p.status, "link": p.url or ""}
            for p in report.posts
        ],
        key=f"campaign-{campaign_id}-posts-table",
        description=f"Social campaign {campaign_id}: each post, its status and link",
    )
    return completed(report.in_words(), report.as_dict())
