"""Once a year: propose next year's reunions (the ``reunion-planning`` deployment).

What ``alumni reunions plan --year Y`` does, on a schedule: each class at a milestone that year
(5, 10, 15... years since graduating) within its event budget gets a proposed event,
``alumni.events.schedule.plan_reunions`` deciding; a rerun proposes nothing twice. Officers then
move each proposal's date and accept it (``alumni event update``, ``alumni event accept``). The
markdown artifact ``reunion-proposals-<year>`` lists them.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from alumni.db import get_engine
from alumni.events.schedule import plan_reunions
from alumni.models import utcnow
from alumni.settings import get_settings
from flows.outcome import completed


@flow(name="reunion-planning", flow_run_name="reunion-planning")
def reunion_planning(year: int | None = None) -> dict[str, Any]:
    """Propose a reunion for each class at a milestone in ``year``, within its budget.

    Args:
        year: the year of the reunions; default next year (in the office's time zone), so
            the classes hear of them a year ahead.
    """
    settings = get_settings()
    now = utcnow()
    chosen = year or now.astimezone(ZoneInfo(settings.office_timezone)).year + 1
    made = plan_reunions(get_engine(), chosen, now=now, timezone=settings.office_timezone)
    proposals = [
        {
            "event_id": event_id,
            "class_year": proposal.class_year,
            "title": proposal.title,
            "starts_at": proposal.starts_at.isoformat(),
        }
        for event_id, proposal in made
    ]
    lines = [
        f"# Reunions proposed for {chosen}",
        "",
        f"{len(made)} new proposal(s). Move each one's date with `alumni event update ID "
        "--starts ...`, then accept it with `alumni event accept ID`.",
        "",
        "| event | class | title | placeholder start (UTC) |",
        "|---|---|---|---|",
        *(
            f"| {p['event_id']} | {p['class_year']} | {p['title']} | {p['starts_at'][:16]} |"
            for p in proposals
        ),
    ]
    create_markdown_artifact(
        markdown="\n".join(lines) + "\n",
        key=f"reunion-proposals-{chosen}",
        description=f"Reunions proposed for {chosen}: {len(made)}",
    )
    classes = ", ".join(str(p["class_year"]) for p in proposals) or "no class"
    return completed(
        f"{len(made)} reunion(s) proposed for {chosen} ({classes}): date and accept each with "
        "`alumni event update ID --starts ...` and `alumni event accept ID`",
        {"year": chosen, "proposals": proposals},
    )
