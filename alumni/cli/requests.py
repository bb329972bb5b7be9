"""``alumni request ...``: the request desk as an officer uses it: open, list, show, and each
step of a request (assign, note, wait, resume, close, decide, referee, identity, ask), plus
``consent``, who agreed to be asked for introductions.

Every step is written to the request's audit trail under ``--as`` (default ``ALUMNI_OFFICER``,
else the OS user). ``list`` and ``show`` show a welfare request's content only to the named
officers (``ALUMNI_WELFARE_OFFICERS``); the rest see "(confidential)". What a step echoes never
holds a request's words, so a welfare note never reaches a terminal's scrollback or a log.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Connection

from alumni.cli.output import fail, out, ready_engine, safe_text, terminal_json, terminal_text
from alumni.db import write_transaction
from alumni.models import utcnow
from alumni.requests import desk
from alumni.requests.clock import BusinessCalendar
from alumni.requests.referrals import record_referral_consent
from alumni.requests.send_now import send_notices_now
from alumni.requests.types import RequestType, load_request_types
from alumni.settings import get_settings

request_app = typer.Typer(
    help="The request desk: letters, certificates, referrals, welfare, questions, ideas.",
    no_args_is_help=True,
)

As = Annotated[
    str | None,
    typer.Option("--as", help="Your email, for the audit trail (default: ALUMNI_OFFICER)."),
]
RequestId = Annotated[int, typer.Argument(help="The request's id.")]


_DEADLINE_LABELS = {
    "first_response_due": "response",
    "next_update_due": "update",
    "resolution_due": "resolution",
}


class Format(StrEnum):
    table = "table"
    json = "json"


class Outcome(StrEnum):
    resolved = "resolved"
    declined = "declined"
    withdrawn = "withdrawn"


class Decision(StrEnum):
    accepted = "accepted"
    declined = "declined"
    planned = "planned"


class YesNo(StrEnum):
    yes = "yes"
    no = "no"


def officer(given: str | None) -> str:
    """Who acts: ``--as``, else ``ALUMNI_OFFICER``, else the OS user."""
    named = given or get_settings().officer
    if named:
        return named.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's numeric user)
        raise fail("say who you are: --as EMAIL, or set ALUMNI_OFFICER") from None


def parse_instant(value: str, option: str) -> datetime:
    """An ISO 8601 date-time with its offset (``2027-05-03T09:30+02:00``, ``...Z``).

    Raises:
        typer.Exit: not ISO 8601, or no offset (which zone was meant cannot be guessed).
    """
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise fail(
            f"{option} {value!r} is not an ISO 8601 date-time: write it like "
            "2027-05-03T09:30+02:00 (or ...Z for UTC)"
        ) from None
    if instant.tzinfo is None:
        raise fail(
            f"{option} {value!r} has no time zone: add the offset it was in, like "
            f"{value}+02:00 (or {value}Z for UTC)"
        )
    return instant


@contextmanager
def desk_step() -> Iterator[Connection]:
    """A write transaction for one step; a refusal exits with its reason, nothing written."""
    engine = ready_engine()
    try:
        with write_transaction(engine) as connection:
            yield connection
    except (desk.DeskError, LookupError, ValueError) as exc:
        raise fail(str(exc)) from None


def request_types() -> dict[str, RequestType]:
    """The request types of ``requests.toml`` (``ALUMNI_REQUESTS_FILE``), or exit saying why."""
    try:
        return load_request_types()
    except ValueError as exc:  # RequestTypesError: names the file, type and field
        raise fail(str(exc)) from None


def office_calendar() -> BusinessCalendar:
    """The office's business calendar with its holidays, or exit saying why."""
    try:
        return BusinessCalendar.from_settings(get_settings())
    except ValueError as exc:  # HolidaysError: names the feed and what to do
        raise fail(str(exc)) from None


