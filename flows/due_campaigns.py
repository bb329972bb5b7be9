"""Scheduled: send whatever is due in every unfinished campaign.

``--send-at 09:30`` spreads a campaign over a day of time zones; instead of one run sleeping
until the last group is due, this flow runs every quarter of an hour and sends each group when
its time has come. It is also what resumes a campaign after a crash.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from prefect import flow, get_run_logger

from alumni.db import get_engine
from alumni.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    SocialPost,
    table_of,
    utcnow,
)
from flows.campaign import class_campaign
from flows.social import social_campaign

_C = table_of(Campaign)
_D = table_of(Delivery)
_P = table_of(SocialPost)


@flow(name="due-campaigns")
def due_campaigns() -> dict[int, dict[str, Any]]:
    """Run every planned or sending campaign that has deliveries or social posts due now."""
    now = utcnow()
    with get_engine().connect() as connection:
        due = list(
            connection.execute(
                sa.select(_D.c.campaign_id)
                .distinct()
                .join(_C, _C.c.id == _D.c.campaign_id)
                .where(
                    _C.c.status.in_((CampaignStatus.planned, CampaignStatus.sending)),
                    _C.c.channel == "email",  # event mailings: flows/event_invites.py
                    _D.c.status == DeliveryStatus.pending,
                    _D.c.due_at <= now,
                )
                .order_by(_D.c.campaign_id)
            ).scalars()
        )
        social = list(
            connection.execute(
                sa.select(_P.c.campaign_id)
                .distinct()
                .join(_C, _C.c.id == _P.c.campaign_id)
                .where(
                    _C.c.status.in_((CampaignStatus.planned, CampaignStatus.sending)),
                    _P.c.status == DeliveryStatus.pending,
                    _P.c.due_at <= now,
                )
                .order_by(_P.c.campaign_id)
            ).scalars()
        )
    get_run_logger().info("campaigns with messages or posts due: %s", due + social or "none")
    runs = {campaign_id: class_campaign(campaign_id=campaign_id, wait=False) for campaign_id in due}
    for campaign_id in social:
        runs[campaign_id] = social_campaign(campaign_id=campaign_id, wait=False)
    return runs
