"""Coverage: who the school reached in the last twelve months, per class year and per country.

An alum counts as *reached* at a moment when the school's word got to them or they answered:

- a message of the ledger that was sent and never bounced (``Delivery.sent_at``);
- a reply, a click, an RSVP, a like or repost tied to them (``Response``);
- an answer to an event (``Rsvp.answered_at``);
- a request they opened by replying or on the web form (``Request.opened_at``);
- any two-way contact the tracking work recorded (``Alumnus.last_two_way_at``: forms, a
  confirmed detail, an officer's call).

``reached_since`` answers per alum in one statement (a UNION ALL of those sources, grouped);
``coverage_rows`` reads each contactable alum's class, country, last reach and whether a
message of the window bounced in one more statement, takes the working channels from
``alumni.reach.channels.working_channels``, and adds up per class year, per country and for
all. Nothing is asked per alum, so it stays a few statements at 300,000 alumni.

Columns of a row (``CoverageRow``): ``alumni`` (contactable: active or lost), ``reached``
(within ``WINDOW`` of ``now``), ``only_bounced`` (not reached, but a message of the window
bounced), ``no_channel`` (no working channel at all), ``never_reached``, and how long since the
group last heard from the school: ``median_days`` and ``oldest_days`` (None: never, for half of
the group or more, or for at least one alum).
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from rich.table import Table
from sqlalchemy.engine import Connection

from alumni.models import (
    Alumnus,
    Delivery,
    DeliveryStatus,
    Request,
    Response,
    Rsvp,
    UTCDateTime,
    table_of,
)
from alumni.reach.channels import CONTACTABLE, working_channels

__all__ = [
    "WINDOW",
    "CoverageRow",
    "coverage_rows",
    "reached_since",
    "render_table",
    "to_csv",
    "to_json",
    "to_markdown",
]

# "Reached this year": the twelve months.
WINDOW = timedelta(days=365)

# Response kinds that show the alum got our word (an auto-reply or a bounce does not).
ANSWER_KINDS = ("reply", "click", "rsvp", "like", "repost")
BOUNCE_KINDS = ("bounce_hard", "bounce_soft")
# Requests the alum opened themselves (an officer logging one is not the alum answering).
OWN_REQUEST_SOURCES = ("reply", "web")
# Ids per statement when the caller names alumni: well under SQLite's bound-parameter limit.
_ID_CHUNK = 5000

_A = table_of(Alumnus)
_D = table_of(Delivery)
_R = table_of(Response)
_V = table_of(Rsvp)
_Q = table_of(Request)


def _reach_events(since: datetime | None, among: Collection[int] | None) -> sa.Subquery:
    """(alumnus_id, at) for every moment an alum was reached at or after ``since``."""
    bounced = sa.exists().where(_R.c.delivery_id == _D.c.id, _R.c.kind.in_(BOUNCE_KINDS))
    answered_by = sa.func.coalesce(_R.c.alumnus_id, _D.c.alumnus_id)
    parts: list[tuple[sa.Select[Any], Any, Any]] = [
        (
            sa.select(_D.c.alumnus_id.label("alumnus_id"), _D.c.sent_at.label("at")).where(
                _D.c.status == DeliveryStatus.sent, _D.c.sent_at.is_not(None), ~bounced
            ),
            _D.c.alumnus_id,
            _D.c.sent_at,
        ),
        (
            sa.select(answered_by, _R.c.at)
            .select_from(_R.outerjoin(_D, _D.c.id == _R.c.delivery_id))
            .where(_R.c.kind.in_(ANSWER_KINDS), answered_by.is_not(None)),
            answered_by,
            _R.c.at,
        ),
        (sa.select(_V.c.alumnus_id, _V.c.answered_at), _V.c.alumnus_id, _V.c.answered_at),
        (
            sa.select(_Q.c.alumnus_id, _Q.c.opened_at).where(_Q.c.source.in_(OWN_REQUEST_SOURCES)),
            _Q.c.alumnus_id,
            _Q.c.opened_at,
        ),
        (
            sa.select(_A.c.id, _A.c.last_two_way_at).where(_A.c.last_two_way_at.is_not(None)),
            _A.c.id,
            _A.c.last_two_way_at,
        ),
    ]
    selects = []
    for query, who, at in parts:
        if since is not None:
            query = query.where(at >= since)
        if among is not None:
            query = query.where(who.in_(list(among)))
        selects.append(query)
    return sa.union_all(*selects).subquery("reach_events")


def reached_since(
    connection: Connection,
    since: datetime | None,
    *,
    among: Collection[int] | None = None,
) -> dict[int, datetime]:
    """Alum id -> the latest time they were reached at or after ``since`` (None: ever).

    Alumni not reached in that time are absent. ``among`` limits the answer to those alumni
    (any number: asked in chunks); None asks about everyone in one statement.
    """
    if among is not None:
        found: dict[int, datetime] = {}
        ids = sorted(set(among))
        for start in range(0, len(ids), _ID_CHUNK):
            found |= _reached(connection, since, ids[start : start + _ID_CHUNK])
        return found
    return _reached(connection, since, None)


def _reached(
    connection: Connection, since: datetime | None, among: Collection[int] | None
) -> dict[int, datetime]:
    events = _reach_events(since, among)
    latest = sa.func.max(events.c.at, type_=UTCDateTime())
    return {
        int(alumnus_id): at
        for alumnus_id, at in connection.execute(
            sa.select(events.c.alumnus_id, latest).group_by(events.c.alumnus_id)
        )
    }


@dataclass(frozen=True)
class CoverageRow:
    """One group's coverage: a class year, a country, or everyone (see the module docstring)."""

    by: str  # class / country / all
    group: str  # the class year, the ISO country code ("unknown" when none), or "all"
    alumni: int
    reached: int
    only_bounced: int
    no_channel: int
    never_reached: int
    median_days: int | None  # since the group last heard from us; None: never (half or more)
    oldest_days: int | None  # None: at least one of them never heard from us

    @property
    def reached_share(self) -> float:
        """``reached`` over ``alumni`` (0 for an empty group)."""
        return self.reached / self.alumni if self.alumni else 0.0


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(CoverageRow))


