"""``alumni reach``: who the school reached in the last twelve months, per class and country
(the weekly ``reach-report`` deployment makes the same report as a Prefect artifact), and
``alumni reach hear-from-you``: this year's "we would like to hear from you" messages per class
and channel (email, Mastodon direct messages), sending what is due first with ``--send``."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from alumni.cli.output import fail, out, ready_engine
from alumni.models import utcnow
from alumni.people.keyed_hash import WrongHashKey
from alumni.reach import coverage
from alumni.reach.hear_from_you import counts_by_channel

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


@reach_app.command("hear-from-you")
def hear_from_you(
    send: Annotated[
        bool,
        typer.Option(
            help="First run the hear-from-you flow: plan and send to everyone unreached for a "
            "year (once a year each; email, else a Mastodon direct message)."
        ),
    ] = False,
    year: Annotated[
        int | None, typer.Option(help="The year to show (UTC); default: this one.")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """This year's hear-from-you messages per class and channel: sent, waiting, failed, and
    skipped with why. Running with --send again sends nothing twice."""
    engine = ready_engine()
    if send:
        from flows.hear_from_you import hear_from_you as hear_from_you_flow

        try:
            hear_from_you_flow()
        except Exception as exc:  # the flow's own error, already logged by Prefect
            raise fail(f"hear-from-you did not finish: {exc}") from None
    with engine.connect() as connection:
        counts = counts_by_channel(connection, year=year or utcnow().year)
    if format is Format.json:
        sys.stdout.write(json.dumps([c.as_dict() for c in counts], indent=2) + "\n")
        return
    if not counts:
        out.print("no hear-from-you messages this year", highlight=False)
    totals: dict[str, int] = {}
    for c in counts:
        totals[c.channel] = totals.get(c.channel, 0) + c.sent
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(c.outcomes.items()))
        out.print(
            f"class of {c.class_year}, {c.channel} (campaign {c.campaign_id}): {outcomes}",
            highlight=False,
        )
    if totals:
        said = ", ".join(f"{channel} {n}" for channel, n in totals.items())
        out.print(f"sent by channel: {said}", highlight=False)
