"""When a message is due: at the chosen hour in each alum's own time zone, never in their night.

Pure functions over ``now`` and zone names, so tests state the time instead of waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

QUIET_START = time(21, 0)  # no message goes out from 21:00 ...
QUIET_END = time(8, 0)  # ... to 08:00, recipient's local time


def parse_send_at(value: str | None) -> time | None:
    """Parse ``HH:MM`` (24-hour); None or blank means "as soon as allowed".

    Raises:
        ValueError: naming the value and the expected form.
    """
    if value is None or not value.strip():
        return None
    try:
        parsed = time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"--send-at {value!r} is not a time; write it as HH:MM, like 09:30"
        ) from None
    if parsed.second or parsed.microsecond:
        raise ValueError(f"--send-at {value!r}: give hours and minutes only, like 09:30")
    if is_quiet(parsed):
        raise ValueError(
            f"--send-at {value!r} falls in the recipients' night "
            f"({QUIET_START:%H:%M}-{QUIET_END:%H:%M}); choose a daytime hour"
        )
    return parsed


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """Return the alum's zone, or the office's when theirs is unknown or not a zone."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def is_quiet(local: time) -> bool:
    """True when a local wall-clock time is in the night."""
    return local >= QUIET_START or local < QUIET_END


def due_at(
    *, now: datetime, send_at: time | None, tz: ZoneInfo, not_before: datetime | None = None
) -> datetime:
    """Return the UTC instant a message is due.

    With ``send_at``: the first time the wall clock in ``tz`` shows ``send_at`` at or after
    ``max(now, not_before)``. Without: that earliest moment itself, pushed to 08:00 local when it
    falls in the night. A ``send_at`` that does not exist on a day (a spring-forward gap) is
    read as the same clock time after the change, as zoneinfo does.
    """
    earliest = max(now, not_before) if not_before is not None else now
    local = earliest.astimezone(tz)
    if send_at is None:
        if not is_quiet(local.time()):
            return earliest.astimezone(UTC)
        day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
        return datetime.combine(day, QUIET_END, tzinfo=tz).astimezone(UTC)
    candidate = datetime.combine(local.date(), send_at, tzinfo=tz)
    if candidate.astimezone(UTC) < earliest.astimezone(UTC):
        candidate = datetime.combine(local.date() + timedelta(days=1), send_at, tzinfo=tz)
    return candidate.astimezone(UTC)
