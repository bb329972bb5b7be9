"""The social channel: one ``SocialPost`` per (campaign, account, locale), exactly once.

1. ``plan_posts`` renders every post first (the preflight): a template error, or a post over its
   network's limit (Mastodon 500 characters, Bluesky 300 graphemes), stops the campaign before
   anything is written or posted. Then it writes the rows in one transaction, each with its
   text, a fixed idempotency key and a fixed ``composed_at``. Running it again adds only the
   accounts or locales that are new since.
2. ``post_batch`` claims the due posts on the ledger (``alumni.delivery.ledger``, channel
   ``POSTS``: the same claim, lease, heartbeat, back-off and record as email), and for each one
   marks it handed, posts it with ``publish`` and records what the network said: sent (its id
   and link), transient (pending again, due when the network's ``Retry-After`` says, or after
   the back-off), permanent (failed, with the answer). A post whose account is no longer
   configured waits on the back-off like a transient failure. Each account is verified first:
   one whose credentials are refused stops the run at once, the batch given back unspent and
   the campaign's note saying why (``SocialConnectError``), as a refused SMTP login does.

Exactly once: Mastodon drops a second post with the same ``Idempotency-Key`` (for an hour), and
Bluesky's record key is derived from the key and ``composed_at``, so a post retried after a lost
answer or taken over after a crash stays one post. A class's webhook has no such key: after a
crash, the one message in flight to it can go twice (the ledger flags it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.delivery import ledger
from alumni.delivery.campaigns import stop_run
from alumni.delivery.ledger import load_campaign
from alumni.delivery.send_time import due_at, parse_send_at, zone
from alumni.delivery.sending import cohort_numbers
from alumni.events.times import describe_time
from alumni.messages.rendering import PreflightError, RenderError, TemplateStore
from alumni.models import (
    NETWORKS,
    Campaign,
    CampaignStatus,
    DeliveryStatus,
    Event,
    SocialPost,
    table_of,
    utcnow,
)
from alumni.settings import Settings
from alumni.social import text as social_text
from alumni.social.accounts import Account
from alumni.social.clicks import tracked_link
from connectors.social import PostReceipt, SocialConnectError, SocialNetwork
from connectors.social import SocialPost as OutgoingPost

_C = table_of(Campaign)
_E = table_of(Event)
_P = table_of(SocialPost)


@dataclass(frozen=True, slots=True)
class ClaimedPost:
    """A claimed post with what it takes to publish it."""

    post_id: int
    account: str
    network: str
    locale: str
    text: str
    key: str
    composed_at: datetime
    attempts: int


def post_contexts(
    connection: Connection, campaign: Any, *, settings: Settings, now: datetime
) -> Callable[[str, str], dict[str, Any]]:
    """What a social template sees, as a function of (locale, post key); reads the database once.

    ``cohort`` and ``office`` as in emails, ``campaign.name``, ``class.year`` and
    ``class.hashtag`` (``#Class2016``), ``event`` (the class's next scheduled event: ``title``,
    ``when`` in the event's zone, ``place`` and ``online_url``, either may be None; or None),
    and ``links.more`` (the tracked link to ``--link``, or None).
    """
    event = connection.execute(
        sa.select(_E)
        .where(
            _E.c.class_year == campaign.class_year,
            _E.c.status == "scheduled",
            _E.c.starts_at > now,
        )
        .order_by(_E.c.starts_at)
        .limit(1)
    ).first()
    shared = {
        "cohort": cohort_numbers(connection, campaign.class_year, now=now),
        "campaign": {"name": campaign.name},
        "office": {"name": settings.office_name, "postal_address": settings.postal_address},
        "class": {"year": campaign.class_year, "hashtag": f"#Class{campaign.class_year}"},
    }
    key = settings.signing_key()

    def context(locale: str, post_key: str) -> dict[str, Any]:
        more = tracked_link(key, settings.base_url, post_key, now=now) if campaign.link else None
        when = None
        if event is not None:
            when = {
                "title": event.title,
                "when": describe_time(
                    event.starts_at,
                    event.ends_at,
                    event_tz=event.timezone,
                    viewer_tz=None,
                    locale=locale,
                ).event_text,
                "place": event.place,
                "online_url": event.online_url,
            }
        return {**shared, "event": when, "links": {"more": more}}

    return context


def plan_posts(
    engine: Engine,
    campaign_id: int,
    accounts: Sequence[Account],
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """Render, check and write the campaign's posts; return how many are new.

    Raises:
        PreflightError: a post could not be rendered or is too long; nothing was written.
        ValueError: the campaign is not a social campaign, or there is nowhere to post.
    """
    with write_transaction(engine) as connection:
        return plan_posts_on(connection, campaign_id, accounts, settings=settings, now=now)


def plan_posts_on(
    connection: Connection,
    campaign_id: int,
    accounts: Sequence[Account],
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """``plan_posts`` inside the caller's write transaction (a blast's dry run, rolled back)."""
    store = TemplateStore(settings.templates_dir, default_locale=settings.default_locale)
    campaign = load_campaign(connection, campaign_id, lock=True)
    if campaign.channel != "social":
        raise ValueError(f"campaign {campaign_id} is a {campaign.channel} campaign, not social")
    if not accounts:
        raise ValueError(
            "no social account or class channel to post to: set ALUMNI_MASTODON_URL and "
            "ALUMNI_MASTODON_TOKEN, or ALUMNI_BLUESKY_URL, ALUMNI_BLUESKY_HANDLE and "
            "ALUMNI_BLUESKY_PASSWORD, or add one with `alumni social channel add`"
        )
    planned = {
        (r.account, r.locale)
        for r in connection.execute(
            sa.select(_P.c.account, _P.c.locale).where(_P.c.campaign_id == campaign_id)
        )
    }
    locales = (campaign.locales or settings.default_locale).split(",")
    start = due_at(
        now=now,
        send_at=parse_send_at(campaign.send_at),
        tz=zone(settings.office_timezone, "UTC"),
        not_before=campaign.not_before,
    )
    context = post_contexts(connection, campaign, settings=settings, now=now)
    rows: list[dict[str, Any]] = []
    failures: list[tuple[str, RenderError]] = []
    for account in accounts:
        for locale in locales:
            if (account.name, locale) in planned:
                continue
            key = f"alumni-{uuid.uuid4().hex}"
            ref = f"{account.name} ({account.where}), {locale}"
            try:
                text = store.render_post(campaign.template, locale, context(locale, key)).text
                if account.network in NETWORKS:
                    social_text.check_length(account.network, text)
            except RenderError as exc:
                failures.append((ref, exc))
                continue
            except ValueError as exc:
                failures.append(
                    (ref, RenderError(f"social/{campaign.template}", locale, None, str(exc)))
                )
                continue
            rows.append(
                {
                    "campaign_id": campaign_id,
                    "network": account.network,
                    "account": account.name,
                    "locale": locale,
                    "text": text,
                    "idempotency_key": key,
                    "composed_at": now,
                    "status": DeliveryStatus.pending,
                    "due_at": start,
                }
            )
    if failures:
        raise PreflightError(failures, failed=len(failures), checked=len(rows) + len(failures))
    if rows:
        connection.execute(sa.insert(_P), rows)
    values: dict[str, Any] = {"status": CampaignStatus.planned, "planned_at": now}
    if campaign.window_ends_at is None:
        hours = campaign.window_hours or settings.social_window_hours
        values["window_ends_at"] = start + timedelta(hours=hours)
    if campaign.status == CampaignStatus.draft:
        connection.execute(sa.update(_C).where(_C.c.id == campaign_id).values(**values))
    elif campaign.window_ends_at is None:
        connection.execute(
            sa.update(_C)
            .where(_C.c.id == campaign_id)
            .values(window_ends_at=values["window_ends_at"])
        )
    return len(rows)


def claim_posts(
    engine: Engine,
    campaign_id: int,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int = 1000,
) -> list[ClaimedPost]:
    """Claim the campaign's due posts for ``worker`` (``ledger.claim_rows`` on ``POSTS``)."""
    return ledger.claim_rows(
        engine,
        ledger.POSTS,
        campaign_id,
        worker=worker,
        limit=limit,
        now=now,
        lease=lease,
        read=_read_posts,
    )


