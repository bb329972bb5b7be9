"""Scheduled on the 1st of each month: the monthly digest, one email to each alum who chose it,
gathering the news of the month before that they were skipped for.

Thin by design: ``alumni.delivery.digest`` decides who gets a digest and with what; per class
year with news to gather, one task plans that class's digest campaign (made once per class and
month, so a rerun finds it and plans nobody twice) and the class-campaign flow sends it as a
subflow, like any campaign (preflight, batches, the ledger's exactly-once). Alumni whose local
time is night get theirs in their morning, from the ``due-campaigns`` deployment. One class's
digest that fails does not hold back the others; the run fails at the end, naming it. The run
is named for the month it gathers (``monthly-digest 2026-11``); each class's subflow for its
campaign.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from alumni.db import get_engine
from alumni.delivery import digest, planning
from alumni.models import utcnow
from alumni.settings import get_settings
from flows.class_runs import send_per_class
from flows.outcome import completed, reported


@task(name="plan-digest")
def plan_class_digest(class_year: int, month: str) -> int | None:
    """The class's digest campaign for ``month``, planned; None when nobody has news for it."""
    options = planning.PlanOptions.from_settings(get_settings())
    return digest.plan_digest(get_engine(), class_year, month=month, now=utcnow(), options=options)


def digest_run_name() -> str:
    """``monthly-digest 2026-11``: the month gathered (as given, when it is not a month)."""
    given = flow_run.parameters.get("month")
    try:
        return f"monthly-digest {digest.month_to_send(given, now=utcnow())}"
    except ValueError:
        return f"monthly-digest {given}"


@flow(name="monthly-digest", flow_run_name=digest_run_name)
@reported(
    "monthly-digest-failure",
    "The classes named above did not get their digest (each campaign's report says why); the "
    "others did. Fix the cause, then run the digest again for the same month: nobody gets "
    "it twice.",
)
def monthly_digest(month: str | None = None) -> dict[str, Any]:
    """Plan and send the monthly digest of every class year with news to gather.

    Args:
        month: the month whose news is gathered, ``YYYY-MM`` (UTC); default the calendar month
            before this one. A month not yet over is refused.

    Returns:
        ``{"month": "2026-11", "campaigns": {campaign id: the campaign's report}}``.

    Raises:
        ValueError: ``month`` is not ``YYYY-MM`` or is not over.
        RuntimeError: some class's digest did not finish (each named); the others were sent.
    """
    logger = get_run_logger()
    chosen = digest.month_to_send(month, now=utcnow())
    with get_engine().connect() as connection:
        years = digest.digest_class_years(connection, chosen)
    logger.info(
        "digest of %s: classes with news to gather: %s",
        chosen,
        ", ".join(map(str, years)) or "none",
    )
    reports, failures = send_per_class(
        years, lambda year: plan_class_digest(year, str(chosen), return_state=True)
    )
    sent = sum(report["outcomes"].get("sent", 0) for report in reports.values())
    waiting = sum(report["outcomes"].get("pending", 0) for report in reports.values())
    said = f"digest of {chosen}: {sent} sent to {len(reports)} class(es)"
    if waiting:
        said += f", {waiting} wait for their local morning: due-campaigns sends them"
    if not reports and not failures:
        said = f"digest of {chosen}: nobody had news to gather"
    create_markdown_artifact(
        markdown=_summary(str(chosen), reports, failures),
        key=f"monthly-digest-{chosen}",
        description=said if not failures else f"{said}; {len(failures)} class(es) did not finish",
    )
    if failures:
        raise RuntimeError(f"the digest of {chosen} did not finish for " + "; ".join(failures))
    return completed(said, {"month": str(chosen), "campaigns": reports})


def _summary(month: str, reports: dict[int, dict[str, Any]], failures: list[str]) -> str:
    lines = [f"# Monthly digest of {month}", ""]
    if not reports and not failures:
        lines.append("Nobody had news to gather.")
    if reports:
        lines += ["| class | campaign | outcomes |", "|---|---|---|"]
        for campaign_id, report in reports.items():
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report["outcomes"].items()))
            lines.append(f"| {report['class_year']} | {campaign_id} | {outcomes} |")
    lines += [f"- did not finish: {failure}" for failure in failures]
    return "\n".join(lines) + "\n"
