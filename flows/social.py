"""The social campaign: plan (render and check every post), then post what is due until done.

Thin by design: decisions are in ``alumni.social.posts``. Accounts are opened inside the task
from the environment or Prefect Secret blocks, so no token or password is ever a task
parameter or in a log. A rate-limited post waits for as long as the network asks, but never past
the campaign's window: what cannot go out in time is named in the report, and a later run posts
it.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.blocks.system import Secret

from alumni.db import get_engine
from alumni.delivery.campaigns import set_status
from alumni.delivery.ledger import load_campaign
from alumni.messages.rendering import PreflightError
from alumni.models import CampaignStatus, utcnow
from alumni.settings import get_settings
from alumni.social import posts
from alumni.social.accounts import Account, class_channels, network_accounts
from alumni.social.report import social_report
from flows.waiting import wait_until


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


@task(name="post-batch")
def post_batch(campaign_id: int, worker: str) -> dict[str, int]:
    """Claim the posts that are due and post each through its account."""
    settings = get_settings()
    engine = get_engine()
    claimed = posts.claim_posts(
        engine,
        campaign_id,
        worker=worker,
        now=utcnow(),
        lease=timedelta(seconds=settings.claim_lease_seconds),
    )
    accounts = {a.name: a for a in campaign_accounts(campaign_id)} if claimed else {}
    counts = {"claimed": len(claimed)}
    for post in claimed:
        account = accounts.get(post.account)
        if account is None:
            receipt_status = "pending"
            posts.release_posts(engine, [post.post_id], worker=worker, now=utcnow())
            get_run_logger().warning(
                "account %s is no longer configured; post %d waits for it",
                post.account,
                post.post_id,
            )
        else:
            client = account.open(allow_private=settings.webhook_allow_private)
            try:
                receipt = posts.publish(client, post)
            finally:
                client.close()
            receipt_status = posts.record_post(engine, post, receipt, worker=worker, now=utcnow())
        counts[receipt_status] = counts.get(receipt_status, 0) + 1
    return counts


@flow(name="social-campaign")
def social_campaign(
    campaign_id: int, wait: bool = True, max_wait_hours: float = 36
) -> dict[str, Any]:
    """Post a class's social campaign to every account and class channel, exactly once.

    Args:
        campaign_id: the campaign (``alumni campaign create --channel social`` prints it).
        wait: wait for posts due later (``--send-at``, rate limits) inside the window; when
            False, stop after what is due now, and a later run posts the rest.
        max_wait_hours: never wait longer than this for the next post.
    """
    logger = get_run_logger()
    planned = plan_posts(campaign_id)
    logger.info("planned %d new post(s)", planned)
    set_status(get_engine(), campaign_id, CampaignStatus.sending)
    worker = f"social-{uuid.uuid4().hex[:12]}"
    deadline = time.monotonic() + max_wait_hours * 3600
    while True:
        counts = post_batch(campaign_id, worker)
        if counts["claimed"] and counts.get("pending", 0) < counts["claimed"]:
            continue
        with get_engine().connect() as connection:
            report = social_report(connection, campaign_id)
        next_due = report.next_due
        if next_due is None or not wait:
            break
        if report.window_ends_at is not None and next_due > report.window_ends_at:
            logger.warning("the next post is due at %s, after the window: stopping", next_due)
            break
        if not wait_until(next_due, deadline=deadline, what="post", logger=logger):
            break
    with get_engine().connect() as connection:
        report = social_report(connection, campaign_id)
    if not report.outcomes.get("pending") and not report.outcomes.get("claimed"):
        set_status(get_engine(), campaign_id, CampaignStatus.done)
        report.status = CampaignStatus.done
    create_markdown_artifact(markdown=report.markdown(), key=f"campaign-{campaign_id}-posts")
    create_table_artifact(
        table=[
            {"network": p.network, "account": p.account, "status": p.status, "link": p.url or ""}
            for p in report.posts
        ],
        key=f"campaign-{campaign_id}-posts-table",
    )
    return report.as_dict()