@request_app.command("open")
def request_open(
    type: Annotated[str, typer.Option("--type", help="letter, certificate, referral, ...")],
    alumnus: Annotated[str, typer.Option(help="External id of the alum who asks.")],
    summary: Annotated[str, typer.Option(help="What they ask, in a few words.")],
    owner: Annotated[str | None, typer.Option(help="Email of the officer who takes it.")] = None,
    deadline: Annotated[
        str | None, typer.Option(help="The alum's own deadline, ISO 8601 with offset.")
    ] = None,
    opened_at: Annotated[
        str | None,
        typer.Option(help="When it really came (phone, letter): ISO 8601 with offset."),
    ] = None,
    ask: Annotated[
        str | None,
        typer.Option(help="Referral: external id of the alum asked for the introduction."),
    ] = None,
    as_: As = None,
) -> None:
    """Open a request for an alum, who is sent an acknowledgement at once; the id is the last
    line."""
    now = utcnow()
    came = parse_instant(opened_at, "--opened-at") if opened_at else now
    due = parse_instant(deadline, "--deadline") if deadline else None
    types = request_types()
    with desk_step() as connection:
        request_id = desk.open_request(
            connection,
            type=type,
            alumnus_id=desk.find_alumnus(connection, alumnus),
            summary=summary.strip(),
            source="officer",
            opened_at=came,
            now=now,
            actor=officer(as_),
            owner=owner,
            deadline=due,
            asked_alumnus_id=desk.find_alumnus(connection, ask) if ask else None,
            types=types,
        )
    # At once, not at the next due-campaigns run: the alum may be on the phone right now.
    sent = send_notices_now(ready_engine(), request_id, settings=get_settings())
    said = (
        "the alum is sent an acknowledgement"
        if sent.get("sent")
        else "no acknowledgement could be sent now (no working address, or the mail server "
        "did not take it: the due-campaigns flow retries that)"
    )
    out.print(f"{safe_text(type)} request of {safe_text(alumnus)} opened; {said}", highlight=False)
    print(request_id)


