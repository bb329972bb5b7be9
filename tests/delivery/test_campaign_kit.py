"""What a campaign's kit holds for every message, and what it lets a repr or a log show."""

from __future__ import annotations

from datetime import UTC, datetime

from alumni.db import engine_for
from alumni.delivery.ledger import load_campaign
from alumni.delivery.sending import CampaignKit
from alumni.settings import get_settings
from tests.factories import add_campaign


def test_the_kits_repr_shows_no_signing_key(sqlite_url: str) -> None:
    settings = get_settings()
    campaign_id = add_campaign(sqlite_url)
    with engine_for(sqlite_url).connect() as connection:
        campaign = load_campaign(connection, campaign_id)
        kit = CampaignKit.build(
            connection, campaign, settings=settings, now=datetime(2025, 5, 1, tzinfo=UTC)
        )
    key = settings.signing_key()
    assert kit.key == key
    for shown in (repr(kit), str(kit)):
        assert key.decode() not in shown
        assert repr(key) not in shown
        assert f"campaign_id={campaign_id}" in shown
