"""``alumni digest send``: the monthly digest, now, for one month (the scheduled
``monthly-digest`` deployment does the same on the 1st of each month)."""

from __future__ import annotations

from typing import Annotated

import typer

from alumni.cli.output import fail, out, ready_engine
from alumni.delivery.digest import month_to_send
from alumni.models import utcnow

digest_app = typer.Typer(
    help="The monthly digest, for alumni who chose to hear from us once a month.",
    no_args_is_help=True,
)


@digest_app.command("send")
def digest_send(
    month: Annotated[
        str | None,
        typer.Option(help="The month whose news is gathered, YYYY-MM (UTC); default: last month."),
    ] = None,
) -> None:
    """Gather each class's news of the month into one email to every alum who chose the
    monthly digest, and send it (the Prefect flow); prints one line per campaign, with its id.
    Running it again sends nothing twice."""
    ready_engine()
    try:
        chosen = month_to_send(month, now=utcnow())
    except ValueError as exc:
        raise fail(str(exc)) from None
    from flows.digest import monthly_digest

    try:
        result = monthly_digest(month=str(chosen))
    except Exception as exc:  # the flow's own error, already logged by Prefect
        raise fail(f"the digest of {chosen} did not finish: {exc}") from None
    if not result["campaigns"]:
        out.print(f"digest of {chosen}: nobody has news to gather", highlight=False)
    for campaign_id, report in result["campaigns"].items():
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report["outcomes"].items()))
        out.print(
            f"campaign {campaign_id}: digest of {chosen}, class of {report['class_year']}: "
            f"{outcomes}",
            highlight=False,
        )
