"""``alumni event ...`` and ``alumni reunions ...``: class events, their mailings and RSVPs."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from alumni.cli.output import fail, out, ready_engine, safe_text
from alumni.events import schedule
from alumni.events.mailings import cancel_pending
from alumni.events.rsvp import RsvpError, event_report, record_attendance
from alumni.models import utcnow
from alumni.settings import get_settings

event_app = typer.Typer(help="Class events: invites, updates, RSVPs.", no_args_is_help=True)
reunions_app = typer.Typer(help="Reunions at the class milestones.", no_args_is_help=True)


def run_mailing(event_id: int, key: str, *, max_recipients: int | None = None) -> None:
    from flows.event_invites import event_mailing

    try:
        result = event_mailing(event_id=event_id, key=key, max_recipients=max_recipients)
    except Exception as exc:  # the flow's own error, already logged by Prefect
        raise fail(f"event {event_id} mailing {key} did not finish: {exc}") from None
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(result["outcomes"].items()))
    out.print(f"event {event_id} {key}: {outcomes or 'nobody to write to'}", highlight=False)


@event_app.command("create")
def event_create(
    class_year: Annotated[int, typer.Option(help="The class the event is for.")],
    title: Annotated[str, typer.Option(help="What alumni will see.")],
    starts: Annotated[str, typer.Option(help='Wall time in --tz: "2027-06-12 18:00".')],
    tz: Annotated[str, typer.Option(help="The event's IANA zone, e.g. Europe/London.")],
    ends: Annotated[str | None, typer.Option(help="Wall time in --tz; default 3 h on.")] = None,
    place: Annotated[str | None, typer.Option(help="Where, for those who come.")] = None,
    online_url: Annotated[str | None, typer.Option(help="The link to join online.")] = None,
    capacity: Annotated[int | None, typer.Option(help="Places; beyond: waitlist.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO code of where it is held.")] = None,
    description: Annotated[str, typer.Option(help="A few lines for the invite.")] = "",
    over_budget: Annotated[
        str | None, typer.Option(help="Why this class may have one more event (kept).")
    ] = None,
) -> None:
    """Create an event; the last line printed is its id."""
    engine = ready_engine()
    try:
        starts_at = schedule.parse_local(starts, tz, field="--starts")
        ends_at = schedule.parse_local(ends, tz, field="--ends") if ends else None
        event_id = schedule.create_event(
            engine,
            class_year=class_year,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            tz=tz,
            place=place,
            online_url=online_url,
            capacity=capacity,
            country=country,
            description=description,
            over_budget=over_budget,
            now=utcnow(),
        )
    except schedule.EventError as exc:
        raise fail(str(exc)) from None
    print(event_id)


@event_app.command("update")
def event_update(
    event_id: Annotated[int, typer.Argument(help="The event's id.")],
    title: Annotated[str | None, typer.Option()] = None,
    starts: Annotated[str | None, typer.Option(help="New wall time in the event's zone.")] = None,
    ends: Annotated[str | None, typer.Option(help="New wall time in the event's zone.")] = None,
    tz: Annotated[str | None, typer.Option(help="New IANA zone.")] = None,
    place: Annotated[str | None, typer.Option()] = None,
    online_url: Annotated[str | None, typer.Option()] = None,
    capacity: Annotated[int | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    over_budget: Annotated[str | None, typer.Option(help="Reason to exceed the budget.")] = None,
    send: Annotated[bool, typer.Option(help="Send the update to invitees now.")] = True,
) -> None:
    """Change an event; a new time, place, link or title is sent to invitees as an update."""
    engine = ready_engine()
    try:
        with engine.connect() as connection:
            row = schedule.load_event(connection, event_id)
        zone = tz or row.timezone
        changes: dict[str, Any] = {
            "title": title,
            "timezone": tz,
            "place": place,
            "online_url": online_url,
            "capacity": capacity,
            "description": description,
            "over_budget_reason": over_budget,
        }
        if starts:
            changes["starts_at"] = schedule.parse_local(starts, zone, field="--starts")
        if ends:
            changes["ends_at"] = schedule.parse_local(ends, zone, field="--ends")
        notify = schedule.update_event(engine, event_id, now=utcnow(), **changes)
    except (LookupError, schedule.EventError) as exc:
        raise fail(str(exc)) from None
    if not notify:
        out.print(f"event {event_id} updated; nothing invitees must hear about", highlight=False)
        return
    with engine.connect() as connection:
        sequence = schedule.load_event(connection, event_id).sequence
    if send:
        run_mailing(event_id, f"update-{sequence}")
    else:
        out.print(f"later: alumni event send {event_id} update-{sequence}", highlight=False)


@event_app.command("cancel")
def event_cancel(
    event_id: Annotated[int, typer.Argument(help="The event's id.")],
    send: Annotated[bool, typer.Option(help="Send the cancellation to invitees now.")] = True,
) -> None:
    """Cancel an event: unsent mail about it is dropped and invitees get a CANCEL."""
    engine = ready_engine()
    try:
        changed = schedule.cancel_event(engine, event_id, now=utcnow())
    except LookupError as exc:
        raise fail(str(exc)) from None
    dropped = cancel_pending(engine, event_id)
    out.print(
        f"event {event_id} {'cancelled' if changed else 'was already cancelled'}; "
        f"{dropped} unsent message(s) dropped",
        highlight=False,
    )
    if send:
        run_mailing(event_id, "cancel")


@event_app.command("invite")
def event_invite(
    event_id: Annotated[int, typer.Argument(help="The event's id.")],
    max_recipients: Annotated[
        int | None,
        typer.Option(help="At most this many of the class, those nobody reached longest first."),
    ] = None,
) -> None:
    """Send the calendar invite to the event's class (a rerun sends only to newcomers)."""
    if max_recipients is not None and max_recipients < 1:
        raise fail(f"--max-recipients {max_recipients}: give 1 or more (leave it out for all)")
    ready_engine()
    run_mailing(event_id, "invite", max_recipients=max_recipients)


