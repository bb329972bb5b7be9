"""The officer's queue of the lost-alumni drive: pending tips about alumni of the least-reached
classes first.

An officer checks tips one at a time (a call, a search: ``alumni.reach.tips.verify_tip``) and
gets through a few a week, so the order of the queue decides whose class gains first. The drive
helps most where the school reaches the fewest: ``least_reached_first`` orders pending tips by
the share of their class reached in the last twelve months (``alumni.reach.coverage``), lowest
first, then the oldest tip, then by id, so the order is the same on every run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from alumni.models import TipStatus
from alumni.reach.coverage import coverage_rows
from alumni.reach.tips import TipRow, tip_rows

__all__ = ["least_reached_first", "pending_tips_by_reach"]


def least_reached_first(tips: Sequence[TipRow], class_share: Mapping[int, float]) -> list[TipRow]:
    """``tips`` ordered by their class's reached share (``class_share``: class year -> 0..1;
    a class not in it counts as never reached, 0), lowest first; then oldest; then by id."""
    return sorted(tips, key=lambda t: (class_share.get(t.class_year, 0.0), t.created_at, t.id))


def pending_tips_by_reach(connection: Connection, *, now: datetime) -> list[TipRow]:
    """The pending tips in the order an officer should verify them at ``now``
    (``least_reached_first`` with each class's share reached in the twelve months to ``now``).

    Raises:
        WrongHashKey: the suppression list was made with another secret key.
    """
    pending = tip_rows(connection, status=TipStatus.pending.value)
    if not pending:
        return []
    shares = {
        int(row.group): row.reached_share
        for row in coverage_rows(connection, now=now)
        if row.by == "class"
    }
    return least_reached_first(pending, shares)
