"""What a campaign did: outcomes, where its alumni are (country, time zone), and what came back.

``responses`` counts alumni, not messages: an alum who replied three times is one reply. Each
key counts the alumni with at least one such response to this campaign's messages:

- ``delivered``: sent and never bounced (hard or soft);
- ``bounced_hard``, ``bounced_soft`` (an alum with both counts as hard only), ``auto_replied``,
  ``replied``, ``complained``, ``unsubscribed``, ``clicked``: from the responses tied to the
  campaign's deliveries (the mailbox, the web pages);
- ``rsvp_yes``, ``rsvp_no``, ``rsvp_maybe``: for an event mailing, the current answer of each
  alum it went to (an answer by link, calendar or officer alike).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import (
    Alumnus,
    Campaign,
    Delivery,
    EventMailing,
    Response,
    Rsvp,
    UTCDateTime,
    table_of,
)

_A = table_of(Alumnus)
_C = table_of(Campaign)
_D = table_of(Delivery)
_M = table_of(EventMailing)
_R = table_of(Response)
_V = table_of(Rsvp)

RESPONSE_KEYS = (
    "delivered",
    "bounced_hard",
    "bounced_soft",
    "auto_replied",
    "replied",
    "complained",
    "unsubscribed",
    "clicked",
    "rsvp_yes",
    "rsvp_no",
    "rsvp_maybe",
)
# Response.kind -> the key it counts under
_KIND_KEYS = {
    "bounce_hard": "bounced_hard",
    "bounce_soft": "bounced_soft",
    "auto_reply": "auto_replied",
    "reply": "replied",
    "complaint": "complained",
    "unsubscribe": "unsubscribed",
    "click": "clicked",
}


@dataclass
class CampaignReport:
    campaign_id: int
    name: str
    class_year: int
    status: str
    outcomes: dict[str, int] = field(default_factory=dict)  # sent, failed, pending, skipped:why
    by_country: dict[str, dict[str, int]] = field(default_factory=dict)
    by_timezone: dict[str, dict[str, int]] = field(default_factory=dict)
    maybe_duplicates: int = 0
    next_due: datetime | None = None
    note: str | None = None  # why the campaign, or its last run, stopped short
    audience_where: dict[str, list[str]] | None = None  # the --where filter, if any
    audience_reason: str | None = None  # why a sensitive filter was used
    responses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESPONSE_KEYS, 0))
    send_at: str | None = None  # HH:MM in each alum's own zone, when the campaign has one
    not_before: datetime | None = None  # nothing goes out before it, when the campaign has one
    retrying: int = 0  # pending alumni whose message waits for a retry after a refusal

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    @property
    def to_send(self) -> int:
        """Alumni the campaign sends to: everyone not skipped."""
        return sum(n for k, n in self.outcomes.items() if not k.startswith("skipped"))

    @property
    def answered(self) -> int:
        """Alumni whose message has its final answer: sent or failed."""
        return self.outcomes.get("sent", 0) + self.outcomes.get("failed", 0)

    def progress(self) -> float:
        """Percent of ``to_send`` answered; 100 when there is nothing to send."""
        return 100.0 * self.answered / self.to_send if self.to_send else 100.0

    def in_words(self) -> str:
        """What the campaign has done, one line: ``17 sent, 51 wait for their local 09:30:
        due-campaigns sends them from 2026-11-30 00:00 UTC; 1 skipped (no_email)``."""
        parts = [f"{self.outcomes.get('sent', 0)} sent"]
        if self.outcomes.get("failed"):
            parts.append(f"{self.outcomes['failed']} failed")
        waiting = self.outcomes.get("pending", 0)
        if waiting and self.status == "stopped":
            parts.append(f"{waiting} not sent: the campaign is stopped")
        elif waiting:
            when = f" from {self.next_due:%Y-%m-%d %H:%M} UTC" if self.next_due else ""
            first = waiting - self.retrying
            if self.send_at:
                why = f"their local {self.send_at}"
            elif self.not_before is not None:
                why = f"the campaign's start ({self.not_before:%Y-%m-%d %H:%M} UTC) or their day"
            else:
                why = "their local morning (no mail at night)"
            if first:
                parts.append(f"{first} wait for {why}")
            if self.retrying:
                parts.append(f"{self.retrying} wait for a retry")
            parts[-1] += f": due-campaigns sends them{when}"
        line = ", ".join(parts)
        skipped = {k.split(":", 1)[1]: n for k, n in self.outcomes.items() if ":" in k}
        if skipped:
            reasons = ", ".join(
                f"{n} {why.replace('_', ' ')}" for why, n in sorted(skipped.items())
            )
            line += f"; skipped: {reasons}"
        return line

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "class_year": self.class_year,
            "status": self.status,
            "total": self.total,
            "outcomes": self.outcomes,
            "by_country": self.by_country,
            "by_timezone": self.by_timezone,
            "maybe_duplicates": self.maybe_duplicates,
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "note": self.note,
            "audience_where": self.audience_where,
            "audience_reason": self.audience_reason,
            "responses": self.responses,
        }

    def markdown(self) -> str:
        lines = [
            f"# Campaign {self.campaign_id}: {self.name} (class of {self.class_year})",
            "",
            f"Status **{self.status}**; {self.total} alumni in the class, each with one outcome.",
            "",
            "| outcome | alumni |",
            "|---|---|",
            *(f"| {k} | {v} |" for k, v in sorted(self.outcomes.items())),
            "",
        ]
        if self.note:
            lines += [f"**{self.note}**", ""]
        if self.audience_where:
            shown = "; ".join(f"{k} = {' or '.join(v)}" for k, v in self.audience_where.items())
            lines += [f"Audience narrowed to: {shown}.", ""]
        if self.audience_reason:
            lines += [f"Reason given for the filter: {self.audience_reason}", ""]
        if self.maybe_duplicates:
            lines.append(
                f"{self.maybe_duplicates} message(s) were handed to the server and not yet "
                "recorded when a run died, and were sent again: they may have reached their "
                "recipient twice (same Message-ID)."
            )
        if self.next_due:
            lines.append(f"Next messages are due at {self.next_due:%Y-%m-%d %H:%M} UTC.")
        lines += [
            "",
            "| what came back | alumni |",
            "|---|---|",
            *(f"| {key.replace('_', ' ')} | {self.responses[key]} |" for key in RESPONSE_KEYS),
        ]
        lines += [
            "",
            "| country | " + " | ".join(_COLUMNS) + " |",
            "|---|" + "---|" * len(_COLUMNS),
        ]
        for country, counts in sorted(self.by_country.items()):
            lines.append(
                f"| {country} | " + " | ".join(str(counts.get(c, 0)) for c in _COLUMNS) + " |"
            )
        return "\n".join(lines) + "\n"


_COLUMNS = ("sent", "failed", "pending", "skipped")


def _outcome(status: str, reason: str | None) -> str:
    if status == "skipped":
        return f"skipped:{reason}"
    return "pending" if status == "claimed" else status


def campaign_report(connection: Connection, campaign_id: int) -> CampaignReport:
    """Count the campaign's deliveries by outcome, country and time zone."""
    campaign = connection.execute(sa.select(_C).where(_C.c.id == campaign_id)).first()
    if campaign is None:
        raise LookupError(f"no campaign with id {campaign_id}")
    report = CampaignReport(
        campaign_id,
        campaign.name,
        campaign.class_year,
        campaign.status,
        note=campaign.note,
        audience_where=campaign.audience_where,
        audience_reason=campaign.audience_reason,
        send_at=campaign.send_at,
        not_before=campaign.not_before,
    )
    rows = connection.execute(
        sa.select(_D.c.status, _D.c.skip_reason, _A.c.country, _D.c.timezone, sa.func.count())
        .join(_A, _A.c.id == _D.c.alumnus_id)
        .where(_D.c.campaign_id == campaign_id)
        .group_by(_D.c.status, _D.c.skip_reason, _A.c.country, _D.c.timezone)
    )
    for status, reason, country, timezone, count in rows:
        outcome = _outcome(status, reason)
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + count
        column = outcome.split(":")[0]
        for key, table in (
            (country or "unknown", report.by_country),
            (timezone or "unknown", report.by_timezone),
        ):
            cell = table.setdefault(key, {})
            cell[column] = cell.get(column, 0) + count
    report.maybe_duplicates = connection.execute(
        sa.select(sa.func.count()).where(
            _D.c.campaign_id == campaign_id, _D.c.maybe_duplicate.is_(True)
        )
    ).scalar_one()
    report.next_due = connection.execute(
        sa.select(sa.func.min(_D.c.due_at, type_=UTCDateTime())).where(
            _D.c.campaign_id == campaign_id, _D.c.status == "pending"
        )
    ).scalar()
    report.retrying = connection.execute(
        sa.select(sa.func.count()).where(
            _D.c.campaign_id == campaign_id, _D.c.status == "pending", _D.c.attempts > 0
        )
    ).scalar_one()
    report.responses = campaign_responses(connection, campaign_id)
    return report


