"""Scheduled monthly (deployment ``still-yours``): ask each alum with a stale or doubtful contact
detail to confirm or correct it on their "still yours?" page.

Thin by design: ``alumni.reach.still_yours`` decides who is asked about what (the rules of
``alumni.reach.freshness``, a channel that works, at most once per detail per
ALUMNI_STILL_YOURS_EVERY_MONTHS); per class year with somebody to ask, one task makes and plans
that class's campaign and the class-campaign flow sends it as a subflow, like any campaign
(preflight, batches, the ledger's exactly-once). At most ALUMNI_STILL_YOURS_PER_RUN alumni are
asked per run, doubtful details first across all classes; the rest wait for the next run. One
class that fails does not hold back the others; the run fails at the end, naming it.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from alumni.db import get_engine
from alumni.delivery import planning
from alumni.models import utcnow
from alumni.reach import still_yours as asking
from alumni.reach.freshness import FreshnessRules
from alumni.settings import get_settings
from flows.campaign import class_campaign


@task(name="ask-class")
def ask_class(class_year: int, alumni: list[int]) -> dict[str, int] | None:
    """The class's still-yours campaign to those of ``alumni`` still due, made and planned;
    None when nobody is to be asked."""
    settings = get_settings()
    asked = asking.ask_class(
        get_engine(),
        class_year,
        now=utcnow(),
        rules=FreshnessRules.from_settings(settings),
        every_months=settings.still_yours_every_months,
        options=planning.PlanOptions.from_settings(settings),
        among=alumni,
    )
    if asked is None:
        return None
    return {"campaign_id": asked.campaign_id, "alumni": asked.alumni, "details": asked.details}


def still_yours_run_name() -> str:
    """``still-yours 2026-12`` (the month of the run); ``still-yours 2016 2026-12``: one class."""
    year = flow_run.parameters.get("class_year")
    month = f"{utcnow():%Y-%m}"
    return f"still-yours {month}" if year is None else f"still-yours {year} {month}"


@flow(name="still-yours", flow_run_name=still_yours_run_name)
def still_yours(class_year: int | None = None) -> dict[str, Any]:
    """Ask every alum with a stale or doubtful detail whether it is still theirs.

    Args:
        class_year: only this class year; None: every class with somebody to ask.

    Returns:
        ``{"campaigns": {campaign id: {"class_year", "alumni", "details", "outcomes"}}}``.

    Raises:
        RuntimeError: some class's campaign did not finish (each named); the others were sent.
    """
    logger = get_run_logger()
    settings = get_settings()
    with get_engine().connect() as connection:
        chosen = asking.choose_run(
            connection,
            now=utcnow(),
            rules=FreshnessRules.from_settings(settings),
            every_months=settings.still_yours_every_months,
            limit=settings.still_yours_per_run,
            class_year=class_year,
        )
    logger.info(
        "alumni to ask by class (at most %d a run): %s",
        settings.still_yours_per_run,
        {year: len(alumni) for year, alumni in chosen.items()} or "none",
    )
    campaigns: dict[int, dict[str, Any]] = {}
    failures: list[str] = []
    for year, alumni in chosen.items():
        made = ask_class(year, alumni, return_state=True)
        if not made.is_completed():
            failures.append(f"class of {year}: {made.message}")
            continue
        asked = made.result()
        if asked is None:
            continue
        campaign_id = asked["campaign_id"]
        sent = class_campaign(campaign_id=campaign_id, wait=False, return_state=True)
        if not sent.is_completed():
            failures.append(f"class of {year} (campaign {campaign_id}): {sent.message}")
            continue
        report = sent.result()
        campaigns[campaign_id] = {
            "class_year": year,
            "alumni": asked["alumni"],
            "details": asked["details"],
            "outcomes": report["outcomes"],
        }
    asked = sum(done["alumni"] for done in campaigns.values())
    sent = sum(done["outcomes"].get("sent", 0) for done in campaigns.values())
    said = f"still yours? {asked} alumni asked in {len(campaigns)} class(es), {sent} sent"
    waiting = sum(done["outcomes"].get("pending", 0) for done in campaigns.values())
    if waiting:
        said += f", {waiting} wait for later: due-campaigns sends them"
    if not campaigns and not failures:
        said = "still yours? nobody had a stale or doubtful detail to ask about"
    create_markdown_artifact(
        markdown=_summary(campaigns, failures),
        key="still-yours",
        description=said if not failures else f"{said}; {len(failures)} class(es) did not finish",
    )
    if failures:
        raise RuntimeError("the still-yours question did not finish for " + "; ".join(failures))
    logger.info(said)
    return {"campaigns": campaigns}


def _summary(campaigns: dict[int, dict[str, Any]], failures: list[str]) -> str:
    lines = ["# Still yours?", ""]
    if not campaigns and not failures:
        lines.append("Nobody had a stale or doubtful detail to ask about.")
    if campaigns:
        lines += [
            "| class | campaign | alumni asked | details | outcomes |",
            "|---|---|---|---|---|",
        ]
        for campaign_id, done in campaigns.items():
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(done["outcomes"].items()))
            lines.append(
                f"| {done['class_year']} | {campaign_id} | {done['alumni']} | {done['details']} "
                f"| {outcomes} |"
            )
    lines += [f"- did not finish: {failure}" for failure in failures]
    return "\n".join(lines) + "\n"
