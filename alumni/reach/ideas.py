"""Events and ideas an ambassador proposes for their class: requests of the desk's ``idea``
type (``requests.toml``), so they are answered under the idea SLA, with a decision and its
reason (``alumni request decide``), like any idea an alum sends.

The class in the request's summary is the ambassador's own (``AmbassadorIdentity``), never one
a form gives. ``ideas_of_class`` is what the class page and the monthly digest show: the ideas
of the class's current ambassadors, with the office's decision once there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import Ambassador, Request, RequestStatus, table_of
from alumni.reach.ambassadors import AmbassadorError, AmbassadorIdentity
from alumni.requests.desk import open_request

__all__ = ["IDEA", "IDEA_KINDS", "IDEA_LIMIT", "Idea", "ideas_of_class", "propose"]

IDEA: Final = "idea"  # the request type
IDEA_KINDS: Final = ("event", "idea")
IDEA_LIMIT: Final = 1500  # leaves room in the request's summary for the line naming the class
_Q = table_of(Request)
_AM = table_of(Ambassador)


@dataclass(frozen=True)
class Idea:
    """An ambassador's idea as their class page shows it (their own words: the office's
    internal notes are never here)."""

    request_id: int
    summary: str
    status: str
    opened_at: datetime
    decision: str | None
    decision_reason: str | None


def _summary(identity: AmbassadorIdentity, kind: str, text: str) -> str:
    what = "Event proposed" if kind == "event" else "Idea"
    return f"{what} by an ambassador of the class of {identity.class_year}:\n{text}"


def propose(
    connection: Connection,
    identity: AmbassadorIdentity,
    *,
    kind: str,
    text: str,
    now: datetime,
) -> int:
    """Open an ``idea`` request from the ambassador for their own class; return its id. The
    acknowledgement to them is queued in the same transaction (``open_request``).

    Raises:
        AmbassadorError: an unknown kind, or text empty or over ``IDEA_LIMIT`` characters.
    """
    if kind not in IDEA_KINDS:
        raise AmbassadorError(f"kind {kind!r} is not known: use one of {', '.join(IDEA_KINDS)}")
    text = text.strip()
    if not text:
        raise AmbassadorError("the idea is empty: say in a few words what you propose")
    if len(text) > IDEA_LIMIT:
        raise AmbassadorError(
            f"the idea has {len(text)} characters, more than {IDEA_LIMIT}: shorten it"
        )
    return open_request(
        connection,
        type=IDEA,
        alumnus_id=identity.alumnus_id,
        summary=_summary(identity, kind, text),
        source="web",
        opened_at=now,
        now=now,
        actor="alum",
    )


def ideas_of_class(
    connection: Connection, class_year: int, *, open_only: bool = False
) -> list[Idea]:
    """The idea requests of the class's ambassadors (newest first); ``open_only``: those not
    yet closed."""
    query = (
        sa.select(
            _Q.c.id,
            _Q.c.summary,
            _Q.c.status,
            _Q.c.opened_at,
            _Q.c.decision,
            _Q.c.decision_reason,
        )
        .where(
            _Q.c.type == IDEA,
            _Q.c.alumnus_id.in_(sa.select(_AM.c.alumnus_id).where(_AM.c.class_year == class_year)),
        )
        .order_by(_Q.c.opened_at.desc(), _Q.c.id.desc())
    )
    if open_only:
        query = query.where(_Q.c.status != RequestStatus.closed)
    return [
        Idea(r.id, r.summary, r.status, r.opened_at, r.decision, r.decision_reason)
        for r in connection.execute(query)
    ]
