"""Per class year: how many alumni there are and by which channel each can be reached.

One SQL statement (Core aggregates, no row-by-row Python) answers for every class at once, so the
report stays quick at a million alumni on SQLite and PostgreSQL alike. Columns:

- ``alumni``: every alum of the class, whatever their status, so that the report accounts for
  everyone imported: ``alumni == |by_email or by_social| + phone_only + unreachable + deceased +
  erased``;
- ``by_email``: active alumni with a current email whose status is ok;
- ``by_social``: active alumni with a current Mastodon or Bluesky handle whose status is ok;
- ``phone_only``: active alumni with a current ok phone and neither of the above;
- ``unreachable``: living, not erased alumni with none of the above (do-not-contact and lost
  included); ``by_email`` and ``by_social`` overlap for alumni who have both;
- ``deceased`` and ``erased`` (personal data removed on request): never contacted, counted so
  that nobody is left out without a word;
- ``stale_contacts``: current contact details of the living, not erased alumni not verified within
  ``stale_after_days`` of ``now`` (never verified counts as stale);
- ``countries``: distinct countries the living, not erased alumni live in.

"Current" means not superseded (``superseded_at IS NULL``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

import sqlalchemy as sa
from rich import box
from rich.table import Table
from sqlalchemy.engine import Connection

from alumni.models import (
    Alumnus,
    AlumnusStatus,
    ContactKind,
    ContactPoint,
    ContactStatus,
    table_of,
)

_ALUMNI = table_of(Alumnus)
_CONTACTS = table_of(ContactPoint)
_GONE = (AlumnusStatus.deceased.value, AlumnusStatus.erased.value)
_SOCIAL = (ContactKind.mastodon.value, ContactKind.bluesky.value)


@dataclass(frozen=True)
class ClassRow:
    """One class year's reach (``class_year`` None: all classes together, see ``total``)."""

    class_year: int | None
    alumni: int
    by_email: int
    by_social: int
    phone_only: int
    unreachable: int
    deceased: int
    erased: int
    stale_contacts: int
    countries: int
    # The countries themselves, so that a total can count distinct ones across classes.
    country_codes: frozenset[str] = field(default=frozenset(), repr=False, compare=False)


REPORT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ClassRow) if f.repr)


def class_report(
    connection: Connection,
    *,
    now: datetime,
    stale_after_days: int = 1095,
    class_year: int | None = None,
) -> list[ClassRow]:
    """Return one row per class year that has alumni, oldest class first.

    Args:
        connection: a connection to the alumni database.
        now: the moment staleness is measured from (timezone-aware).
        stale_after_days: a contact detail not verified for longer than this is stale.
        class_year: report on this class only.

    Returns:
        The rows, one per class year with anyone in it.
    """
    if now.tzinfo is None:
        raise ValueError(f"now={now.isoformat()} is naive: pass a timezone-aware datetime")
    if stale_after_days < 0:
        raise ValueError(f"stale_after_days must be 0 or more, not {stale_after_days}")
    cutoff = now - timedelta(days=stale_after_days)
    a, cp = _ALUMNI.c, _CONTACTS.c
    ok = cp.status == ContactStatus.ok.value

    def flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.max(sa.case((condition, 1), else_=0))

    # One row per alum with current contact details: which channels work, how many are stale.
    per_alum = (
        sa.select(
            cp.alumnus_id,
            flag(sa.and_(cp.kind == ContactKind.email.value, ok)).label("email"),
            flag(sa.and_(cp.kind.in_(_SOCIAL), ok)).label("social"),
            flag(sa.and_(cp.kind == ContactKind.phone.value, ok)).label("phone"),
            sa.func.sum(
                sa.case((sa.or_(cp.verified_at.is_(None), cp.verified_at < cutoff), 1), else_=0)
            ).label("stale"),
        )
        .where(cp.superseded_at.is_(None))
        .group_by(cp.alumnus_id)
    )
    if class_year is not None:
        mine = sa.select(a.id).where(a.class_year == class_year)
        per_alum = per_alum.where(cp.alumnus_id.in_(mine))
    channels = per_alum.subquery("channels")

    active = a.status == AlumnusStatus.active.value
    email = sa.func.coalesce(channels.c.email, 0) == 1
    social = sa.func.coalesce(channels.c.social, 0) == 1
    phone = sa.func.coalesce(channels.c.phone, 0) == 1

    def count_where(
        condition: sa.ColumnElement[bool], value: sa.ColumnElement[int] | int = 1
    ) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)

    query = (
        sa.select(
            a.class_year,
            sa.func.count().label("alumni"),
            count_where(sa.and_(active, email)).label("by_email"),
            count_where(sa.and_(active, social)).label("by_social"),
            count_where(sa.and_(active, phone, sa.not_(email), sa.not_(social))).label(
                "phone_only"
            ),
            count_where(sa.and_(active, sa.or_(email, social, phone))).label("reachable"),
            count_where(a.status == AlumnusStatus.deceased.value).label("deceased"),
            count_where(a.status == AlumnusStatus.erased.value).label("erased"),
            count_where(a.status.not_in(_GONE), channels.c.stale).label("stale"),
        )
        .select_from(_ALUMNI.outerjoin(channels, channels.c.alumnus_id == a.id))
        .group_by(a.class_year)
        .order_by(a.class_year)
    )
    country_query = (
        sa.select(a.class_year, a.country)
        .where(a.status.not_in(_GONE), a.country.is_not(None))
        .group_by(a.class_year, a.country)
    )
    if class_year is not None:
        query = query.where(a.class_year == class_year)
        country_query = country_query.where(a.class_year == class_year)

    countries: dict[int, set[str]] = {}
    for year, country in connection.execute(country_query):
        countries.setdefault(year, set()).add(country)
    rows = []
    for record in connection.execute(query):
        codes = frozenset(countries.get(record.class_year, ()))
        rows.append(
            ClassRow(
                class_year=record.class_year,
                alumni=record.alumni,
                by_email=int(record.by_email),
                by_social=int(record.by_social),
                phone_only=int(record.phone_only),
                deceased=int(record.deceased),
                erased=int(record.erased),
                unreachable=record.alumni
                - int(record.reachable)
                - int(record.deceased)
                - int(record.erased),
                stale_contacts=int(record.stale),
                countries=len(codes),
                country_codes=codes,
            )
        )
    return rows


