"""Scheduled: send whatever is due in every unfinished campaign.

``--send-at 09:30`` spreads a campaign over a day of time zones; instead of one run sleeping
until the last group is due, this flow runs every quarter of an hour and sends each group when
its time has come. It is also what resumes a campaign after a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from prefect import flow, get_run_logger
from sqlalchemy.engine import Connection

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


def _due(connection: Connection, rows: sa.Table, channel: str, now: datetime) -> list[int]:
    """Unfinished campaigns of ``channel`` with a row of ``rows`` pending and due by ``now``."""
    return list(
        connection.execute(
            sa.select(rows.c.campaign_id)
            .distinct()
            .join(_C, _C.c.id == rows.c.campaign_id)
            .where(
                _C.c.status.in_((CampaignStatus.planned, CampaignStatus.sending)),
                _C.c.channel == channel,
                rows.c.status == DeliveryStatus.pending,
                rows.c.due_at <= now,
            )
            .order_by(rows.c.campaign_id)
        ).scalars()
    )


@flow(name="due-campaigns")
def due_campaigns() -> dict[int, dict[str, Any]]:
    """Run every planned or sending campaign that has deliveries or social posts due now.

    Event mailings (channel calendar) have their own schedule: flows/event_invites.py.
    """
    now = utcnow()
    with get_engine().connect() as connection:
        due = _due(connection, _D, "email", now)
        social = _due(connection, _P, "social", now)
    get_run_logger().info("campaigns with messages or posts due: %s", due + social or "none")
    runs = {campaign_id: class_campaign(campaign_id=campaign_id, wait=False) for campaign_id in due}
    for campaign_id in social:
        runs[campaign_id] = social_campaign(campaign_id=campaign_id, wait=False)
    return runs
