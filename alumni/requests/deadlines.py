"""A request's running deadlines, from its type's rules, the SLA clock and its pauses.

Pure: the request row, its pauses and ``now`` are given. The deadlines are those in force as
of ``now``: a pause begun later is not yet known, one ended later is still running, an answer
or a close recorded later has not happened yet (so ``alumni escalate --as-of`` sees the desk as
it was).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alumni.requests.clock import BusinessCalendar, Pause, add_span
from alumni.requests.types import RequestType


@dataclass(frozen=True)
class Deadlines:
    """When the office owes the alum its next word; None where no deadline runs."""

    first_response_due: datetime | None  # None once answered
    next_update_due: datetime | None  # from the last word to the alum, once answered
    resolution_due: datetime | None  # None: never (welfare) or closed
    paused: bool  # waiting on the alum: no deadline runs


_NONE = Deadlines(None, None, None, paused=False)


def deadlines_of(
    request: Any,
    rtype: RequestType,
    calendar: BusinessCalendar,
    pauses: Sequence[Pause],
    *,
    now: datetime,
) -> Deadlines:
    """The deadlines of ``request`` as of ``now`` (UTC instants).

    Args:
        request: a ``Request`` row (or anything with its attributes: status, opened_at,
            first_response_at, last_update_at, deadline, closed_at).
        rtype: the rules of its type.
        calendar: the office's calendar.
        pauses: its pauses as (started_at, ended_at); ended None: still waiting on the alum.
        now: the instant the deadlines are wanted for.

    Returns:
        First response due from ``opened_at`` until answered; next update due from the last
        word to the alum (``last_update_at``) once answered; resolution due from ``opened_at``,
        or the alum's own ``deadline`` when sooner. Ended pauses push each deadline later by
        their SLA length; while a pause is open no deadline runs (``paused``); a closed
        request has none.
    """
    closed_at = _as_of(request.closed_at, now)
    if closed_at is not None or (request.status == "closed" and request.closed_at is None):
        return _NONE
    known = [
        (started, ended if ended is None or ended <= now else None)
        for started, ended in pauses
        if started <= now
    ]
    if any(ended is None for _, ended in known):
        return Deadlines(None, None, None, paused=True)
    answered_at = _as_of(request.first_response_at, now)
    first_response_due = None
    next_update_due = None
    if answered_at is None:
        first_response_due = add_span(calendar, request.opened_at, rtype.first_response, known)
    elif rtype.next_update is not None:
        last_word = _as_of(request.last_update_at, now) or answered_at
        since = max(last_word, answered_at)
        next_update_due = add_span(calendar, since, rtype.next_update, known)
    resolution_due = None
    if rtype.resolution is not None:
        resolution_due = add_span(calendar, request.opened_at, rtype.resolution, known)
    if request.deadline is not None and (
        resolution_due is None or request.deadline < resolution_due
    ):
        resolution_due = request.deadline  # the alum's own deadline: pauses do not move it
    return Deadlines(first_response_due, next_update_due, resolution_due, paused=False)


def _as_of(instant: datetime | None, now: datetime) -> datetime | None:
    """``instant`` if it had happened by ``now``, else None."""
    return instant if instant is not None and instant <= now else None
