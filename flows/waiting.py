"""Waiting inside a flow run, and the loop every ledger flow shares: send a batch while rows are
due, wait when the ledger says so (a later group, or rows another run holds), stop when it says
so, then apply the one done rule (``progress.finish``). The decisions are
``alumni.delivery.progress.next_step``'s; this module only sleeps and logs. Before each batch
it asks ``progress.refuse_stopped``: a campaign stopped while a run sends it (another run's
preflight failed) gets no further batch from this one.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from alumni.db import get_engine
from alumni.delivery import ledger, progress
from alumni.delivery.batches import lease_of
from alumni.models import utcnow
from alumni.settings import get_settings

Logger = logging.LoggerAdapter[logging.Logger] | logging.Logger


class Waiter:
    """Sleeps for one flow run until what a ``Step`` waits for, never past ``max_wait_hours``."""

    def __init__(self, max_wait_hours: float, logger: Logger) -> None:
        self.deadline = time.monotonic() + max_wait_hours * 3600
        self.logger = logger
        self._said = ""

    def wait(self, step: progress.Step) -> bool:
        """Sleep until ``step.until`` and return True, or return False at once when that is
        past the run's deadline. Says why (once for each new reason)."""
        assert step.until is not None
        pause = (step.until - utcnow()).total_seconds()
        if time.monotonic() + pause > self.deadline:
            self.logger.warning("%s; that is past max_wait_hours: stopping", step.why)
            return False
        if step.why != self._said:
            self.logger.info("%s; waiting %.0f s", step.why, max(pause, 0))
            self._said = step.why
        time.sleep(max(pause, 0.2))
        return True


def send_until_done(
    send_batch: Callable[[str, int], dict[str, int]],
    *,
    channel: ledger.Channel,
    campaign_id: int,
    worker_prefix: str,
    wait: bool,
    max_wait_hours: float,
    logger: Logger,
    window_ends_at: datetime | None = None,
) -> Counter[str]:
    """Send the campaign's rows on ``channel`` as one worker (``<worker_prefix>-<random>``):
    ``send_batch(worker, n)`` claims and sends the run's n-th batch and returns its counts,
    until the ledger says stop; then mark the campaign done if nothing is left. Rows held by
    another run are waited for whatever ``wait`` says. Returns the counts summed."""
    worker = f"{worker_prefix}-{uuid.uuid4().hex[:12]}"
    numbers = itertools.count(1)
    waiter = Waiter(max_wait_hours, logger)
    totals: Counter[str] = Counter()
    lease = lease_of(get_settings())
    engine = get_engine()
    while True:
        with engine.connect() as connection:
            progress.refuse_stopped(connection, campaign_id)
        counts = send_batch(worker, next(numbers))
        totals.update(counts)
        if counts["claimed"]:
            continue
        now = utcnow()
        with engine.connect() as connection:
            state = progress.read_progress(connection, channel, campaign_id, now=now, lease=lease)
        step = progress.next_step(state, now=now, wait=wait, window_ends_at=window_ends_at)
        if step.action == "send":
            continue
        if step.action == "stop":
            logger.info("campaign %d: %s", campaign_id, step.why)
            break
        if not waiter.wait(step):
            break
    progress.finish(engine, channel, campaign_id, now=utcnow(), lease=lease)
    return totals