@event_app.command("send")
def event_send(
    event_id: Annotated[int, typer.Argument(help="The event's id.")],
    key: Annotated[str, typer.Argument(help="invite, update-<sequence> or cancel.")],
) -> None:
    """Send (or resume) one mailing about the event."""
    ready_engine()
    run_mailing(event_id, key)


@event_app.command("accept")
def event_accept(event_id: Annotated[int, typer.Argument(help="A proposed event's id.")]) -> None:
    """Accept a proposed reunion (checks the class's event budget)."""
    engine = ready_engine()
    try:
        schedule.accept_event(engine, event_id, now=utcnow())
    except (LookupError, schedule.EventError) as exc:
        raise fail(str(exc)) from None
    out.print(f"event {event_id} scheduled", highlight=False)


@event_app.command("attendance")
def event_attendance(
    event_id: Annotated[int, typer.Argument(help="The event's id.")],
    external_id: Annotated[list[str], typer.Argument(help="External ids of the alumni.")],
    absent: Annotated[bool, typer.Option(help="They did not come (default: they came).")] = False,
) -> None:
    """Record who came; the thank-you after the event goes only to those who did."""
    engine = ready_engine()
    try:
        changed = record_attendance(engine, event_id, external_id, came=not absent, now=utcnow())
    except (LookupError, RsvpError) as exc:
        raise fail(str(exc)) from None
    out.print(f"event {event_id}: {changed} marked {'absent' if absent else 'present'}")


@event_app.command("list")
def event_list(
    class_year: Annotated[int | None, typer.Option(help="Only this class.")] = None,
) -> None:
    """Every event, soonest first, with its time in its own zone."""
    engine = ready_engine()
    with engine.connect() as connection:
        rows = schedule.list_events(connection, class_year=class_year)
    for row in rows:
        local = row.starts_at.astimezone(schedule.zone_of(row.timezone))
        out.print(
            f"{row.id:>5}  class of {row.class_year}  {row.status:<9}  "
            f"{local:%Y-%m-%d %H:%M} {row.timezone}  {safe_text(row.title)}",
            highlight=False,
        )


@event_app.command("report")
def event_report_command(
    event_id: Annotated[int, typer.Argument(help="The event's id.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Invited, yes, no, maybe, no answer and waitlist, by country."""
    engine = ready_engine()
    with engine.connect() as connection:
        try:
            report = event_report(connection, event_id)
        except LookupError as exc:
            raise fail(str(exc)) from None
    rows = report.rows()
    if json_output:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    out.print(f"event {event_id}: {safe_text(report.title)} ({report.status})", highlight=False)
    columns = ("country", *report.COLUMNS)
    out.print("  ".join(f"{c:>9}" for c in columns), highlight=False)
    for row in rows:
        out.print(safe_text("  ".join(f"{row[c]!s:>9}" for c in columns)), highlight=False)


@event_app.command("reminders")
def event_reminders_command() -> None:
    """Send the reminders, thank-yous and waitlist notices that are due (also scheduled)."""
    ready_engine()
    from flows.event_invites import event_reminders

    result = event_reminders()
    out.print(f"planned {result['planned']}; sent {result['sent']}", highlight=False)


@reunions_app.command("plan")
def reunions_plan(
    year: Annotated[int, typer.Option(help="The year of the reunions.")],
    tz: Annotated[str | None, typer.Option(help="Zone of the placeholder date.")] = None,
) -> None:
    """Propose a reunion for each class at a milestone that year, within its budget."""
    engine = ready_engine()
    made = schedule.plan_reunions(
        engine, year, now=utcnow(), timezone=tz or get_settings().office_timezone
    )
    for event_id, proposal in made:
        out.print(
            f"{event_id:>5}  proposed  {safe_text(proposal.title)}  "
            f"{proposal.starts_at:%Y-%m-%d %H:%M} UTC",
            highlight=False,
        )
    out.print(
        f"{len(made)} proposal(s); accept one with `alumni event accept ID` after moving its date "
        "with `alumni event update ID --starts ...`",
        highlight=False,
    )
