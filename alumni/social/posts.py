"""The social channel's ledger: one ``SocialPost`` per (campaign, account, locale), exactly once.

1. ``plan_posts`` renders every post first (the preflight): a template error, or a post over its
   network's limit (Mastodon 500 characters, Bluesky 300 graphemes), stops the campaign before
   anything is written or posted. Then it writes the rows in one transaction, each with its
   text, a fixed idempotency key and a fixed ``composed_at``. Running it again adds only the
   accounts or locales that are new since.
2. ``claim_posts`` leases due rows to one worker; a row whose lease ran out (its worker died) is
   claimed again and flagged ``maybe_duplicate``.
3. ``publish`` posts one claimed row; ``record_post`` writes what the network said: sent (its id
   and link), transient (pending again, due when the network's ``Retry-After`` says, or after
   the back-off), permanent (failed, with the answer).

Exactly once: Mastodon drops a second post with the same ``Idempotency-Key`` (for an hour), and
Bluesky's record key is derived from the key and ``composed_at``, so a post retried after a lost
answer or claimed again after a crash stays one post. A class's webhook has no such key: after a
crash, the one message in flight to it can go twice.
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
from alumni.delivery.ledger import MAX_ATTEMPTS, RETRY_DELAYS, load_campaign
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
)
from alumni.settings import Settings
from alumni.social import text as social_text
from alumni.social.accounts import Account
from alumni.social.clicks import tracked_link
from connectors.social import PostReceipt, SocialNetwork
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
    store = TemplateStore(settings.templates_dir, default_locale=settings.default_locale)
    with write_transaction(engine) as connection:
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
    engine: Engine, campaign_id: int, *, worker: str, now: datetime, lease: timedelta
) -> list[ClaimedPost]:
    """Claim every due post of the campaign for ``worker``."""
    due = sa.or_(
        sa.and_(_P.c.status == DeliveryStatus.pending, _P.c.due_at <= now),
        sa.and_(_P.c.status == DeliveryStatus.claimed, _P.c.claimed_at < now - lease),
    )
    with write_transaction(engine) as connection:
        query = sa.select(_P).where(_P.c.campaign_id == campaign_id, due).order_by(_P.c.id)
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=_P)
        found = connection.execute(query).all()
        if not found:
            return []
        ids = [r.id for r in found]
        connection.execute(
            sa.update(_P)
            .where(_P.c.id.in_(ids))
            .values(
                status=DeliveryStatus.claimed,
                claimed_by=worker,
                claimed_at=now,
                attempts=_P.c.attempts + 1,
            )
        )
        stale = [r.id for r in found if r.status == DeliveryStatus.claimed]
        if stale:
            connection.execute(sa.update(_P).where(_P.c.id.in_(stale)).values(maybe_duplicate=True))
    return [
        ClaimedPost(
            post_id=r.id,
            account=r.account,
            network=r.network,
            locale=r.locale,
            text=r.text,
            key=r.idempotency_key,
            composed_at=r.composed_at,
            attempts=r.attempts + 1,
        )
        for r in found
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


def record_post(
    engine: Engine,
    post: ClaimedPost,
    receipt: PostReceipt,
    *,
    worker: str,
    now: datetime,
    retry_delays: Sequence[timedelta] = RETRY_DELAYS,
) -> str:
    """Write one receipt; return the post's new status (sent, pending or failed)."""
    mine = sa.and_(
        _P.c.id == post.post_id,
        _P.c.status == DeliveryStatus.claimed,
        _P.c.claimed_by == worker,
    )
    outcome = receipt.outcome.value
    if outcome == "sent":
        values: dict[str, Any] = {
            "status": DeliveryStatus.sent,
            "remote_id": receipt.remote_id,
            "url": receipt.url,
            "posted_at": now,
            "error": None,
        }
    elif outcome == "transient" and (
        receipt.retry_after is not None or post.attempts < MAX_ATTEMPTS
    ):
        # A rate limit is the network's schedule, not a failure: wait as long as it says.
        wait = (
            timedelta(seconds=receipt.retry_after)
            if receipt.retry_after is not None
            else retry_delays[min(post.attempts, len(retry_delays)) - 1]
        )
        values = {"status": DeliveryStatus.pending, "due_at": now + wait, "error": receipt.reply}
    else:
        values = {"status": DeliveryStatus.failed, "error": receipt.reply}
    values["error"] = values["error"][:1000] if values["error"] else None
    with write_transaction(engine) as connection:
        connection.execute(sa.update(_P).where(mine).values(**values))
    return str(values["status"])


def release_posts(engine: Engine, post_ids: Sequence[int], *, worker: str, now: datetime) -> None:
    """Give claimed posts back (pending, due now) when a run stops before posting them."""
    if not post_ids:
        return
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(_P)
            .where(
                _P.c.id.in_(list(post_ids)),
                _P.c.status == DeliveryStatus.claimed,
                _P.c.claimed_by == worker,
            )
            .values(status=DeliveryStatus.pending, due_at=now, attempts=_P.c.attempts - 1)
        )
