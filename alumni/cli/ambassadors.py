"""``alumni ambassador add|remove|list|link|drafts`` (who speaks for a class, the link to their
class page, the drafts waiting for approval), ``alumni campaign approve ID`` (an officer lets
an ambassador's draft be sent) and ``alumni share kit|report`` (share links with referral
codes, and who they brought)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from alumni.cli.output import fail, out, ready_engine, safe_text, terminal_json
from alumni.cli.requests import As, officer
from alumni.db import write_transaction
from alumni.messages.ambassador_links import ambassador_link
from alumni.messages.rendering import RenderError, TemplateStore
from alumni.models import utcnow
from alumni.reach import ambassadors, drafts, referrals, share
from alumni.settings import get_settings

ambassador_app = typer.Typer(
    help="Class ambassadors: volunteers who speak for their class.", no_args_is_help=True
)

ExternalId = Annotated[str, typer.Argument(help="The alum's external id (e.g. A000123).")]


@ambassador_app.command("add")
def ambassador_add(external_id: ExternalId) -> None:
    """Make the alum an ambassador of their own class (the import's `ambassador` column does
    the same); prints the link to their class page last."""
    engine = ready_engine()
    now = utcnow()
    try:
        with write_transaction(engine) as connection:
            role = ambassadors.add_ambassador(connection, external_id, now=now)
            identity = ambassadors.identity_of(connection, role)
    except ambassadors.AmbassadorError as exc:
        raise fail(str(exc)) from None
    assert identity is not None  # just made, of an alum who may act
    out.print(
        f"{safe_text(external_id)} is an ambassador of the class of {identity.class_year}",
        highlight=False,
    )
    _print_link(role)


@ambassador_app.command("remove")
def ambassador_remove(external_id: ExternalId) -> None:
    """End the alum's ambassador role; their class-page links stop working at once."""
    engine = ready_engine()
    try:
        with write_transaction(engine) as connection:
            ended = ambassadors.remove_ambassador(connection, external_id)
    except ambassadors.AmbassadorError as exc:
        raise fail(str(exc)) from None
    if ended:
        out.print(f"{safe_text(external_id)} is no longer an ambassador", highlight=False)
    else:
        out.print(f"{safe_text(external_id)} was not an ambassador", highlight=False)


@ambassador_app.command("list")
def ambassador_list(
    class_year: Annotated[int | None, typer.Option(help="Only this class.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON list.")] = False,
) -> None:
    """Every ambassador, by class: external id, name, since when."""
    engine = ready_engine()
    with engine.connect() as connection:
        rows = ambassadors.list_ambassadors(connection, class_year)
    if json_output:
        listed = [
            {
                "external_id": r.external_id,
                "name": r.name,
                "class_year": r.class_year,
                "since": r.since.isoformat(),
            }
            for r in rows
        ]
        out.print(terminal_json(json.dumps(listed, ensure_ascii=False)), highlight=False)
        return
    if not rows:
        out.print("no ambassadors", highlight=False)
    for r in rows:
        out.print(
            f"{r.class_year}  {safe_text(r.external_id)}  {safe_text(r.name)}  "
            f"since {r.since:%Y-%m-%d}",
            highlight=False,
        )


@ambassador_app.command("drafts")
def ambassador_drafts() -> None:
    """The campaigns ambassadors drafted that wait for an officer's approval, oldest first:
    preview one with `alumni campaign preview ID`, approve it with `alumni campaign approve ID`."""
    engine = ready_engine()
    with engine.connect() as connection:
        waiting = drafts.drafts_awaiting_approval(connection)
    if not waiting:
        out.print("no drafts wait for approval", highlight=False)
    for draft, drafted_by in waiting:
        when = f", not before {draft.not_before:%Y-%m-%d}" if draft.not_before else ""
        at = f", at {draft.send_at} local time" if draft.send_at else ""
        out.print(
            f"campaign {draft.campaign_id}: class of {draft.class_year}, "
            f"{safe_text(draft.name)} ({draft.template}{when}{at}), drafted by "
            f"{safe_text(drafted_by or '(erased)')} on {draft.drafted_at:%Y-%m-%d}",
            highlight=False,
        )


