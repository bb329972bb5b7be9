"""``alumni social ...``: the office's accounts, class channels, and what people answered;
plus running and reporting social campaigns for ``alumni campaign``."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import sqlalchemy as sa
import typer

from alumni.cli.output import fail, out, ready_engine, safe_text
from alumni.db import write_transaction
from alumni.delivery.ledger import load_campaign
from alumni.models import ClassChannel, Response, table_of, utcnow
from alumni.settings import get_settings
from alumni.social.accounts import (
    SecretLookup,
    channel_account,
    network_accounts,
    no_lookup,
)

social_app = typer.Typer(help="Social accounts, class channels and replies.", no_args_is_help=True)
channel_app = typer.Typer(help="A class's group chat (webhook).", no_args_is_help=True)
social_app.add_typer(channel_app, name="channel")
_CH = table_of(ClassChannel)
_R = table_of(Response)
STYLES = ("slack", "discord", "teams", "generic")


def campaign_channel(campaign_id: int) -> str:
    with ready_engine().connect() as connection:
        try:
            return str(load_campaign(connection, campaign_id).channel)
        except LookupError as exc:
            raise fail(str(exc)) from None


def run_social(campaign_id: int, *, wait: bool) -> None:
    from flows.social import social_campaign

    try:
        report = social_campaign(campaign_id=campaign_id, wait=wait)
    except Exception as exc:  # the flow's own error, already logged by Prefect
        raise fail(f"campaign {campaign_id} did not finish: {exc}") from None
    _print_posts(report)


def social_status(campaign_id: int, *, as_json: bool) -> None:
    from alumni.social.report import social_report

    with ready_engine().connect() as connection:
        report = social_report(connection, campaign_id).as_dict()
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        _print_posts(report)


def _print_posts(report: dict[str, Any]) -> None:
    out.print(
        f"campaign {report['campaign_id']} ({safe_text(report['name'])}, "
        f"class of {report['class_year']}): {report['status']}, {report['total']} post(s)",
        highlight=False,
    )
    for post in report["posts"]:
        when = post["posted_at"] or (f"due {post['due_at']}" if post["due_at"] else "")
        engagement = (
            f"{post['likes']} likes, {post['reposts']} reposts, {post['replies']} replies, "
            f"{post['clicks']} clicks"
        )
        where = post["url"] or post["error"] or ""  # the network's answers
        account = safe_text(f"{post['account']:<12}")
        out.print(
            f"  {post['network']:<9} {account} {post['locale']:<6} "
            f"{post['status']:<8} {safe_text(where)}  {when}  {engagement}",
            highlight=False,
        )
    for line in report["late"]:
        out.print(f"  [bold yellow]late:[/] {safe_text(line)}", highlight=False)


def secret_lookup() -> SecretLookup:
    """Prefect Secret blocks when a Prefect server is configured, else the environment only."""
    if not os.environ.get("PREFECT_API_URL"):
        return no_lookup
    from flows.social import prefect_secret

    return prefect_secret


@social_app.command("check")
def social_check() -> None:
    """Log in to every configured account and say which work; exit 1 if one does not."""
    from connectors.social import SocialConnectError

    try:
        accounts = network_accounts(get_settings(), secret_lookup())
    except ValueError as exc:
        raise fail(str(exc)) from None
    if not accounts:
        raise fail(
            "no social account is set up: set ALUMNI_MASTODON_URL and ALUMNI_MASTODON_TOKEN, "
            "or ALUMNI_BLUESKY_URL, ALUMNI_BLUESKY_HANDLE and ALUMNI_BLUESKY_PASSWORD"
        )
    broken = 0
    for account in accounts:
        try:
            who = account.verify()
        except SocialConnectError as exc:
            broken += 1
            out.print(f"[red]✗[/] {account.name}: {safe_text(exc)}", highlight=False)
        else:
            out.print(
                f"[green]✓[/] {account.name}: {safe_text(who)} on {safe_text(account.where)}",
                highlight=False,
            )
    if broken:
        raise typer.Exit(1)


@channel_app.command("add")
def channel_add(
    class_year: Annotated[int, typer.Option(help="The class whose chat it is.")],
    name: Annotated[str, typer.Option(help="What officers call it, e.g. 'class slack'.")],
    url: Annotated[str, typer.Option(help="The incoming-webhook URL the chat service gave.")],
    style: Annotated[str, typer.Option(help="slack, discord, teams or generic.")] = "slack",
) -> None:
    """Add a class channel; social campaigns for that class post to it too."""
    from connectors.webhook import WebhookClient

    if style not in STYLES:
        raise fail(f"--style {style!r}: use one of {', '.join(STYLES)}")
    if not name.strip() or len(name) > 100:
        raise fail("--name: give 1 to 100 characters")
    try:
        WebhookClient(url, style=style).close()
    except ValueError as exc:
        raise fail(f"--url: {exc}") from None
    engine = ready_engine()
    with write_transaction(engine) as connection:
        taken = connection.execute(
            sa.select(_CH.c.id).where(_CH.c.class_year == class_year, _CH.c.name == name)
        ).first()
        if taken is not None:
            raise fail(f"class {class_year} already has a channel named {name!r} (id {taken.id})")
        channel_id = connection.execute(
            sa.insert(_CH)
            .values(class_year=class_year, name=name, style=style, url=url, created_at=utcnow())
            .returning(_CH.c.id)
        ).scalar_one()
    print(channel_id)


@channel_app.command("list")
def channel_list() -> None:
    """Every class channel (URLs masked)."""
    with ready_engine().connect() as connection:
        for row in connection.execute(sa.select(_CH).order_by(_CH.c.class_year, _CH.c.id)):
            out.print(
                f"{row.id:>4}  class of {row.class_year}  {safe_text(channel_account(row).where)}",
                highlight=False,
            )


@channel_app.command("remove")
def channel_remove(channel_id: Annotated[int, typer.Argument(help="Its id.")]) -> None:
    """Stop posting to a class channel."""
    with write_transaction(ready_engine()) as connection:
        gone = connection.execute(sa.delete(_CH).where(_CH.c.id == channel_id)).rowcount
    if not gone:
        raise fail(f"no class channel with id {channel_id}; `alumni social channel list`")
    out.print(f"removed class channel {channel_id}", highlight=False)


@social_app.command("engagement")
def social_engagement_run() -> None:
    """Collect likes, reposts and replies of every recent post now (the flow runs hourly)."""
    from flows.engagement import social_engagement

    try:
        counts = social_engagement()
    except Exception as exc:  # the flow's own error, already logged by Prefect
        raise fail(f"engagement collection did not finish: {exc}") from None
    out.print(safe_text(", ".join(f"{k} {v}" for k, v in sorted(counts.items()))), highlight=False)


@social_app.command("replies")
def social_replies(
    all_replies: Annotated[
        bool, typer.Option("--all", help="Every reply, not only those asking for something.")
    ] = False,
    handled: Annotated[
        int | None, typer.Option(help="Mark this reply as answered by an officer.")
    ] = None,
) -> None:
    """Replies to the office's posts that ask for something and nobody has answered yet."""
    engine = ready_engine()
    if handled is not None:
        with write_transaction(engine) as connection:
            done = connection.execute(
                sa.update(_R)
                .where(_R.c.id == handled, _R.c.kind == "reply")
                .values(handled_at=utcnow())
            ).rowcount
        if not done:
            raise fail(f"no reply with id {handled}; `alumni social replies --all` lists them")
        out.print(f"reply {handled} marked as answered", highlight=False)
        return
    query = sa.select(_R).where(_R.c.kind == "reply").order_by(_R.c.at)
    if not all_replies:
        query = query.where(_R.c.needs_attention.is_(True), _R.c.handled_at.is_(None))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    for row in rows:
        who = safe_text(row.author) + (f" (alum {row.alumnus_id})" if row.alumnus_id else "")
        out.print(
            f"{row.id:>5}  {row.at:%Y-%m-%d %H:%M}  {row.source:<8} {who}: {safe_text(row.text)}\n"
            f"       {safe_text(row.url or '')}",
            highlight=False,
        )
    if not rows:
        out.print("no replies waiting for an answer", highlight=False)
