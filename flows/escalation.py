"""The request desk's escalation ladder, every 15 minutes (the ``escalation`` deployment;
``alumni escalate [--as-of ISO]`` runs it once by hand), and the owners' daily digest
(``desk-digest``, weekdays 08:00 office time; ``alumni request digest``).

Thin: ``alumni.requests.ladder.escalate`` fires each due rung once through the ledger (emails,
the desk's chat webhook) and this flow gives it the one thing the domain may not do itself:
emitting the Prefect events (``alumni.request.sla-breached``, ``alumni.request.sla-warning``,
resource ``alumni.request.<id>``) that automations can act on. Each run leaves the markdown
artifact ``request-desk``: the open requests by type, owner, age and next deadline, breaches
first. Nothing here logs or shows a request's content: ids, types, ages and owners only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event

from alumni.db import get_engine
from alumni.models import utcnow
from alumni.requests.desk_view import desk_markdown
from alumni.requests.ladder import as_of_instant, desk_rules, escalate
from alumni.requests.officer_mail import NoticeEvent
from alumni.requests.owner_digest import send_digests
from alumni.requests.views import open_requests_seen_by_nobody
from alumni.settings import get_settings
from flows.outcome import completed, reported
from flows.run_names import at_scheduled_minute

ARTIFACT_KEY = "request-desk"


def emit(event: NoticeEvent) -> bool:
    """Send one rung's event to Prefect; whether Prefect took it (its id is fixed per rung,
    so the server keeps one copy if a rerun sends it again)."""
    sent = emit_event(
        event=event.name,
        resource=event.resource,
        related=event.related,
        payload=event.payload,
        id=event.id,
    )
    return sent is not None


@flow(name="escalation", flow_run_name=at_scheduled_minute("escalation"))
@reported(
    "escalation-failure",
    "Fix the cause above; the next run (every 15 minutes) fires every rung that is due, each "
    "once (`alumni escalate` runs it now).",
)
def escalation(as_of: datetime | None = None) -> dict[str, Any]:
    """Fire every rung of the escalation ladder that is due, each once, and show the desk.

    Args:
        as_of: read the desk as it was at this past instant (catching up, audits); default now.
            An instant in the future is refused.

    Returns:
        ``EscalationSummary.as_dict()``: the rungs fired (ids, kinds, levels: no content) and
        how many notices went, wait for a retry, failed, or were superseded.

    Raises:
        ValueError: ``as_of`` is in the future or has no time zone; nothing was done.
    """
    logger = get_run_logger()
    settings = get_settings()
    now = as_of_instant(as_of, now=utcnow())
    engine = get_engine()
    summary = escalate(engine, now=now, settings=settings, emit=emit)
    for rung in summary.fired:
        logger.info(
            "request %d: %s of its %s deadline (level %d)",
            rung.request_id,
            rung.rung,
            rung.deadline_kind.replace("_", " "),
            rung.level,
        )
    if summary.unknown_types:
        logger.warning(
            "request(s) %s have a type missing from the request types file: not escalated; "
            "add the type back to ALUMNI_REQUESTS_FILE",
            ", ".join(map(str, summary.unknown_types)),
        )
    types, calendar = desk_rules(settings)
    with engine.connect() as connection:
        views = open_requests_seen_by_nobody(connection, now=now, types=types, calendar=calendar)
    said = (
        f"as of {now:%Y-%m-%d %H:%M} UTC: {len(summary.fired)} rung(s) fired, {summary.sent} "
        f"notice(s) sent, {summary.retrying} to retry, {summary.failed} failed, "
        f"{summary.superseded} superseded; {len(views)} open request(s)"
    )
    create_markdown_artifact(
        markdown=desk_markdown(views, now=now, zone=calendar.tz),
        key=ARTIFACT_KEY,
        description=f"The request desk as of {now:%Y-%m-%d %H:%M} UTC: {len(views)} open "
        "request(s) by type, owner, age and next deadline, breaches first",
    )
    return completed(said, summary.as_dict())


@flow(name="desk-digest", flow_run_name=at_scheduled_minute("desk-digest"))
@reported(
    "desk-digest-failure",
    "Fix the cause above, then run it again (`alumni request digest`): an owner who got "
    "today's digest does not get it twice.",
)
def desk_digest() -> dict[str, int]:
    """Send today's digest to each owner of open requests (once a day each: a rerun sends
    nothing new), and any office notice waiting for a retry.

    Returns:
        ``{"planned": digests planned by this run, "sent", "retrying", "failed"}``.
    """
    summary = send_digests(get_engine(), now=utcnow(), settings=get_settings())
    said = (
        f"{summary.planned} digest(s) planned; {summary.sent} notice(s) sent, "
        f"{summary.retrying} to retry, {summary.failed} failed"
    )
    return completed(
        said,
        {
            "planned": summary.planned,
            "sent": summary.sent,
            "retrying": summary.retrying,
            "failed": summary.failed,
        },
    )
