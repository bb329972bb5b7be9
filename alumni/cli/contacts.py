"""``alumni contacts show|stale`` (each detail's age and source; the doubtful ones and why) and
``alumni lost list`` (alumni of a class with no working channel: names and class only)."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.table import Table
from rich.text import Text

from alumni.cli.output import fail, out, ready_engine, terminal_json, terminal_text
from alumni.models import Alumnus, ContactPoint, table_of, utcnow
from alumni.people.keyed_hash import WrongHashKey
from alumni.people.privacy import find_alumnus_id
from alumni.reach.channels import lost_classmates
from alumni.reach.freshness import FreshnessRules, doubts
from alumni.settings import get_settings

contacts_app = typer.Typer(
    help="Contact details: their age and source, and the stale or doubtful ones.",
    no_args_is_help=True,
)
lost_app = typer.Typer(help="The lost-alumni drive.", no_args_is_help=True)

_A = table_of(Alumnus)
_CP = table_of(ContactPoint)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def write_records(
    records: list[dict[str, Any]], columns: list[str], format: Format, title: str
) -> None:
    """Print ``records`` as a table, CSV or JSON; every value shown as text only."""
    if format is Format.json:
        text = json.dumps(records, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write(terminal_json(text) + "\n")
        return
    if format is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(
            {k: terminal_text("" if r[k] is None else r[k]) for k in columns} for r in records
        )
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")  # a value is never cut short
    for record in records:
        table.add_row(
            *(Text(terminal_text("" if record[k] is None else record[k])) for k in columns)
        )
    out.print(table)


def verified_words(verified_at: datetime | None, *, now: datetime) -> str:
    """``2024-03-01 (639 days)`` or ``never``: a detail's last verification and its age."""
    if verified_at is None:
        return "never"
    return f"{verified_at.date().isoformat()} ({(now - verified_at).days} days)"


@contacts_app.command("show")
def show(
    ref: Annotated[str, typer.Argument(help="External id (or database id) of the alum.")],
    format: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
) -> None:
    """Every contact detail held for one alum, current and superseded: kind, value, label,
    where it came from, when it was last verified (and how many days ago), status."""
    now = utcnow()
    engine = ready_engine()
    with engine.connect() as connection:
        try:
            alumnus_id = find_alumnus_id(connection, ref)
        except LookupError as exc:
            raise fail(str(exc)) from None
        rows = list(
            connection.execute(
                sa.select(_CP)
                .where(_CP.c.alumnus_id == alumnus_id)
                .order_by(_CP.c.superseded_at.is_not(None), _CP.c.kind, _CP.c.id)
            )
        )
    records = [
        {
            "id": row.id,
            "kind": row.kind,
            "value": row.value,
            "label": row.label,
            "source": row.source,
            "verified": verified_words(row.verified_at, now=now),
            "verified_at": None if row.verified_at is None else row.verified_at.isoformat(),
            "age_days": None if row.verified_at is None else (now - row.verified_at).days,
            "status": row.status,
            "current": row.superseded_at is None,
            "superseded_at": None if row.superseded_at is None else row.superseded_at.isoformat(),
        }
        for row in rows
    ]
    if not records and format is Format.table:
        out.print(f"no contact details are held for {terminal_text(ref)}", highlight=False)
        return
    columns = ["id", "kind", "value", "label", "source", "verified", "status", "current"]
    if format is not Format.table:
        columns = list(records[0]) if records else columns
    write_records(records, columns, format, f"contact details of {terminal_text(ref)}")


@contacts_app.command("stale")
def stale(
    class_year: Annotated[int | None, typer.Option(help="Only this class year.")] = None,
    format: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
) -> None:
    """Stale or doubtful contact details, one line per detail and reason: a phone shared by
    alumni of different surnames, an enrolment landline never verified since, a phone of
    another country, an address at a domain that bounces for many, the school's own address
    after graduation, a detail not verified for ALUMNI_STALE_AFTER_DAYS."""
    engine = ready_engine()
    rules = FreshnessRules.from_settings(get_settings())
    with engine.connect() as connection:
        found = doubts(connection, now=utcnow(), rules=rules, class_year=class_year)
        names = _names(connection, {d.point.alumnus_id for d in found})
    records = [
        {
            "alumnus": names[d.point.alumnus_id],
            "class_year": d.point.class_year,
            "detail": d.point.id,
            "kind": d.point.kind,
            "value": d.point.value,
            "rule": d.rule,
            "reason": d.reason,
        }
        for d in found
    ]
    if not records and format is Format.table:
        out.print("no stale or doubtful contact details", highlight=False)
        return
    columns = ["alumnus", "class_year", "detail", "kind", "value", "rule", "reason"]
    write_records(records, columns, format, "stale or doubtful contact details")


def _names(connection: sa.Connection, ids: set[int]) -> dict[int, str]:
    """Alumnus id -> ``external id (first last)``, for officers' listings."""
    found: dict[int, str] = {}
    listed = sorted(ids)
    for start in range(0, len(listed), 500):
        for row in connection.execute(
            sa.select(_A.c.id, _A.c.external_id, _A.c.first_name, _A.c.last_name).where(
                _A.c.id.in_(listed[start : start + 500])
            )
        ):
            found[row.id] = f"{row.external_id} ({row.first_name} {row.last_name})"
    return found


@lost_app.command("list")
def lost_list(
    class_year: Annotated[int | None, typer.Option(help="Only this class year.")] = None,
    format: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
) -> None:
    """Alumni with no working channel, by class and name: names and class only, never anyone's
    contact details (this list may be shared with the class's ambassadors)."""
    engine = ready_engine()
    try:
        with engine.connect() as connection:
            years = (
                [class_year]
                if class_year is not None
                else list(
                    connection.execute(
                        sa.select(_A.c.class_year).distinct().order_by(_A.c.class_year)
                    ).scalars()
                )
            )
            lost = [alum for year in years for alum in lost_classmates(connection, year)]
    except WrongHashKey as exc:
        raise fail(str(exc)) from None
    records = [{"class_year": a.class_year, "name": a.display_name} for a in lost]
    if not records and format is Format.table:
        out.print("nobody is lost: every alum has a working channel", highlight=False)
        return
    write_records(records, ["class_year", "name"], format, "lost alumni")
