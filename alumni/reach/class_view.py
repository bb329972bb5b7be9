"""What an ambassador sees of their class: its coming events, how many of it the office can
reach, the classmates nobody can reach (names and class only: ``lost_classmates``), the
ambassadors' ideas with the office's answers, and their drafted campaigns.

The class page (``alumni.web.ambassador_page``) shows ``class_view`` as it is now; the monthly
digest (``alumni.reach.ambassador_digest``) fixes ``digest_context`` of it when it is made.
Reach counts come from ``working_channels`` (which channels work for each alum today) and
``coverage_rows`` (who was reached in the last 12 months). No contact detail of anyone is ever
part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import Event, EventStatus, table_of
from alumni.reach.channels import LostAlum, lost_classmates, working_channels
from alumni.reach.coverage import coverage_rows
from alumni.reach.drafts import Draft, drafts_of_class
from alumni.reach.ideas import Idea, ideas_of_class

__all__ = ["ClassReach", "ClassView", "ComingEvent", "class_view", "digest_context"]

_E = table_of(Event)


@dataclass(frozen=True)
class ComingEvent:
    """A scheduled or proposed event of the class that has not started yet."""

    title: str
    starts_at: datetime
    timezone: str
    place: str | None
    online_url: str | None
    status: str


@dataclass(frozen=True)
class ClassReach:
    """How many of the class the office can reach today, and on what."""

    contactable: int  # active or lost (not deceased, erased, do-not-contact)
    reachable: int  # with at least one working channel
    by_email: int
    by_social: int  # a Mastodon or Bluesky handle
    unreachable: int  # no working channel: the lost classmates
    reached_last_year: int  # reached in the last 12 months (``alumni.reach.coverage``)

    @property
    def share(self) -> float:
        """The reachable share of the contactable, 0 to 1 (1 for an empty class)."""
        return self.reachable / self.contactable if self.contactable else 1.0


@dataclass(frozen=True)
class ClassView:
    class_year: int
    events: list[ComingEvent]
    reach: ClassReach
    lost: list[LostAlum]
    ideas: list[Idea]
    drafts: list[Draft]


def _coming_events(connection: Connection, class_year: int, now: datetime) -> list[ComingEvent]:
    return [
        ComingEvent(r.title, r.starts_at, r.timezone, r.place, r.online_url, r.status)
        for r in connection.execute(
            sa.select(_E)
            .where(
                _E.c.class_year == class_year,
                _E.c.status != EventStatus.cancelled,
                _E.c.starts_at >= now,
            )
            .order_by(_E.c.starts_at, _E.c.id)
        )
    ]


def _reach(connection: Connection, class_year: int, now: datetime) -> ClassReach:
    channels = working_channels(connection, class_year=class_year)
    reachable = sum(1 for found in channels.values() if found)
    coverage = [
        row
        for row in coverage_rows(connection, now=now, class_year=class_year)
        if row.by == "class"
    ]
    return ClassReach(
        contactable=len(channels),
        reachable=reachable,
        by_email=sum(1 for found in channels.values() if "email" in found),
        by_social=sum(1 for found in channels.values() if found - {"email"}),
        unreachable=len(channels) - reachable,
        reached_last_year=coverage[0].reached if coverage else 0,
    )


def class_view(connection: Connection, class_year: int, *, now: datetime) -> ClassView:
    """The class page's content for ``class_year`` as of ``now``."""
    return ClassView(
        class_year=class_year,
        events=_coming_events(connection, class_year, now),
        reach=_reach(connection, class_year, now),
        lost=lost_classmates(connection, class_year),
        ideas=ideas_of_class(connection, class_year),
        drafts=drafts_of_class(connection, class_year),
    )


def digest_context(view: ClassView) -> dict[str, Any]:
    """What the monthly digest tells, as JSON-ready values (fixed when the digest is made):
    the events, the reach counts, the lost classmates' names and the open ideas."""
    return {
        "class_year": view.class_year,
        "events": [
            {
                "title": e.title,
                "starts_at": e.starts_at.isoformat(),
                "timezone": e.timezone,
                "place": e.place or "",
                "online_url": e.online_url or "",
            }
            for e in view.events
        ],
        "reach": {
            "contactable": view.reach.contactable,
            "reachable": view.reach.reachable,
            "by_email": view.reach.by_email,
            "by_social": view.reach.by_social,
            "unreachable": view.reach.unreachable,
            "reached_last_year": view.reach.reached_last_year,
            "percent": round(100 * view.reach.share),
        },
        "lost": [lost.display_name for lost in view.lost],
        "ideas": [
            {"summary": idea.summary, "status": idea.status}
            for idea in view.ideas
            if idea.status != "closed"
        ],
    }