def campaigns_of(connection: Connection, delivery_ids: Iterable[int]) -> list[int]:
    """The campaigns of these deliveries, in id order (e.g. whose responses just changed)."""
    ids = list(delivery_ids)
    if not ids:
        return []
    return list(
        connection.execute(
            sa.select(_D.c.campaign_id)
            .where(_D.c.id.in_(ids))
            .distinct()
            .order_by(_D.c.campaign_id)
        ).scalars()
    )


def campaign_responses(connection: Connection, campaign_id: int) -> dict[str, int]:
    """Count, per key of ``RESPONSE_KEYS``, the alumni of the campaign with such a response."""
    counts = dict.fromkeys(RESPONSE_KEYS, 0)
    by_kind: dict[str, set[int]] = {kind: set() for kind in _KIND_KEYS}
    for kind, alumnus_id in connection.execute(
        sa.select(_R.c.kind, _D.c.alumnus_id)
        .join(_D, _D.c.id == _R.c.delivery_id)
        .where(_D.c.campaign_id == campaign_id, _R.c.kind.in_(list(_KIND_KEYS)))
        .distinct()
    ):
        by_kind[kind].add(alumnus_id)
    by_kind["bounce_soft"] -= by_kind["bounce_hard"]
    for kind, alumni in by_kind.items():
        counts[_KIND_KEYS[kind]] = len(alumni)
    bounced = by_kind["bounce_hard"] | by_kind["bounce_soft"]
    sent = set(
        connection.execute(
            sa.select(_D.c.alumnus_id).where(_D.c.campaign_id == campaign_id, _D.c.status == "sent")
        ).scalars()
    )
    counts["delivered"] = len(sent - bounced)
    for answer, count in connection.execute(
        sa.select(_V.c.answer, sa.func.count(sa.distinct(_V.c.alumnus_id)))
        .select_from(_D)
        .join(_M, _M.c.campaign_id == _D.c.campaign_id)
        .join(_V, sa.and_(_V.c.event_id == _M.c.event_id, _V.c.alumnus_id == _D.c.alumnus_id))
        .where(_D.c.campaign_id == campaign_id, _D.c.status == "sent")
        .group_by(_V.c.answer)
    ):
        if f"rsvp_{answer}" in counts:
            counts[f"rsvp_{answer}"] = count
    return counts
