"""The desk at a glance for the escalation flow's Prefect artifact, and the words officers'
notices share for durations, instants and deadlines (pure).

The artifact is made of ``alumni.requests.views.list_requests`` (open requests, breaches first)
and shows each request's id, type, owner, status, age, next deadline and escalation level:
never a summary, note or reply, whatever the type, so welfare content cannot reach it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alumni.requests.views import DEADLINE_KEYS

_KIND_WORDS = {
    "first_response": "first response",
    "next_update": "next update",
    "resolution": "resolution",
}


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


def next_deadline(view: Mapping[str, Any]) -> tuple[str | None, datetime | None]:
    """The soonest running deadline of a request as ``list_requests`` shows it, as (kind,
    instant); (None, None) when none runs (waiting on the alum)."""
    running = [
        (key.removesuffix("_due"), datetime.fromisoformat(view[key]))
        for key in DEADLINE_KEYS
        if view.get(key)
    ]
    return min(running, key=lambda pair: pair[1], default=(None, None))


def desk_markdown(views: Sequence[Mapping[str, Any]], *, now: datetime, zone: ZoneInfo) -> str:
    """The desk as a markdown artifact: counts by type and by owner, then one row per open
    request in the order given (``list_requests``: breaches first). No content of any request.
    """
    breached = sum(bool(view["breached"]) for view in views)
    head = [
        "# Request desk",
        "",
        f"As of {when_text(now, zone)}: {len(views)} open request(s), {breached} past a deadline.",
        "",
    ]
    if not views:
        return "\n".join([*head, "Nothing is open."]) + "\n"
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    by_owner: dict[str, list[Mapping[str, Any]]] = {}
    for view in views:
        by_type.setdefault(str(view["type"]), []).append(view)
        by_owner.setdefault(view["owner"] or "(no owner)", []).append(view)
    table = [
        "| request | type | owner | status | age | next deadline | due | level |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for view in views:
        kind, due = next_deadline(view)
        mark = "**breached**: " if due is not None and due <= now else ""
        opened = datetime.fromisoformat(view["opened_at"])
        table.append(
            f"| {view['id']} | {view['type']} | {_cell(view['owner'] or '(no owner)')} | "
            f"{view['status']} | {duration_text(now - opened)} | "
            f"{mark}{deadline_text(kind, due, now=now)} | "
            f"{when_text(due, zone) if due else '-'} | {view['escalation_level']} |"
        )
    return (
        "\n".join(
            [
                *head,
                "| type | open | breached |",
                "|---|---|---|",
                *(_count_row(name, group) for name, group in sorted(by_type.items())),
                "",
                "| owner | open | breached |",
                "|---|---|---|",
                *(_count_row(_cell(name), group) for name, group in sorted(by_owner.items())),
                "",
                *table,
            ]
        )
        + "\n"
    )


def _count_row(name: str, group: list[Mapping[str, Any]]) -> str:
    return f"| {name} | {len(group)} | {sum(bool(view['breached']) for view in group)} |"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (an owner's address is typed by an officer)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