@dataclass
class _Tally:
    alumni: int = 0
    reached: int = 0
    only_bounced: int = 0
    no_channel: int = 0
    days: list[float] | None = None

    def add(self, *, reached: bool, bounced: bool, no_channel: bool, days: float) -> None:
        self.alumni += 1
        self.reached += reached
        self.only_bounced += bounced and not reached
        self.no_channel += no_channel
        if self.days is None:
            self.days = []
        self.days.append(days)

    def row(self, by: str, group: str) -> CoverageRow:
        days = self.days or []
        median = statistics.median_low(days) if days else math.inf
        oldest = max(days, default=math.inf)
        return CoverageRow(
            by=by,
            group=group,
            alumni=self.alumni,
            reached=self.reached,
            only_bounced=self.only_bounced,
            no_channel=self.no_channel,
            never_reached=sum(1 for d in days if d == math.inf),
            median_days=None if median == math.inf else int(median),
            oldest_days=None if oldest == math.inf else int(oldest),
        )


def coverage_rows(
    connection: Connection, *, now: datetime, class_year: int | None = None
) -> list[CoverageRow]:
    """Coverage per class year (oldest first), then per country (by code), then for all.

    With ``class_year``: that class's row, its countries, and no "all" row.

    Raises:
        ValueError: ``now`` is naive.
        WrongHashKey: the suppression list was made with another secret key.
    """
    if now.utcoffset() is None:
        raise ValueError(f"now={now.isoformat()} is naive: pass a timezone-aware datetime")
    since = now - WINDOW
    ever = _reach_events(None, None)
    last = (
        sa.select(ever.c.alumnus_id, sa.func.max(ever.c.at, type_=UTCDateTime()).label("at"))
        .group_by(ever.c.alumnus_id)
        .subquery("last_reach")
    )
    bounced = (
        sa.select(_D.c.alumnus_id)
        .join(_R, _R.c.delivery_id == _D.c.id)
        .where(_R.c.kind.in_(BOUNCE_KINDS), _D.c.sent_at >= since)
        .distinct()
        .subquery("bounced")
    )
    query = (
        sa.select(
            _A.c.id,
            _A.c.class_year,
            _A.c.country,
            last.c.at,
            bounced.c.alumnus_id.is_not(None).label("bounced"),
        )
        .select_from(
            _A.outerjoin(last, last.c.alumnus_id == _A.c.id).outerjoin(
                bounced, bounced.c.alumnus_id == _A.c.id
            )
        )
        .where(_A.c.status.in_(CONTACTABLE))
    )
    if class_year is not None:
        query = query.where(_A.c.class_year == class_year)
    channels = working_channels(connection, class_year=class_year)
    classes: dict[int, _Tally] = {}
    countries: dict[str, _Tally] = {}
    everyone = _Tally()
    for alumnus_id, year, country, at, was_bounced in connection.execute(query):
        if at is not None and at.tzinfo is None:  # a UNION's max comes back raw on SQLite
            at = UTCDateTime().process_result_value(at, connection.dialect)
        reached = at is not None and at >= since
        days = math.inf if at is None else max(0, (now - at).days)
        for tally in (
            classes.setdefault(year, _Tally()),
            countries.setdefault(country or "unknown", _Tally()),
            everyone,
        ):
            tally.add(
                reached=reached,
                bounced=bool(was_bounced),
                no_channel=not channels.get(alumnus_id),
                days=days,
            )
    rows = [classes[year].row("class", str(year)) for year in sorted(classes)]
    rows += [countries[code].row("country", code) for code in sorted(countries)]
    if class_year is None and everyone.alumni:
        rows.append(everyone.row("all", "all"))
    return rows


