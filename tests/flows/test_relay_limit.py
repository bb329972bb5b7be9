"""The relay's rate limit: a Prefect global concurrency limit on the real Prefect test server.

Slots are counted, not times: the limit decays so slowly here (0.01 a second) that every slot
a run took is still occupied when the test reads the limit.
"""

from __future__ import annotations

import contextlib

import pytest
from prefect import get_client
from prefect.concurrency._asyncio import ConcurrencySlotAcquisitionError

from alumni.settings import Settings, get_settings
from flows.campaign import class_campaign
from flows.relay_limit import RELAY_LIMIT, relay_limit_of, relay_throttle
from tests.factories import add_campaign
from tests.flows.test_campaign import make_class, received
from tests.smtp_server import Recorder


@pytest.fixture
def no_relay_limit(prefect_api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    with get_client(sync_client=True) as client, contextlib.suppress(Exception):  # none yet
        client.delete_global_concurrency_limit_by_name(RELAY_LIMIT)


def test_no_relay_limit_is_set_by_default() -> None:
    assert relay_limit_of(Settings()) is None
    assert relay_throttle(Settings()) is None


def test_one_second_of_the_rate_is_the_burst_unless_set() -> None:
    assert relay_limit_of(Settings(relay_rate_per_second=250)) == (250, 250)
    assert relay_limit_of(Settings(relay_rate_per_second=0.5)) == (1, 0.5)
    assert relay_limit_of(Settings(relay_rate_per_second=5, relay_burst=40)) == (40, 5)


def test_a_campaign_takes_one_relay_slot_per_message(
    sqlite_url: str, smtp: Recorder, no_relay_limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUMNI_RELAY_RATE_PER_SECOND", "0.01")
    monkeypatch.setenv("ALUMNI_RELAY_BURST", "1000")
    get_settings.cache_clear()
    addresses = make_class(sqlite_url, 30)
    report = class_campaign(campaign_id=add_campaign(sqlite_url), wait=False)
    assert report["outcomes"] == {"sent": 30, "skipped:no_email": 1}
    assert received(smtp) == {address: 1 for address in addresses}
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(RELAY_LIMIT)
    assert (limit.limit, limit.slot_decay_per_second) == (1000, 0.01)
    assert limit.active_slots == 30


def test_a_relay_limit_removed_under_a_run_stops_it_rather_than_sending_unthrottled(
    no_relay_limit: None,
) -> None:
    throttle = relay_throttle(Settings(relay_rate_per_second=0.01, relay_burst=100))
    assert throttle is not None
    throttle(25)
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(RELAY_LIMIT).active_slots == 25
        client.delete_global_concurrency_limit_by_name(RELAY_LIMIT)
    with pytest.raises(ConcurrencySlotAcquisitionError):
        throttle(1)
