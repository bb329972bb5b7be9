"""Reach first: when a cap limits who gets a campaign, those nobody reached longest go first.

The planner (``alumni.delivery.planning``) knows nothing of reach; its caller passes
``reach_order`` as ``PlanOptions.order`` (``plan_options`` does), and a campaign with
``max_recipients`` keeps the first ones of that order pending. The rule itself is pure
(``longest_unreached_first``): never reached first, then the longest since the last reach
(``alumni.reach.coverage.reached_since``: a delivered message, a reply, a click, an RSVP, a
form), ties by id so the order is the same on every run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Connection

from alumni.delivery.planning import PlanOptions
from alumni.reach.coverage import reached_since
from alumni.settings import Settings

__all__ = ["longest_unreached_first", "plan_options", "reach_order"]


def longest_unreached_first(
    alumnus_ids: Sequence[int], last_reached: Mapping[int, datetime], *, now: datetime
) -> list[int]:
    """``alumnus_ids`` ordered by how long since each was last reached at ``now``: never
    first, then the longest ago; a reach after ``now`` is not known yet and does not count."""

    def key(alumnus_id: int) -> tuple[int, datetime, int]:
        at = last_reached.get(alumnus_id)
        if at is None or at > now:
            return (0, now, alumnus_id)
        return (1, at, alumnus_id)

    return sorted(alumnus_ids, key=key)


def reach_order(connection: Connection, alumnus_ids: Sequence[int], now: datetime) -> list[int]:
    """``alumnus_ids``, longest-unreached first at ``now`` (a ``PlanOptions.order``)."""
    last = reached_since(connection, None, among=alumnus_ids)
    return longest_unreached_first(alumnus_ids, last, now=now)


def plan_options(settings: Settings) -> PlanOptions:
    """The office's plan rules (``PlanOptions.from_settings``) with reach first."""
    return replace(PlanOptions.from_settings(settings), order=reach_order)
