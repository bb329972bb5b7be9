"""Tracked links: a signed ``/l/<token>`` link in a post, counted when followed.

The token carries the post's idempotency key (purpose ``click``) and expires after
``LINK_LIFETIME``; where it leads is the campaign's ``--link``, read from the database, so a
forged or altered link cannot redirect anywhere.

A post's link counts at most one click per UTC clock hour: a link replayed by a bot, a reload
or a mail scanner adds no rows, and the count reads as "hours in which the link was followed".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alumni.db import insert_unless_present, write_transaction
from alumni.messages.signing import make_token
from alumni.models import Campaign, Response, SocialPost, table_of

CLICK = "click"
# A tracked link works this long after the post was written (people find old posts).
LINK_LIFETIME = timedelta(days=400)
_C = table_of(Campaign)
_P = table_of(SocialPost)
_R = table_of(Response)


def tracked_link(key: bytes, base_url: str, post_key: str, *, now: datetime) -> str:
    """The link a post shows for its campaign's ``--link``."""
    token = make_token(key, CLICK, post_key, expires_at=now + LINK_LIFETIME)
    return f"{base_url.rstrip('/')}/l/{token}"


def click_id(post_id: int, now: datetime) -> str:
    """The ``remote_id`` of the click a post's link counts in the UTC hour of ``now`` (aware)."""
    if now.utcoffset() is None:
        raise ValueError(f"now {now.isoformat()} has no time zone: pass an aware datetime")
    return f"click:{post_id}:{now.astimezone(UTC):%Y-%m-%dT%H}"


def record_click(engine: Engine, post_key: str, *, now: datetime) -> str | None:
    """Count a click on the post with ``post_key`` unless one is counted in this UTC hour.

    Returns:
        Where the link leads; None when the post is gone or its campaign has no link.
    """
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(_P.c.id, _P.c.campaign_id, _C.c.link)
            .join(_C, _C.c.id == _P.c.campaign_id)
            .where(_P.c.idempotency_key == post_key)
        ).first()
        if found is None or not found.link:
            return None
        remote_id = click_id(found.id, now)
        counted = connection.execute(
            sa.select(_R.c.id).where(_R.c.source == "web", _R.c.remote_id == remote_id)
        ).first()
    if counted is None:  # a replay within the hour takes no write lock
        with write_transaction(engine) as connection:
            insert_unless_present(
                connection,
                _R,
                ["source", "remote_id"],
                kind="click",
                source="web",
                remote_id=remote_id,
                campaign_id=found.campaign_id,
                social_post_id=found.id,
                at=now,
                needs_attention=False,
                created_at=now,
            )
    return str(found.link)
