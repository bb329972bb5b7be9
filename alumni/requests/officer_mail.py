"""What the office's own notices say, in English for officers: an escalation rung (email, the
desk's chat message, the Prefect event) and an owner's daily digest (email); and the email
itself, plain text, marked ``Auto-Submitted`` so that out-of-office replies do not answer it.

Texts are made when a notice is sent, so they tell the state of the deadline then (a
reminder sent late says the deadline has passed). A confidential request (welfare) is told by
its id, type, age and owner only: no summary in any of them, nor in the event or the chat. Other
requests show their summary in the emails to officers only (not the chat, not the event).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from alumni.requests.desk_view import deadline_text, duration_text, next_deadline, when_text
from alumni.requests.ladder import DIRECTOR, LEAD, REMINDER, REMINDER_SHARE
from alumni.requests.types import RequestType

BREACHED_EVENT = "alumni.request.sla-breached"
WARNING_EVENT = "alumni.request.sla-warning"
SUMMARY_SHOWN = 500  # characters of a summary an officer's email shows


@dataclass(frozen=True, slots=True)
class RungFacts:
    """What a rung's notice tells, read when it is sent.

    Attributes:
        request_id, type, owner, opened_at: the request's.
        title: its type's title ("Recommendation letter").
        confidential: its type's content is only for named officers (welfare).
        summary: the request's summary (never shown when ``confidential``).
        deadline_kind, deadline: the deadline the rung belongs to.
        rung, level: which rung.
    """

    request_id: int
    type: str
    title: str
    confidential: bool
    owner: str | None
    opened_at: datetime
    summary: str
    deadline_kind: str
    deadline: datetime
    rung: str
    level: int


@dataclass(frozen=True, slots=True)
class NoticeEvent:
    """One Prefect event, as the flow emits it. ``id`` is fixed per notice row, so an event
    emitted again after a crash is the same event (the server keeps one)."""

    name: str
    resource: dict[str, str]
    related: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def facts_of(
    request: Any,
    rtype: RequestType | None,
    *,
    deadline_kind: str,
    deadline: datetime,
    rung: str,
    level: int,
) -> RungFacts:
    """The facts of a rung of ``request`` (a Request row); an unknown type counts as
    confidential."""
    return RungFacts(
        request_id=request.id,
        type=request.type,
        title=rtype.title if rtype else request.type,
        confidential=rtype.confidential if rtype else True,
        owner=request.owner,
        opened_at=request.opened_at,
        summary=request.summary,
        deadline_kind=deadline_kind,
        deadline=deadline,
        rung=rung,
        level=level,
    )


def _who(rung: str) -> str:
    if rung == REMINDER:
        return f"a reminder to its owner: {REMINDER_SHARE:.0%} of the time has passed"
    if rung == LEAD:
        return "escalated to the desk lead: the deadline has passed"
    if rung == DIRECTOR:
        return "escalated to the director: the deadline passed a while ago"
    return f"escalation {rung}: the deadline is still not met, and the ladder climbs again"


def rung_subject(facts: RungFacts, *, now: datetime) -> str:
    """``Request 12 (Welfare): first response overdue by 2 h [lead]``."""
    state = deadline_text(facts.deadline_kind, facts.deadline, now=now)
    return f"Request {facts.request_id} ({facts.title}): {state} [{facts.rung}]"


def rung_body(facts: RungFacts, *, now: datetime, zone: ZoneInfo) -> str:
    """The email an officer gets for one rung."""
    lines = [
        f"Request {facts.request_id}: {facts.title} ({facts.type})",
        f"Owner: {facts.owner or 'nobody yet (assign it: alumni request assign)'}",
        f"Opened: {duration_text(now - facts.opened_at)} ago, {when_text(facts.opened_at, zone)}",
        f"Deadline: {deadline_text(facts.deadline_kind, facts.deadline, now=now)} "
        f"({when_text(facts.deadline, zone)})",
        f"Escalation level {facts.level}: {_who(facts.rung)}.",
        "",
    ]
    if facts.confidential:
        lines.append(
            "Its content is confidential: only the named welfare officers see it, with "
            "`alumni request show`."
        )
    else:
        summary = " ".join(facts.summary.split())
        cut = summary[:SUMMARY_SHOWN] + ("…" if len(summary) > SUMMARY_SHOWN else "")
        lines.append(f"Summary: {cut}")
    lines += [
        "",
        f"See it and act on it: alumni request show {facts.request_id}",
        "",
        "Each rung of the escalation ladder is sent once; the next follows if the deadline "
        "is not met.",
    ]
    return "\n".join(lines) + "\n"


def rung_chat(facts: RungFacts, *, now: datetime) -> tuple[str, str]:
    """The desk's chat message for one rung as (title, text): no content, whatever the type."""
    title = (
        f"Request {facts.request_id}: {deadline_text(facts.deadline_kind, facts.deadline, now=now)}"
    )
    text = (
        f"{facts.title} ({facts.type}), owner {facts.owner or 'nobody yet'}, open "
        f"{duration_text(now - facts.opened_at)}; level {facts.level}: {_who(facts.rung)}."
    )
    return title, text


