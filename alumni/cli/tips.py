"""``alumni tips list|verify|reject``: the tips alumni gave about how to reach a lost classmate,
and the officer's check before anything in them is used (``alumni.reach.tips``)."""

from __future__ import annotations

from typing import Annotated

import typer

from alumni.cli.contacts import Format, write_records
from alumni.cli.output import fail, out, ready_engine, safe_text
from alumni.cli.requests import officer
from alumni.db import write_transaction
from alumni.delivery.planning import PlanOptions
from alumni.models import TipStatus, utcnow
from alumni.reach.tip_order import pending_tips_by_reach
from alumni.reach.tips import TipError, reject_tip, tip_rows, verify_tip
from alumni.requests.desk import DeskError
from alumni.settings import get_settings

tips_app = typer.Typer(
    help="Tips about how to reach lost alumni: nothing is used until an officer verifies it.",
    no_args_is_help=True,
)

_COLUMNS = ["id", "status", "lost", "class_year", "kind", "value", "how_known", "tipster"]


@tips_app.command("list")
def list_tips(
    status: Annotated[
        TipStatus | None, typer.Option(help="Only tips in this state (default: all).")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
    by_reach: Annotated[
        bool,
        typer.Option(
            "--by-reach",
            help="Only pending tips, in the order to verify them: least-reached classes first.",
        ),
    ] = False,
) -> None:
    """Tips, oldest first: who is lost, the detail given, how the tipster knows, and the state.
    With --by-reach: the pending ones, those of the least-reached classes first."""
    engine = ready_engine()
    with engine.connect() as connection:
        if by_reach:
            rows = pending_tips_by_reach(connection, now=utcnow())
        else:
            rows = tip_rows(connection, status=None if status is None else status.value)
    records = [
        {
            "id": row.id,
            "status": row.status,
            "lost": f"{row.lost_name} (alumnus {row.lost_alumnus_id})",
            "class_year": row.class_year,
            "kind": row.kind,
            "value": row.value,
            "how_known": row.how_known,
            "tipster": f"{row.tipster_name} (alumnus {row.tipster_id})",
            "created_at": row.created_at.isoformat(),
            "request_id": row.request_id,
            "decided_by": row.decided_by,
            "decision_reason": row.decision_reason,
            "consent_answer": row.consent_answer,
        }
        for row in rows
    ]
    if not records and format is Format.table:
        out.print("no tips", highlight=False)
        return
    columns = _COLUMNS if format is Format.table else list(records[0]) if records else _COLUMNS
    write_records(records, columns, format, "tips")


@tips_app.command("verify")
def verify(
    tip_id: Annotated[int, typer.Argument(help="The tip (`alumni tips list`).")],
    acting: Annotated[str | None, typer.Option("--as", help="Who you are (email).")] = None,
) -> None:
    """You checked the tip: add the detail to the lost alum (source "tip from <alum id>",
    unverified) and ask them, once, whether they want to hear from us; nothing else goes to
    them until they say yes."""
    who = officer(acting)
    engine = ready_engine()
    options = PlanOptions.from_settings(get_settings())
    try:
        with write_transaction(engine) as connection:
            done = verify_tip(connection, tip_id, officer=who, now=utcnow(), options=options)
    except (TipError, DeskError) as error:
        raise fail(str(error)) from None
    if done.campaign_id is None:
        out.print(
            f"tip {tip_id} verified: detail {done.contact_point_id} added. It is not an email, so "
            "no message goes out: ask them yourself, once, whether they want to hear from us.",
            highlight=False,
        )
        return
    out.print(
        f"tip {tip_id} verified: detail {done.contact_point_id} added; the consent question "
        f"(campaign {done.campaign_id}) goes out with the next due-campaigns run, or now with "
        f"`alumni campaign run {done.campaign_id}`.",
        highlight=False,
    )


@tips_app.command("reject")
def reject(
    tip_id: Annotated[int, typer.Argument(help="The tip (`alumni tips list`).")],
    reason: Annotated[str, typer.Option(help="Why (told to the alum who gave the tip).")],
    acting: Annotated[str | None, typer.Option("--as", help="Who you are (email).")] = None,
) -> None:
    """Refuse the tip: nothing in it is used."""
    who = officer(acting)
    engine = ready_engine()
    try:
        with write_transaction(engine) as connection:
            reject_tip(connection, tip_id, officer=who, reason=reason, now=utcnow())
    except (TipError, DeskError) as error:
        raise fail(str(error)) from None
    out.print(f"tip {tip_id} rejected: {safe_text(reason)}", highlight=False)
