"""``alumni reach``: who the school reached in the last twelve months, per class and country
(the weekly ``reach-report`` deployment makes the same report as a Prefect artifact)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from alumni.cli.output import fail, out, ready_engine
from alumni.models import utcnow
from alumni.people.keyed_hash import WrongHashKey
from alumni.reach import coverage

reach_app = typer.Typer(
    help="Reaching every alum: coverage per class year and country.", no_args_is_help=True
)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@reach_app.command("report")
def reach_report(
    class_year: Annotated[
        int | None, typer.Option(help="Only this class year (and its countries).")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
) -> None:
    """Per class year and per country: alumni, reached in the last 12 months (a delivered
    message that did not bounce, a reply, a click, an RSVP, a form), only bounced, no working
    channel, never reached, and the median and oldest days since they last heard from us."""
    engine = ready_engine()
    with engine.connect() as connection:
        try:
            rows = coverage.coverage_rows(connection, now=utcnow(), class_year=class_year)
        except WrongHashKey as exc:
            raise fail(str(exc)) from None
    if not rows and class_year is not None:
        raise fail(f"--class-year {class_year}: no contactable alumni of that class")
    if format is Format.csv:
        sys.stdout.write(coverage.to_csv(rows))
    elif format is Format.json:
        sys.stdout.write(coverage.to_json(rows) + "\n")
    else:
        out.print(coverage.render_table(rows))
