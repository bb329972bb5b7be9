"""``alumni track`` (read the office's mailbox once) and ``alumni replies`` (the human replies
waiting for an officer, and turning one into a request of the request desk)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any, cast

import sqlalchemy as sa
import typer
from rich.table import Table
from rich.text import Text

from alumni.cli.output import fail, out, ready_engine, safe_text, terminal_json, terminal_text
from alumni.cli.requests import officer
from alumni.db import write_transaction
from alumni.models import Alumnus, Campaign, Response, table_of, utcnow
from alumni.settings import get_settings
from alumni.tracking.inbox import UNPARSED_FLAGS, office_mailbox
from alumni.tracking.reply_requests import REQUEST_TYPES, open_request_from_reply
from connectors.imap import ImapConfigError

replies_app = typer.Typer(
    help="Replies to the office's emails that wait for an officer.", invoke_without_command=True
)
_R = table_of(Response)
_A = table_of(Alumnus)
_C = table_of(Campaign)
CONFIG_EXIT = 2  # a configuration that cannot work: nothing was read or changed


class ReplyFormat(StrEnum):
    table = "table"
    json = "json"


def track() -> None:
    """Read new mail in the office's mailbox once (ALUMNI_IMAP_URL): bounces, auto-replies,
    complaints, unsubscribes, calendar answers and replies, each handled exactly once."""
    ready_engine()
    try:
        office_mailbox(get_settings())
    except ImapConfigError as exc:
        raise fail(str(exc), code=CONFIG_EXIT) from None
    from flows.inbound_mail import inbound_mail
    from flows.outcome import MISCONFIGURED

    state = inbound_mail(return_state=True)
    if state.is_failed() or state.is_crashed() or state.is_cancelled():
        if state.name == MISCONFIGURED:
            raise fail(state.message or "the mailbox cannot be used", code=CONFIG_EXIT)
        raise fail(f"reading the mailbox did not finish: {state.message}")
    summary = cast(dict[str, Any], state.result())
    _print_summary(summary)


def _print_summary(summary: dict[str, Any]) -> None:
    out.print(
        f"mailbox {safe_text(summary['mailbox'])}: {summary['handled']} new message(s) handled, "
        f"{summary['already_handled']} found handled by another run; {summary['moved']} moved "
        f"to {safe_text(summary['done_folder'])}",
        highlight=False,
    )
    if summary["restarted"]:
        out.print(
            f"  the server renumbered the mailbox (UIDVALIDITY {summary['uidvalidity']}): "
            "read again from the first message; nothing was handled twice",
            highlight=False,
        )
    for kind, outcomes in summary["counts"].items():
        for outcome, count in sorted(outcomes.items()):
            out.print(f"  {kind:<12} {outcome:<10} {count}", highlight=False)
    unparsed = summary["unparsed"]
    if unparsed:
        out.print(
            f"{len(unparsed)} message(s) could not be read: kept in the mailbox, flagged "
            f"{' '.join(UNPARSED_FLAGS)}, for a person to read",
            highlight=False,
        )
        for message in unparsed:
            out.print(
                f"  UID {message['uid']}  from {safe_text(message['sender'] or '(unknown)')}  "
                f"subject {safe_text(message['subject'] or '(none)')}: "
                f"{safe_text(message['detail'] or '')}",
                highlight=False,
            )


@replies_app.callback()
def replies(
    ctx: typer.Context,
    campaign: Annotated[int | None, typer.Option(help="Only replies to this campaign.")] = None,
    all_replies: Annotated[
        bool, typer.Option("--all", help="Every reply, also those already dealt with.")
    ] = False,
    format: Annotated[
        ReplyFormat, typer.Option("--format", help="table or json.")
    ] = ReplyFormat.table,
) -> None:
    """Replies to the office's emails that need an officer, newest first (all with --all)."""
    if ctx.invoked_subcommand is not None:
        return
    engine = ready_engine()
    query = (
        sa.select(
            _R.c.id,
            _R.c.at,
            _R.c.text,
            _R.c.author,
            _R.c.needs_attention,
            _R.c.handled_at,
            _R.c.campaign_id,
            _C.c.name.label("campaign_name"),
            _A.c.id.label("alumnus_id"),
            _A.c.first_name,
            _A.c.last_name,
            _A.c.class_year,
            _A.c.external_id,
        )
        .select_from(_R.outerjoin(_A, _A.c.id == _R.c.alumnus_id))
        .outerjoin(_C, _C.c.id == _R.c.campaign_id)
        .where(_R.c.kind == "reply", _R.c.source == "email")
        .order_by(_R.c.at.desc(), _R.c.id.desc())
    )
    if campaign is not None:
        query = query.where(_R.c.campaign_id == campaign)
    if not all_replies:
        query = query.where(_R.c.needs_attention.is_(True), _R.c.handled_at.is_(None))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if format is ReplyFormat.json:
        records = [_record(row) for row in rows]
        sys.stdout.write(terminal_json(json.dumps(records, indent=2, ensure_ascii=False)) + "\n")
        return
    if not rows:
        out.print("no replies waiting for an officer", highlight=False)
        return
    table = Table(title="Replies to the office's emails", expand=True)
    table.add_column("Id", justify="right", no_wrap=True)
    table.add_column("When (UTC)", no_wrap=True)
    table.add_column("Alum", no_wrap=True)
    table.add_column("Campaign", no_wrap=True, max_width=24, overflow="ellipsis")
    # One line each, cut to the terminal: the whole text is in --format json.
    table.add_column("New text", no_wrap=True, overflow="ellipsis", ratio=1)
    for row in rows:
        table.add_row(
            str(row.id),
            f"{row.at:%Y-%m-%d %H:%M}",
            Text(terminal_text(_alum(row))),
            Text(terminal_text(row.campaign_name or "")),
            Text(terminal_text(" ".join((row.text or "").split()))),
        )
    out.print(table)


def _alum(row: Any) -> str:
    if row.alumnus_id is None:
        return str(row.author or "(unknown)")
    return f"{row.first_name} {row.last_name} ({row.class_year}, {row.external_id})"


def _record(row: Any) -> dict[str, Any]:
    alum = None
    if row.alumnus_id is not None:
        alum = {
            "id": row.alumnus_id,
            "name": f"{row.first_name} {row.last_name}",
            "class_year": row.class_year,
            "external_id": row.external_id,
        }
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "alum": alum,
        "author": row.author,
        "campaign": (
            {"id": row.campaign_id, "name": row.campaign_name} if row.campaign_id else None
        ),
        "text": row.text,
        "needs_attention": row.needs_attention,
        "handled_at": row.handled_at.isoformat() if row.handled_at else None,
    }


@replies_app.command("request")
def reply_request(
    reply_id: Annotated[int, typer.Argument(help="The reply's id (alumni replies lists it).")],
    type: Annotated[str, typer.Option("--type", help=", ".join(REQUEST_TYPES) + ".")],
    owner: Annotated[str | None, typer.Option(help="Email of the officer who takes it on.")] = None,
) -> None:
    """Turn a reply into a request of the request desk; the request's id is the last line."""
    engine = ready_engine()
    try:
        with write_transaction(engine) as connection:
            request_id = open_request_from_reply(
                connection, reply_id, type=type, now=utcnow(), owner=owner, actor=officer(None)
            )
    except ValueError as exc:  # ReplyRequestError: says which reply and why
        raise fail(str(exc)) from None
    out.print(f"reply {reply_id} is now request:", highlight=False)
    print(request_id)