@ambassador_app.command("link")
def ambassador_link_command(external_id: ExternalId) -> None:
    """Print the signed link to the ambassador's class page (valid about two months; the
    monthly digest brings a fresh one)."""
    engine = ready_engine()
    with engine.connect() as connection:
        try:
            alumnus_id = ambassadors.find_alumnus(connection, external_id)
        except ambassadors.AmbassadorError as exc:
            raise fail(str(exc)) from None
        role = ambassadors.ambassador_id_of(connection, alumnus_id)
        identity = None if role is None else ambassadors.identity_of(connection, role)
    if role is None or identity is None:
        raise fail(
            f"{external_id!r} is not an ambassador: `alumni ambassador add {external_id}` "
            "makes them one"
        )
    _print_link(role)


def _print_link(role: int) -> None:
    settings = get_settings()
    link = ambassador_link(settings.signing_key(), settings.base_url, role, now=utcnow())
    out.print(link, highlight=False, soft_wrap=True)


def approve_campaign(
    campaign_id: Annotated[int, typer.Argument(help="The drafted campaign's id.")],
    as_: As = None,
) -> None:
    """Approve an ambassador's drafted campaign: from now on `alumni campaign run ID` sends it.
    Until then nothing plans or sends it."""
    engine = ready_engine()
    who = officer(as_)
    try:
        with write_transaction(engine) as connection:
            drafts.approve(connection, campaign_id, officer=who, now=utcnow())
    except (LookupError, ValueError) as exc:
        raise fail(str(exc)) from None
    out.print(
        f"campaign {campaign_id} approved by {safe_text(who)}: `alumni campaign run "
        f"{campaign_id}` sends it",
        highlight=False,
    )


share_app = typer.Typer(
    help="Share kits: links with referral codes and ready-to-post text; who they brought.",
    no_args_is_help=True,
)


@share_app.command("kit")
def share_kit(
    class_year: Annotated[int, typer.Option(help="The class the kit is for.")],
    alumnus: Annotated[
        str | None,
        typer.Option(help="The sharer's external id (default: each ambassador of the class)."),
    ] = None,
) -> None:
    """Print each sharer's join link (with their referral code) and the text to post on each
    network, measured as that network counts it, in the sharer's language."""
    engine = ready_engine()
    settings = get_settings()
    store = TemplateStore(settings.templates_dir, default_locale=settings.default_locale)
    try:
        with write_transaction(engine) as connection:
            kits = share.share_kits(
                connection,
                class_year=class_year,
                external_id=alumnus,
                key=settings.signing_key(),
                base_url=settings.base_url,
                store=store,
                now=utcnow(),
            )
    except (ambassadors.AmbassadorError, RenderError, ValueError) as exc:
        raise fail(str(exc)) from None
    for kit in kits:
        out.print(
            f"# {safe_text(kit.name)} ({safe_text(kit.external_id)}), class of "
            f"{kit.class_year}, in {kit.locale}",
            highlight=False,
        )
        out.print(f"link: {kit.link}", highlight=False)
        for post in kit.posts:
            out.print(
                f"\n## {post.network} ({post.length} of {post.limit})\n"
                f"{safe_text(post.text, lines=True)}",
                highlight=False,
            )
        out.print("", highlight=False)


@share_app.command("report")
def share_report(
    class_year: Annotated[int | None, typer.Option(help="Only this class.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON list.")] = False,
) -> None:
    """Each class's referrals: links shared, sign-ups, confirmed, and per sharer."""
    engine = ready_engine()
    with engine.connect() as connection:
        report = referrals.referral_report(connection, class_year)
    if json_output:
        listed = [
            {
                "class_year": r.class_year,
                "shared": r.shared,
                "signed_up": r.signed_up,
                "confirmed": r.confirmed,
                "sharers": [
                    {
                        "external_id": s.external_id,
                        "name": s.name,
                        "signed_up": s.signed_up,
                        "confirmed": s.confirmed,
                    }
                    for s in r.sharers
                ],
            }
            for r in report
        ]
        out.print(terminal_json(json.dumps(listed, ensure_ascii=False)), highlight=False)
        return
    if not report:
        out.print(
            "no share links yet: `alumni share kit --class-year Y` makes them", highlight=False
        )
    for r in report:
        out.print(
            f"class of {r.class_year}: {r.shared} shared, {r.signed_up} signed up, "
            f"{r.confirmed} confirmed",
            highlight=False,
        )
        for s in r.sharers:
            out.print(
                f"  {safe_text(s.external_id or '-')}  {safe_text(s.name)}: "
                f"{s.signed_up} signed up, {s.confirmed} confirmed",
                highlight=False,
            )
