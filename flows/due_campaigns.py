"""Scheduled: send whatever is due in every unfinished campaign.

``--send-at 09:30`` spreads a campaign over a day of time zones; instead of one run sleeping
until the last group is due, this flow runs every quarter of an hour and sends each group when
its time has come. It is also what resumes a campaign after a crash: rows a dead run held count
as due once their lease has lapsed.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from alumni.db import get_engine
from alumni.delivery import ledger, progress
from alumni.delivery.batches import lease_of
from alumni.models import utcnow
from alumni.settings import get_settings
from flows.campaign import class_campaign
from flows.social import social_campaign


@flow(name="due-campaigns")
def due_campaigns() -> dict[int, dict[str, Any]]:
    """Run every planned or sending campaign that has deliveries or social posts due now.

    Event mailings (channel calendar) have their own schedule: flows/event_invites.py.
    """
    engine = get_engine()
    now = utcnow()
    lease = lease_of(get_settings())
    due = progress.due_campaigns(engine, ledger.DELIVERIES, kinds=("email",), now=now, lease=lease)
    social = progress.due_campaigns(engine, ledger.POSTS, kinds=("social",), now=now, lease=lease)
    get_run_logger().info("campaigns with messages or posts due: %s", due + social or "none")
    runs = {campaign_id: class_campaign(campaign_id=campaign_id, wait=False) for campaign_id in due}
    for campaign_id in social:
        runs[campaign_id] = social_campaign(campaign_id=campaign_id, wait=False)
    return runs
