"""A social blast's dry run: its posts rendered, checked and written as a real run's plan would
(``plan_posts_on``), inside the caller's transaction that is then rolled back, and reported with
the text of each post. Nothing is posted: no network is called.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery.blasts import Rehearsal
from alumni.delivery.ledger import load_campaign
from alumni.messages.rendering import PreflightError
from alumni.models import SocialPost, table_of
from alumni.settings import Settings
from alumni.social.accounts import SecretLookup, class_channels, network_accounts
from alumni.social.posts import plan_posts_on
from alumni.social.report import social_report

_P = table_of(SocialPost)


def rehearse_posts(
    connection: Connection,
    campaign_id: int,
    *,
    settings: Settings,
    now: datetime,
    lookup: SecretLookup,
) -> Rehearsal:
    """Plan and check the campaign's posts on every account and class channel of its class.

    Raises:
        ValueError: there is nowhere to post (what to set up is named), as a real run would.
    """
    campaign = load_campaign(connection, campaign_id)
    accounts = network_accounts(settings, lookup) + class_channels(connection, campaign.class_year)
    try:
        plan_posts_on(connection, campaign_id, accounts, settings=settings, now=now)
        failed = None
    except PreflightError as exc:
        failed = str(exc)
    report = replace(social_report(connection, campaign_id), status="dry run, nothing posted")
    texts = connection.execute(
        sa.select(_P.c.network, _P.c.account, _P.c.locale, _P.c.text)
        .where(_P.c.campaign_id == campaign_id)
        .order_by(_P.c.id)
    )
    shown = [
        line
        for post in texts
        for line in (f"## {post.network} {post.account} ({post.locale})", "", "```", post.text,
                     "```", "")
    ]  # fmt: skip
    return Rehearsal(
        class_year=campaign.class_year,
        name=campaign.name,
        would_send=len(report.posts),
        skipped={},
        preflight=failed,
        details=report.markdown().split("\n", 1)[1] + "\n" + "\n".join(shown),
        unit="post(s) would go out",
    )
