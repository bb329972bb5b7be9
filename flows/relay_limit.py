"""The SMTP relay's rate limit, shared by every run on every machine: a Prefect global
concurrency limit named ``relay`` with a slot decay, set from ``ALUMNI_RELAY_RATE_PER_SECOND``.

A run that sends creates or updates the limit (``relay_throttle``) and then takes one slot a
message before each group goes (``prefect.concurrency.sync.rate_limit`` with ``strict=True``:
a limit deleted under a running campaign stops it rather than letting it send unthrottled).
The slots decay at the rate, so the relay sees at most the burst at once and the rate after.
"""

from __future__ import annotations

import math

from prefect import get_client
from prefect.concurrency.sync import rate_limit

from alumni.delivery.sending import Throttle
from alumni.settings import Settings

RELAY_LIMIT = "relay"


def relay_limit_of(settings: Settings) -> tuple[int, float] | None:
    """(slots, decay per second) of the relay limit the settings ask for; None: no limit."""
    rate = settings.relay_rate_per_second
    if rate is None:
        return None
    return settings.relay_burst or max(1, math.ceil(rate)), rate


def relay_throttle(settings: Settings) -> Throttle | None:
    """Create or update the ``relay`` limit and return what waits for its slots before a group
    of messages goes; None when ``ALUMNI_RELAY_RATE_PER_SECOND`` is unset."""
    limit = relay_limit_of(settings)
    if limit is None:
        return None
    slots, rate = limit
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(
            RELAY_LIMIT, slots, slot_decay_per_second=rate
        )

    def throttle(messages: int) -> None:
        while messages > 0:
            take = min(messages, slots)  # a call may not ask for more than the limit holds
            rate_limit(RELAY_LIMIT, occupy=take, strict=True)
            messages -= take

    return throttle
