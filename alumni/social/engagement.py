"""What people did with the office's posts, stored as ``Response`` rows.

Each reply, like and repost is stored once (``Response`` is unique per source and remote id, so
collecting again adds only what is new). When its author's handle is one an alum gave us
(``ContactPoint`` of kind mastodon or bluesky), the response is tied to that alum, and the
handle counts as verified now: the alum was heard from there, which is what the reach and
freshness reports read. Replies that ask for something (a question, a request) are flagged for
officers: ``alumni social replies``. Nothing by the handle of an erased alum (on the erasure
list) is stored: the post's counts include it, no row names it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import regex
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.models import ContactPoint, DeliveryStatus, Response, SocialPost, table_of
from alumni.people.erasure_list import erased_among
from connectors.social import Engagement

_P = table_of(SocialPost)
_R = table_of(Response)
_CP = table_of(ContactPoint)

# A question mark, or a word that asks (en, es, pt, fr, de), anywhere in the reply.
_ASKS = regex.compile(
    r"[?¿؟\uff1f]|\b(please|could you|can you|can i|how do i|need|help|request|send me|"
    r"letter|certificate|transcript|referral|job|contact me|por favor|puede|pueden|necesito|"
    r"ayuda|solicit\w*|certificado|carta|preciso|ajuda|pode|podem|s'il vous pla[iî]t|"
    r"pouvez|besoin|aide|attestation|bitte|brauche|hilfe|zeugnis)\b",
    regex.IGNORECASE,
)


def asks_for_something(text: str) -> bool:
    """True when a reply reads like a question or a request an officer should answer."""
    return bool(_ASKS.search(text))


def handle_key(network: str, handle: str) -> str:
    """A handle as stored for matching: Mastodon ``@user@host``, Bluesky ``name.host``."""
    bare = handle.strip().lstrip("@").lower()
    return f"@{bare}" if network == "mastodon" else bare


def posts_to_check(engine: Engine, *, since: datetime) -> list[tuple[int, str, str, str]]:
    """(post id, network, account, remote id) of every network post made since ``since``."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(_P.c.id, _P.c.network, _P.c.account, _P.c.remote_id)
            .where(
                _P.c.status == DeliveryStatus.sent,
                _P.c.network.in_(("mastodon", "bluesky")),
                _P.c.remote_id.is_not(None),
                _P.c.posted_at >= since,
            )
            .order_by(_P.c.id)
        )
        return [(r.id, r.network, r.account, r.remote_id) for r in rows]


def store_engagement(
    engine: Engine, post_id: int, engagement: Engagement, *, now: datetime
) -> dict[str, int]:
    """Keep a post's counts and its new responses; return how many of each kind are new."""
    with write_transaction(engine) as connection:
        post = connection.execute(sa.select(_P).where(_P.c.id == post_id)).one()
        connection.execute(
            sa.update(_P)
            .where(_P.c.id == post_id)
            .values(
                likes=engagement.likes,
                reposts=engagement.reposts,
                replies=engagement.reply_count,
                quotes=engagement.quotes,
                engagement_checked_at=now,
            )
        )
        found = [
            {
                "kind": "reply",
                "remote_id": reply.remote_id,
                "author": reply.author,
                "text": reply.text[:5000],
                "url": reply.url,
                "at": reply.created_at or now,
                "needs_attention": asks_for_something(reply.text),
            }
            for reply in engagement.replies
        ] + [
            {
                "kind": reaction.kind,
                "remote_id": f"{reaction.kind}:{post.remote_id}:{reaction.author}",
                "author": reaction.author,
                "text": None,
                "url": None,
                "at": reaction.created_at or now,
                "needs_attention": False,
            }
            for reaction in engagement.reactions
        ]
        return _insert_new(connection, post, found, now=now)


def _insert_new(
    connection: Connection, post: Any, found: list[dict[str, Any]], *, now: datetime
) -> dict[str, int]:
    if not found:
        return {}
    known = set(
        connection.execute(
            sa.select(_R.c.remote_id).where(
                _R.c.source == post.network,
                _R.c.remote_id.in_([f["remote_id"] for f in found]),
            )
        ).scalars()
    )
    fresh = list({f["remote_id"]: f for f in found if f["remote_id"] not in known}.values())
    erased = erased_among(connection, {(post.network, f["author"]) for f in fresh})
    fresh = [f for f in fresh if (post.network, f["author"]) not in erased]
    owners = _owners(connection, post.network, (f["author"] for f in fresh))
    counts: dict[str, int] = {}
    heard: dict[int, datetime] = {}  # contact point id -> when its alum was last heard from there
    for row in fresh:
        owner = owners.get(handle_key(post.network, row["author"]))
        row.update(
            source=post.network,
            campaign_id=post.campaign_id,
            social_post_id=post.id,
            alumnus_id=owner[0] if owner else None,
            created_at=now,
        )
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1
        if owner:
            counts["from alumni"] = counts.get("from alumni", 0) + 1
            heard[owner[1]] = max(row["at"], heard.get(owner[1], row["at"]))
    if fresh:
        connection.execute(sa.insert(_R), fresh)
    for contact_id, at in heard.items():
        connection.execute(
            sa.update(_CP)
            .where(
                _CP.c.id == contact_id,
                sa.or_(_CP.c.verified_at.is_(None), _CP.c.verified_at < at),
            )
            .values(verified_at=at)
        )
    return counts


def _owners(
    connection: Connection, network: str, authors: Iterable[str]
) -> dict[str, tuple[int, int]]:
    """handle key -> (alumnus id, contact point id) for the authors that are known alumni."""
    keys = {handle_key(network, author) for author in authors}
    if not keys:
        return {}
    rows = connection.execute(
        sa.select(_CP.c.alumnus_id, _CP.c.id, sa.func.lower(_CP.c.value).label("key"))
        .where(
            _CP.c.kind == network,
            _CP.c.superseded_at.is_(None),
            sa.func.lower(_CP.c.value).in_(keys),
        )
        .order_by(_CP.c.id)
    )
    return {r.key: (r.alumnus_id, r.id) for r in rows}
