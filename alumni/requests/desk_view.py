"""The desk as officers see it at a glance: each open request's type, owner, age and next
deadline, breaches first (pure; the Prefect artifact and the owners' digests are made of it).

Content never appears here: no summary, note or reply of any request, so the view can go to a
Prefect artifact, a digest or a log whatever its type (welfare included).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from alumni.requests.clock import BusinessCalendar
from alumni.requests.ladder import OnTheClock, running_deadlines
from alumni.requests.types import RequestType

_KIND_WORDS = {
    "first_response": "first response",
    "next_update": "next update",
    "resolution": "resolution",
}


@dataclass(frozen=True, slots=True)
class DeskLine:
    """One open request on the desk.

    Attributes:
        request_id, type, owner, status: as on the request (owner None: nobody yet).
        opened_at: when it came.
        age: how long it has been open at ``now``.
        next_kind, next_due: its soonest running deadline (None: waiting on the alum, or none
            runs).
        escalation_level: the highest rung fired so far.
    """

    request_id: int
    type: str
    owner: str | None
    status: str
    opened_at: datetime
    age: timedelta
    next_kind: str | None
    next_due: datetime | None
    escalation_level: int

    def breached(self, now: datetime) -> bool:
        """Whether its next deadline has passed at ``now``."""
        return self.next_due is not None and self.next_due <= now


def desk_lines(
    items: Iterable[OnTheClock],
    *,
    types: Mapping[str, RequestType],
    calendar: BusinessCalendar,
    now: datetime,
) -> list[DeskLine]:
    """The open requests, breaches first (the longest overdue first), then by next deadline,
    then those with none running (waiting on the alum), oldest first."""
    lines: list[DeskLine] = []
    for item in items:
        request = item.request
        rtype = types.get(request.type)
        running = {} if rtype is None else running_deadlines(item, rtype, calendar, now=now)
        kind, due = min(running.items(), key=lambda pair: pair[1], default=(None, None))
        lines.append(
            DeskLine(
                request_id=request.id,
                type=request.type,
                owner=request.owner,
                status=str(request.status),
                opened_at=request.opened_at,
                age=now - request.opened_at,
                next_kind=kind,
                next_due=due,
                escalation_level=request.escalation_level,
            )
        )
    return sorted(
        lines,
        key=lambda line: (
            not line.breached(now),
            line.next_due is None,
            line.next_due or line.opened_at,
            line.opened_at,
            line.request_id,
        ),
    )


def duration_text(delta: timedelta) -> str:
    """A duration as an officer reads it: ``3 d 4 h``, ``5 h 20 min``, ``12 min``."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def when_text(instant: datetime, zone: ZoneInfo) -> str:
    """An instant in the office's zone: ``Mon 5 Jan 2026 14:00 Europe/London``."""
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {zone.key}"


def deadline_text(kind: str | None, due: datetime | None, *, now: datetime) -> str:
    """``first response overdue by 2 h`` / ``resolution due in 3 d 1 h`` / ``no deadline
    running``."""
    if kind is None or due is None:
        return "no deadline running"
    words = _KIND_WORDS.get(kind, kind)
    if due <= now:
        return f"{words} overdue by {duration_text(now - due)}"
    return f"{words} due in {duration_text(due - now)}"


def desk_markdown(lines: list[DeskLine], *, now: datetime, zone: ZoneInfo) -> str:
    """The desk as a markdown artifact: counts by type and by owner, then one row per open
    request, breaches first."""
    breached = sum(line.breached(now) for line in lines)
    head = [
        "# Request desk",
        "",
        f"As of {when_text(now, zone)}: {len(lines)} open request(s), {breached} past a deadline.",
        "",
    ]
    if not lines:
        return "\n".join([*head, "Nothing is open."]) + "\n"
    by_type: dict[str, list[DeskLine]] = {}
    by_owner: dict[str, list[DeskLine]] = {}
    for line in lines:
        by_type.setdefault(line.type, []).append(line)
        by_owner.setdefault(line.owner or "(no owner)", []).append(line)
    table = [
        "| request | type | owner | status | age | next deadline | due | level |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for line in lines:
        mark = "**breached**: " if line.breached(now) else ""
        due = when_text(line.next_due, zone) if line.next_due else "-"
        table.append(
            f"| {line.request_id} | {line.type} | {_cell(line.owner or '(no owner)')} | "
            f"{line.status} | {duration_text(line.age)} | "
            f"{mark}{deadline_text(line.next_kind, line.next_due, now=now)} | {due} | "
            f"{line.escalation_level} |"
        )
    return (
        "\n".join(
            [
                *head,
                "| type | open | breached |",
                "|---|---|---|",
                *(_count_row(name, group, now) for name, group in sorted(by_type.items())),
                "",
                "| owner | open | breached |",
                "|---|---|---|",
                *(_count_row(_cell(name), group, now) for name, group in sorted(by_owner.items())),
                "",
                *table,
            ]
        )
        + "\n"
    )


def _count_row(name: str, group: list[DeskLine], now: datetime) -> str:
    return f"| {name} | {len(group)} | {sum(line.breached(now) for line in group)} |"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (an owner's address is typed by an officer)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