def _read_posts(connection: Connection, ids: list[int]) -> list[ClaimedPost]:
    rows = connection.execute(sa.select(_P).where(_P.c.id.in_(ids)).order_by(_P.c.id))
    return [
        ClaimedPost(
            post_id=r.id,
            account=r.account,
            network=r.network,
            locale=r.locale,
            text=r.text,
            key=r.idempotency_key,
            composed_at=r.composed_at,
            attempts=r.attempts,
        )
        for r in rows
    ]


def publish(client: SocialNetwork, post: ClaimedPost) -> PostReceipt:
    """Post one claimed row through its connector, whichever network it is.

    The row's idempotency key and ``composed_at`` go with it; problems come back as a receipt.
    """
    return client.post(
        OutgoingPost(
            key=post.key,
            text=post.text,
            language=post.locale,
            created_at=post.composed_at,
        )
    )


def result_of(post: ClaimedPost, receipt: PostReceipt) -> ledger.Result:
    """What the network's receipt for a post means for the ledger."""
    return ledger.Result(
        post.post_id,
        receipt.outcome.value,
        reply=receipt.reply or "",
        retry_after=receipt.retry_after,
        remote_id=receipt.remote_id,
        url=receipt.url,
    )


def _check_accounts(
    engine: Engine,
    campaign_id: int,
    claimed: Sequence[Any],
    by_name: dict[str, Account],
    *,
    worker: str,
    settings: Settings,
) -> None:
    """Verify each account the batch posts through, before anything goes: one that refuses
    its credentials (a wrong token or password) stops the run at once, every claimed post given
    back unspent and the campaign's note saying why; a network that is only away is left to
    each post's back-off.

    Raises:
        SocialConnectError: an account that cannot work until someone fixes it.
    """
    for name in sorted({post.account for post in claimed} & by_name.keys()):
        client = by_name[name].open(allow_private=settings.webhook_allow_private)
        try:
            client.verify()
        except SocialConnectError as exc:
            if exc.transient:
                continue
            ids = [p.post_id for p in claimed]
            stop_run(engine, ledger.POSTS, campaign_id, ids, worker=worker, cause=exc)
            raise
        finally:
            client.close()


