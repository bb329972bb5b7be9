"""``alumni escalate [--as-of ISO]``: the request desk's escalation ladder once, now or as of
a past instant (catching up after downtime, audits); the ``escalation`` deployment runs it
every 15 minutes. ``alumni request digest``: the owners' daily digest now (the ``desk-digest``
deployment sends it on weekdays at 08:00). Both run their Prefect flow; running either again
sends nothing twice. What they print holds ids, types and rungs, never a request's words.
"""

from __future__ import annotations

from typing import Annotated

import typer

from alumni.cli.output import fail, out, ready_engine
from alumni.cli.requests import office_calendar, parse_instant, request_types
from alumni.models import utcnow
from alumni.requests.ladder import as_of_instant


def escalate(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Run as at this past instant (ISO 8601 with its offset), to catch up or audit; "
            "default: now. An instant in the future is refused.",
        ),
    ] = None,
) -> None:
    """Fire every rung of the escalation ladder that is due (reminders at 75% of a deadline,
    the desk lead at the breach, the director later; welfare every hour), each once, by email,
    the desk's chat webhook and a Prefect event."""
    ready_engine()
    when = parse_instant(as_of, "--as-of") if as_of else None
    try:
        as_of_instant(when, now=utcnow())
    except ValueError as exc:
        raise fail(f"--as-of: {exc}") from None
    # A types file or holidays feed that cannot be read is said in one line, before any run.
    request_types()
    office_calendar()
    from flows.escalation import escalation

    state = escalation(as_of=when, return_state=True)
    if not state.is_completed():
        raise fail(f"the escalation did not finish: {state.message}")
    summary = state.result()
    out.print(
        f"as of {summary['as_of']}: {len(summary['fired'])} rung(s) fired; "
        f"{summary['sent']} notice(s) sent, {summary['retrying']} to retry, "
        f"{summary['failed']} failed, {summary['superseded']} superseded",
        highlight=False,
    )
    for rung in summary["fired"]:
        out.print(
            f"  request {rung['request_id']}: {rung['rung']} of its "
            f"{rung['deadline_kind'].replace('_', ' ')} deadline (due {rung['deadline']}, "
            f"level {rung['level']})",
            highlight=False,
        )
    if summary["unknown_types"]:
        out.print(
            f"not escalated (type missing from the request types file): request(s) "
            f"{', '.join(map(str, summary['unknown_types']))}",
            highlight=False,
        )


def request_digest() -> None:
    """Send today's digest to each officer who owns open requests (requests nobody owns go to
    the desk lead); once a day each, however often it runs."""
    ready_engine()
    request_types()
    office_calendar()
    from flows.escalation import desk_digest

    state = desk_digest(return_state=True)
    if not state.is_completed():
        raise fail(f"the digest did not finish: {state.message}")
    summary = state.result()
    out.print(
        f"{summary['planned']} digest(s) planned today; {summary['sent']} notice(s) sent, "
        f"{summary['retrying']} to retry, {summary['failed']} failed",
        highlight=False,
    )
