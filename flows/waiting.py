"""Waiting inside a flow run for the next thing that falls due."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from alumni.models import utcnow


def wait_until(
    next_due: datetime,
    *,
    deadline: float,
    what: str,
    logger: logging.LoggerAdapter[logging.Logger] | logging.Logger,
) -> bool:
    """Sleep until ``next_due`` and return True, or return False at once when that is past the
    run's ``deadline`` (a ``time.monotonic()`` value)."""
    pause = (next_due - utcnow()).total_seconds()
    if time.monotonic() + pause > deadline:
        logger.warning("the next %s is due at %s, past max_wait_hours: stopping", what, next_due)
        return False
    logger.info("the next %s is due at %s; waiting %.0f s", what, next_due, pause)
    time.sleep(max(pause, 0.2))
    return True