def post_batch(
    engine: Engine,
    campaign_id: int,
    accounts: Callable[[], Sequence[Account]],
    *,
    worker: str,
    settings: Settings,
) -> dict[str, int]:
    """Claim the campaign's due posts and post each through its account, keeping the batch's
    lease while it goes out; return ``claimed`` and the posts' new statuses (sent, pending,
    failed).

    ``accounts`` gives the campaign's accounts and class channels (read only when a post is
    due); the connectors are opened here, so no secret is ever a parameter.
    """
    lease = timedelta(seconds=settings.claim_lease_seconds)
    claimed = claim_posts(
        engine,
        campaign_id,
        worker=worker,
        now=utcnow(),
        lease=lease,
        limit=settings.send_batch_size,
    )
    if not claimed:
        return {"claimed": 0}
    by_name = {a.name: a for a in accounts()}
    delays = [timedelta(seconds=s) for s in settings.retry_delays_seconds]
    with ledger.Heartbeat(engine, ledger.POSTS, campaign_id, worker=worker, lease=lease):
        _check_accounts(engine, campaign_id, claimed, by_name, worker=worker, settings=settings)
        for post in claimed:
            account = by_name.get(post.account)
            if account is None:
                result = ledger.Result(
                    post.post_id,
                    "transient",
                    reply=f"account {post.account} is no longer configured; the post waits "
                    "for it to be set up again",
                )
            elif not ledger.mark_handed(
                engine, ledger.POSTS, [post.post_id], worker=worker, now=utcnow()
            ):
                continue  # another worker took it over
            else:
                client = account.open(allow_private=settings.webhook_allow_private)
                try:
                    result = result_of(post, publish(client, post))
                finally:
                    client.close()
            ledger.record(
                engine, ledger.POSTS, [result], now=utcnow(), worker=worker, retry_delays=delays
            )
    counts = {"claimed": len(claimed)}
    with engine.connect() as connection:
        for status, count in connection.execute(
            sa.select(_P.c.status, sa.func.count())
            .where(_P.c.id.in_([p.post_id for p in claimed]))
            .group_by(_P.c.status)
        ):
            counts[str(status)] = int(count)
    return counts