def _cell(value: Any) -> str:
    return "never" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def render_table(
    rows: Sequence[CoverageRow], *, title: str = "Reach in the last 12 months"
) -> Table:
    """Return a rich table of ``rows``: one section per class years, countries, all."""
    table = Table(title=title)
    for name in COLUMNS:
        table.add_column(
            name.replace("_", " ").capitalize(),
            justify="left" if name in ("by", "group") else "right",
        )
    table.add_column("Reached %", justify="right")
    previous = None
    for row in rows:
        if previous is not None and row.by != previous:
            table.add_section()
        previous = row.by
        table.add_row(
            *(_cell(getattr(row, name)) for name in COLUMNS), f"{100 * row.reached_share:.0f}%"
        )
    return table


def to_csv(rows: Iterable[CoverageRow]) -> str:
    """Return ``rows`` as CSV with a header; "never" is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if getattr(row, n) is None else getattr(row, n) for n in COLUMNS])
    return buffer.getvalue()


def to_json(rows: Iterable[CoverageRow]) -> str:
    """Return ``rows`` as a JSON list of objects keyed by column; "never" is null."""
    return json.dumps([asdict(row) for row in rows], indent=2)


def to_markdown(rows: Sequence[CoverageRow], *, now: datetime) -> str:
    """Return ``rows`` as a markdown report (the weekly artifact), the least reached named."""
    lines = [f"# Reach in the 12 months to {now:%Y-%m-%d}", ""]
    groups = [row for row in rows if row.by != "all" and row.alumni]
    if groups:
        least = min(groups, key=lambda row: (row.reached_share, row.by, row.group))
        lines += [
            f"Least reached: {least.by} {least.group}, {least.reached} of {least.alumni} "
            f"({100 * least.reached_share:.0f}%).",
            "",
        ]
    lines += ["| " + " | ".join(COLUMNS) + " | reached % |", "|---" * (len(COLUMNS) + 1) + "|"]
    for row in rows:
        cells = " | ".join(_cell(getattr(row, name)) for name in COLUMNS)
        lines.append(f"| {cells} | {100 * row.reached_share:.0f}% |")
    return "\n".join(lines) + "\n"