@request_app.command("list")
def request_list(
    overdue: Annotated[bool, typer.Option(help="Only those with a deadline passed.")] = False,
    type: Annotated[str | None, typer.Option("--type", help="Only this type.")] = None,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    as_of: Annotated[
        str | None, typer.Option(help="See the desk as at this instant (ISO 8601), for audits.")
    ] = None,
    as_: As = None,
) -> None:
    """The open requests, breaches first, then the soonest due: type, owner, age, deadline."""
    now = parse_instant(as_of, "--as-of") if as_of else utcnow()
    types, calendar = request_types(), office_calendar()
    engine = ready_engine()
    try:
        with engine.connect() as connection:
            views = desk.list_requests(
                connection,
                overdue=overdue,
                type=type,
                viewer=officer(as_),
                now=now,
                types=types,
                calendar=calendar,
            )
    except ValueError as exc:
        raise fail(str(exc)) from None
    if format is Format.json:
        sys.stdout.write(terminal_json(json.dumps(views, indent=2, ensure_ascii=False)) + "\n")
        return
    if not views:
        out.print("no overdue requests" if overdue else "no open requests", highlight=False)
        return
    zone = calendar.tz
    # Compact columns so that a line fits 80 characters; --format json has every field whole.
    table = Table(
        title=f"Open requests at {_local(now, zone)} (times in {zone.key})",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        expand=True,
    )
    table.add_column("Id", justify="right", no_wrap=True)
    table.add_column("Type", no_wrap=True)
    table.add_column("Owner", no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("Age", justify="right", no_wrap=True)
    table.add_column("Due", no_wrap=True)
    table.add_column("For", no_wrap=True)
    table.add_column("Summary", no_wrap=True, overflow="ellipsis", ratio=1)
    for view in views:
        kind, due = _next_deadline(view)
        late = "bold red" if view["breached"] else ""
        table.add_row(
            str(view["id"]),
            view["type"],
            Text(terminal_text((view["owner"] or "-").split("@")[0])),
            _age(view["age_hours"]),
            Text(
                f"{due.astimezone(zone):%m-%d %H:%M}" + (" late" if view["breached"] else "")
                if due
                else "paused"
                if view["paused"]
                else "-",
                style=late,
            ),
            Text(kind, style=late),
            Text(terminal_text(" ".join(view["summary"].split()))),
        )
    out.print(table)


@request_app.command("show")
def request_show(
    request_id: RequestId,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    as_of: Annotated[
        str | None, typer.Option(help="Deadlines as at this instant (ISO 8601), for audits.")
    ] = None,
    as_: As = None,
) -> None:
    """One request: its fields, its deadlines (ISO date-times; null where none applies) and
    its audit trail, who did what and when."""
    now = parse_instant(as_of, "--as-of") if as_of else utcnow()
    types, calendar = request_types(), office_calendar()
    engine = ready_engine()
    try:
        with engine.connect() as connection:
            view = desk.request_view(
                connection,
                request_id,
                viewer=officer(as_),
                now=now,
                types=types,
                calendar=calendar,
            )
    except LookupError as exc:
        raise fail(str(exc)) from None
    if format is Format.json:
        sys.stdout.write(terminal_json(json.dumps(view, indent=2, ensure_ascii=False)) + "\n")
        return
    _print_view(view, calendar.tz)


@request_app.command("assign")
def request_assign(
    request_id: RequestId,
    owner: Annotated[str, typer.Option(help="Email of the officer who takes it.")],
    as_: As = None,
) -> None:
    """Give the request to an officer."""
    with desk_step() as connection:
        desk.assign(connection, request_id, owner=owner, actor=officer(as_), now=utcnow())
    out.print(f"request {request_id} assigned to {safe_text(owner.strip())}", highlight=False)


@request_app.command("note")
def request_note(
    request_id: RequestId,
    text: Annotated[str, typer.Option(help="The note, or with --to-alum the reply.")],
    to_alum: Annotated[
        bool, typer.Option("--to-alum", help="Send it to the alum (an update of the request).")
    ] = False,
    as_: As = None,
) -> None:
    """Add an internal note to the audit trail, or (--to-alum) reply to the alum."""
    with desk_step() as connection:
        desk.add_note(
            connection, request_id, text=text, to_alum=to_alum, actor=officer(as_), now=utcnow()
        )
    said = "reply to the alum queued" if to_alum else "note added"
    out.print(f"request {request_id}: {said}", highlight=False)


@request_app.command("wait")
def request_wait(
    request_id: RequestId,
    reason: Annotated[str | None, typer.Option(help="What the office waits for.")] = None,
    as_: As = None,
) -> None:
    """Wait on the alum: the SLA clock stops until `resume`; the alum is told."""
    with desk_step() as connection:
        desk.wait_on_alum(connection, request_id, actor=officer(as_), now=utcnow(), reason=reason)
    out.print(f"request {request_id} waits on the alum; the clock is stopped", highlight=False)


@request_app.command("resume")
def request_resume(request_id: RequestId, as_: As = None) -> None:
    """The alum answered: the SLA clock runs again."""
    with desk_step() as connection:
        desk.resume(connection, request_id, actor=officer(as_), now=utcnow())
    out.print(f"request {request_id} resumed; the clock runs again", highlight=False)


@request_app.command("close")
def request_close(
    request_id: RequestId,
    outcome: Annotated[Outcome, typer.Option(help="resolved, declined or withdrawn.")],
    reason: Annotated[str | None, typer.Option(help="Why, for the alum and the trail.")] = None,
    as_: As = None,
) -> None:
    """Close the request; the alum is told."""
    types = request_types()
    with desk_step() as connection:
        desk.close(
            connection,
            request_id,
            outcome=outcome.value,
            actor=officer(as_),
            now=utcnow(),
            reason=reason,
            types=types,
        )
    out.print(f"request {request_id} closed: {outcome.value}", highlight=False)


@request_app.command("decide")
def request_decide(
    request_id: RequestId,
    decision: Annotated[Decision, typer.Option(help="accepted, declined or planned.")],
    reason: Annotated[str, typer.Option(help="Why; the alum is told.")],
    as_: As = None,
) -> None:
    """Decide an idea; the alum is told the decision and why."""
    types = request_types()
    with desk_step() as connection:
        desk.decide_idea(
            connection,
            request_id,
            decision=decision.value,
            reason=reason,
            actor=officer(as_),
            now=utcnow(),
            types=types,
        )
    out.print(f"request {request_id}: {decision.value}; the alum is told why", highlight=False)


@request_app.command("referee")
def request_referee(
    request_id: RequestId,
    name: Annotated[str, typer.Option(help="Email of who writes the letter.")],
    as_: As = None,
) -> None:
    """Name the referee of a letter."""
    types = request_types()
    with desk_step() as connection:
        desk.set_referee(
            connection, request_id, referee=name, actor=officer(as_), now=utcnow(), types=types
        )
    out.print(f"request {request_id}: referee {safe_text(name.strip())}", highlight=False)


@request_app.command("identity")
def request_identity(
    request_id: RequestId,
    checked: Annotated[
        bool, typer.Option("--checked", help="You checked the alum's identity.")
    ] = False,
    as_: As = None,
) -> None:
    """Record that you checked the alum's identity (a certificate is released after it)."""
    if not checked:
        raise fail(f"say --checked once you have checked the identity of request {request_id}")
    types = request_types()
    with desk_step() as connection:
        desk.check_identity(connection, request_id, actor=officer(as_), now=utcnow(), types=types)
    out.print(f"request {request_id}: identity checked", highlight=False)


@request_app.command("ask")
def request_ask(
    request_id: RequestId,
    alumnus: Annotated[str, typer.Option(help="External id of the alum asked to introduce.")],
    as_: As = None,
) -> None:
    """Name the alum asked for a referral's introduction (they must have agreed to be asked)."""
    types = request_types()
    with desk_step() as connection:
        desk.ask_for_introduction(
            connection,
            request_id,
            asked_alumnus_id=desk.find_alumnus(connection, alumnus),
            actor=officer(as_),
            now=utcnow(),
            types=types,
        )
    out.print(f"request {request_id}: {safe_text(alumnus)} is asked", highlight=False)


@request_app.command("consent")
def request_consent(
    alumnus: Annotated[str, typer.Argument(help="External id of the alum.")],
    referrals: Annotated[YesNo, typer.Option(help="yes: they agree to be asked for referrals.")],
    evidence: Annotated[str, typer.Option(help="How they told us (kept with the consent).")],
) -> None:
    """Record whether an alum agrees to be asked for job introductions (referrals)."""
    with desk_step() as connection:
        record_referral_consent(
            connection,
            desk.find_alumnus(connection, alumnus),
            granted=referrals is YesNo.yes,
            evidence=evidence,
            now=utcnow(),
        )
    agrees = "agrees" if referrals is YesNo.yes else "does not agree"
    out.print(f"{safe_text(alumnus)} {agrees} to be asked for referrals", highlight=False)


def _print_view(view: Mapping[str, Any], zone: ZoneInfo) -> None:
    def when(iso: str | None) -> str:
        return _local(datetime.fromisoformat(iso), zone) if iso else "none"

    out.print(
        f"request {view['id']}: {safe_text(view['title'])} ({view['type']}), {view['status']}"
        + (" (paused)" if view["paused"] else ""),
        highlight=False,
    )
    fields = {
        "alum": view.get("alumnus"),
        "owner": view["owner"] or "(nobody)",
        "opened": f"{when(view['opened_at'])} ({_age(view['age_hours'])} ago)",
        "first response due": when(view["first_response_due"]),
        "next update due": when(view["next_update_due"]),
        "resolution due": when(view["resolution_due"]),
        "breached": ", ".join(view["breached"]) or None,
        "alum's deadline": view.get("deadline") and when(view["deadline"]),
        "referee": view.get("referee"),
        "asked to introduce": view.get("asked_alumnus"),
        "identity checked by": view.get("identity_checked_by"),
        "decision": view.get("decision") and f"{view['decision']}: {view['decision_reason']}",
        "outcome": view.get("outcome"),
    }
    for label, value in fields.items():
        if value:
            out.print(f"  {label + ':':<21}{safe_text(value)}", highlight=False)
    out.print(f"  {'summary:':<21}{safe_text(view['summary'], lines=True)}", highlight=False)
    out.print("audit trail:", highlight=False)
    for event in view["events"]:
        said = " (to the alum)" if event["to_alum"] else ""
        detail = f": {event['detail']}" if event["detail"] else ""
        out.print(
            f"  {when(event['at'])}  {safe_text(event['actor'])}  {event['action']}{said}"
            f"{safe_text(detail, lines=True)}",
            highlight=False,
        )


def _next_deadline(view: Mapping[str, Any]) -> tuple[str, datetime | None]:
    """The soonest running deadline of a listed request: what it is for, and when."""
    running = [
        (datetime.fromisoformat(view[key]), label)
        for key, label in _DEADLINE_LABELS.items()
        if view[key]
    ]
    if not running:
        return "", None
    when, label = min(running)
    return label, when


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def _age(hours: float) -> str:
    age = timedelta(hours=hours)
    if age.days:
        return f"{age.days}d {age.seconds // 3600}h"
    return f"{age.seconds // 3600}h {age.seconds % 3600 // 60}m"