def total(rows: Sequence[ClassRow]) -> ClassRow:
    """Return the all-classes row: sums, and the number of distinct countries across ``rows``."""
    codes = frozenset().union(*(row.country_codes for row in rows))
    return ClassRow(
        class_year=None,
        alumni=sum(row.alumni for row in rows),
        by_email=sum(row.by_email for row in rows),
        by_social=sum(row.by_social for row in rows),
        phone_only=sum(row.phone_only for row in rows),
        unreachable=sum(row.unreachable for row in rows),
        deceased=sum(row.deceased for row in rows),
        erased=sum(row.erased for row in rows),
        stale_contacts=sum(row.stale_contacts for row in rows),
        countries=len(codes),
        country_codes=codes,
    )


def _record(row: ClassRow) -> dict[str, int | None]:
    return {name: getattr(row, name) for name in REPORT_COLUMNS}


def _label(row: ClassRow) -> str:
    return "all" if row.class_year is None else str(row.class_year)


# Short headers that wrap between words: the table fits an 80-column terminal.
_HEADERS = {
    "by_email": "By email",
    "by_social": "By social",
    "phone_only": "Phone only",
    "unreachable": "No channel",
    "stale_contacts": "Stale details",
}


def render_table(rows: Sequence[ClassRow], *, with_total: bool = True) -> Table:
    """Return a rich table of ``rows``, closed by a total line when there is more than one.

    Headers wrap between words and no column is narrower than its longest word or figure, so
    the table of a demo fits an 80-column terminal without cutting a header or a number.
    """
    summaries = [total(rows)] if with_total and len(rows) > 1 else []
    lines = [
        (_label(row), *(f"{getattr(row, name):,}" for name in REPORT_COLUMNS[1:]))
        for row in (*rows, *summaries)
    ]
    table = Table(
        title="Reach by class year",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=0,
        caption="No channel: living alumni with no working email, social handle or phone.",
    )
    for index, name in enumerate(REPORT_COLUMNS):
        header = "Class" if index == 0 else _HEADERS.get(name, name.capitalize())
        widest = max((len(line[index]) for line in lines), default=0)
        table.add_column(
            header,
            justify="right",
            width=max(widest, *map(len, header.split())),
        )
    for line in lines[: len(rows)]:
        table.add_row(*line)
    for line in lines[len(rows) :]:
        table.add_section()
        table.add_row(*line, style="bold")
    return table


def to_csv(rows: Sequence[ClassRow]) -> str:
    """Return ``rows`` as CSV with a header; a total row (``total(rows)``) shows ``all``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_COLUMNS)
    for row in rows:
        writer.writerow([_label(row), *(getattr(row, name) for name in REPORT_COLUMNS[1:])])
    return buffer.getvalue()


def to_json(rows: Sequence[ClassRow]) -> str:
    """Return ``rows`` as a JSON list of objects keyed by column; a total has class_year null."""
    return json.dumps([_record(row) for row in rows], indent=2)