def rung_event(facts: RungFacts, *, now: datetime, event_id: uuid.UUID) -> NoticeEvent:
    """The Prefect event of one rung: id, type, age, owner and the deadline; no content."""
    return NoticeEvent(
        name=WARNING_EVENT if facts.rung == REMINDER else BREACHED_EVENT,
        resource={
            "prefect.resource.id": f"alumni.request.{facts.request_id}",
            "prefect.resource.name": f"request {facts.request_id}",
            "alumni.request.type": facts.type,
        },
        related=[
            {
                "prefect.resource.id": f"alumni.request-type.{facts.type}",
                "prefect.resource.role": "request-type",
            }
        ],
        payload={
            "request_id": facts.request_id,
            "type": facts.type,
            "owner": facts.owner,
            "age_hours": round((now - facts.opened_at).total_seconds() / 3600, 1),
            "deadline_kind": facts.deadline_kind,
            "deadline": facts.deadline.isoformat(),
            "rung": facts.rung,
            "level": facts.level,
        },
        id=event_id,
    )


def digest_subject(views: Sequence[Mapping[str, Any]], *, now: datetime, zone: ZoneInfo) -> str:
    """``Your open requests on Tue 6 Jan 2026: 5, 2 past a deadline``."""
    breached = sum(bool(view["breached"]) for view in views)
    local = now.astimezone(zone)
    return (
        f"Your open requests on {local:%a} {local.day} {local:%b %Y}: {len(views)}, "
        f"{breached} past a deadline"
    )


def digest_body(
    views: Sequence[Mapping[str, Any]], *, now: datetime, zone: ZoneInfo, unowned: bool
) -> str:
    """An owner's daily digest: their open requests as ``list_requests`` gives them (breaches
    first, then by deadline). A confidential request's summary is never shown (the view holds
    "(confidential)" for it, and it is left out whatever it holds).

    ``unowned``: this is the desk lead's copy, which also lists the requests nobody owns.
    """
    local = now.astimezone(zone)
    out = [f"Your open requests on {local:%A} {local.day} {local:%B %Y}, by deadline:", ""]
    if not views:
        out.append("None: nothing is waiting for you.")
    for view in views:
        kind, due = next_deadline(view)
        owner = "" if view["owner"] else " [no owner: assign it]"
        opened = datetime.fromisoformat(view["opened_at"])
        out.append(
            f"- #{view['id']} {view['title']}{owner}: {deadline_text(kind, due, now=now)}; "
            f"open {duration_text(now - opened)} ({view['status']})"
        )
        if not view["confidential"]:
            short = " ".join(str(view["summary"]).split())
            out.append(f"    {short[:120]}{'…' if len(short) > 120 else ''}")
    if unowned:
        out += ["", "As the desk lead you also get the requests nobody owns yet."]
    out += ["", "Each request: alumni request show ID. The whole desk: alumni request list."]
    return "\n".join(out) + "\n"


def officer_email(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    date: datetime,
) -> bytes:
    """One plain-text email to an officer, CRLF line endings, ready for SMTP.

    Raises:
        ValueError: a header holds a line break, or an address is not one plain address.
    """
    name, address = parseaddr(sender)
    if "@" not in address or "@" not in parseaddr(to)[1]:
        raise ValueError(f"officer notice: {to!r} or the sender is not an email address")
    message = EmailMessage(policy=SMTP)
    message["From"] = f"{name} <{address}>" if name else address
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(body)
    return message.as_bytes()
