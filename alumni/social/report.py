"""Where a social campaign stands: each post's network, link, time and engagement, and whether
the campaign can still finish inside its window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery.ledger import load_campaign
from alumni.models import DeliveryStatus, Response, SocialPost, table_of, utcnow

_P = table_of(SocialPost)
_R = table_of(Response)


@dataclass
class PostLine:
    post_id: int
    network: str
    account: str
    locale: str
    status: str
    url: str | None
    posted_at: datetime | None
    due_at: datetime | None
    likes: int
    reposts: int
    replies: int
    quotes: int
    clicks: int
    error: str | None


@dataclass
class SocialReport:
    campaign_id: int
    name: str
    class_year: int
    status: str
    window_ends_at: datetime | None
    posts: list[PostLine] = field(default_factory=list)
    late: list[str] = field(default_factory=list)  # what cannot go out inside the window

    @property
    def outcomes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for post in self.posts:
            counts[post.status] = counts.get(post.status, 0) + 1
        return counts

    @property
    def next_due(self) -> datetime | None:
        due = [p.due_at for p in self.posts if p.status == "pending" and p.due_at is not None]
        return min(due, default=None)

    def in_words(self) -> str:
        """One line: ``3 posted, 1 failed, 2 wait: due-campaigns posts them from ... UTC``."""
        counts = self.outcomes
        parts = [f"{counts.get('sent', 0)} posted"]
        if counts.get("failed"):
            parts.append(f"{counts['failed']} failed")
        waiting = counts.get("pending", 0) + counts.get("claimed", 0)
        if waiting and self.status == "stopped":
            parts.append(f"{waiting} not posted: the campaign is stopped")
        elif waiting:
            when = f" from {self.next_due:%Y-%m-%d %H:%M} UTC" if self.next_due else ""
            parts.append(f"{waiting} wait: due-campaigns posts them{when}")
        if self.late:
            parts.append(f"{len(self.late)} cannot go out inside the window")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "class_year": self.class_year,
            "channel": "social",
            "status": self.status,
            "total": len(self.posts),
            "outcomes": self.outcomes,
            "window_ends_at": _iso(self.window_ends_at),
            "next_due": _iso(self.next_due),
            "late": self.late,
            "posts": [
                {
                    **{k: v for k, v in vars(p).items() if not isinstance(v, datetime)},
                    "posted_at": _iso(p.posted_at),
                    "due_at": _iso(p.due_at),
                }
                for p in self.posts
            ],
        }

    def markdown(self) -> str:
        lines = [
            f"# Social campaign {self.campaign_id}: {self.name} (class of {self.class_year})",
            "",
            f"Status: **{self.status}**; window ends {_iso(self.window_ends_at) or 'not set'}",
            "",
            "| network | account | locale | status | link | when (UTC) | likes | reposts | "
            "replies | clicks |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for p in self.posts:
            when = p.posted_at or p.due_at
            lines.append(
                f"| {p.network} | {p.account} | {p.locale} | {p.status} | {p.url or ''} | "
                f"{when:%Y-%m-%d %H:%M} | {p.likes} | {p.reposts} | {p.replies} | {p.clicks} |"
                if when
                else f"| {p.network} | {p.account} | {p.locale} | {p.status} | | | | | | |"
            )
        lines += ["", *(f"**Late:** {line}" for line in self.late)]
        return "\n".join(lines) + "\n"


def social_report(
    connection: Connection, campaign_id: int, *, now: datetime | None = None
) -> SocialReport:
    """The report of one social campaign.

    Raises:
        LookupError: no such campaign.
    """
    campaign = load_campaign(connection, campaign_id)
    now = now or utcnow()
    clicks: dict[int, int] = dict(
        connection.execute(
            sa.select(_R.c.social_post_id, sa.func.count())
            .where(_R.c.campaign_id == campaign_id, _R.c.kind == "click")
            .group_by(_R.c.social_post_id)
        ).all()
    )
    rows = connection.execute(
        sa.select(_P).where(_P.c.campaign_id == campaign_id).order_by(_P.c.id)
    ).all()
    report = SocialReport(
        campaign_id=campaign_id,
        name=campaign.name,
        class_year=campaign.class_year,
        status=str(campaign.status),
        window_ends_at=campaign.window_ends_at,
    )
    end = campaign.window_ends_at
    for r in rows:
        report.posts.append(
            PostLine(
                post_id=r.id,
                network=r.network,
                account=r.account,
                locale=r.locale,
                status=str(r.status),
                url=r.url,
                posted_at=r.posted_at,
                due_at=r.due_at if r.status != DeliveryStatus.sent else None,
                likes=r.likes,
                reposts=r.reposts,
                replies=r.replies,
                quotes=r.quotes,
                clicks=int(clicks.get(r.id, 0)),
                error=r.error,
            )
        )
        unsent = r.status in (DeliveryStatus.pending, DeliveryStatus.claimed)
        if end is not None and unsent and max(r.due_at or now, now) > end:
            why = f" ({r.error})" if r.error else ""
            report.late.append(
                f"the {r.network} post ({r.account}, {r.locale}) cannot go out before the "
                f"window closes at {end:%Y-%m-%d %H:%M} UTC: it is due at "
                f"{max(r.due_at or now, now):%Y-%m-%d %H:%M} UTC{why}"
            )
    return report


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None
