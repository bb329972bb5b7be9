"""Scheduled monthly: one gentle "we would like to hear from you" email to each alum nobody
has reached in twelve months, within their consent, once a year at most.

Thin by design: ``alumni.reach.hear_from_you`` decides who and makes one campaign per class
and year (a rerun finds it and plans nobody twice); the class-campaign flow sends each as a
subflow, like any campaign (preflight, batches, the ledger's exactly-once), when its plan
added someone; what an earlier run left unsent, the due-campaigns deployment sends. One class
that fails does not hold back the others; the run fails at the end, naming it.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from alumni.db import get_engine
from alumni.models import utcnow
from alumni.reach.hear_from_you import class_years_to_ask, plan_hear_from_you
from alumni.reach.priority import plan_options
from alumni.settings import get_settings
from flows.class_runs import send_per_class


@task(name="plan-hear-from-you")
def plan_class(class_year: int) -> int | None:
    """The class's hear-from-you campaign of this year, planned; None: nobody new to ask."""
    options = plan_options(get_settings())
    return plan_hear_from_you(get_engine(), class_year, now=utcnow(), options=options)


@flow(name="hear-from-you", flow_run_name="hear-from-you")
def hear_from_you() -> dict[str, Any]:
    """Plan and send the hear-from-you message of every class with alumni unreached for a year.

    Returns:
        ``{"campaigns": {campaign id: the campaign's report}}``.

    Raises:
        RuntimeError: some class did not finish (each named); the others were sent.
    """
    with get_engine().connect() as connection:
        years = class_years_to_ask(connection)
    reports, failures = send_per_class(years, lambda year: plan_class(year, return_state=True))
    get_run_logger().info("hear-from-you campaigns: %s", sorted(reports) or "none")
    create_markdown_artifact(
        markdown=_summary(reports, failures),
        key="hear-from-you",
        description="This month's hear-from-you messages, per class",
    )
    if failures:
        raise RuntimeError("hear-from-you did not finish for " + "; ".join(failures))
    return {"campaigns": reports}


def _summary(reports: dict[int, dict[str, Any]], failures: list[str]) -> str:
    lines = ["# We would like to hear from you", ""]
    if not reports and not failures:
        lines.append("Everyone was reached in the last twelve months.")
    if reports:
        lines += ["| class | campaign | outcomes |", "|---|---|---|"]
        for campaign_id, report in reports.items():
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report["outcomes"].items()))
            lines.append(f"| {report['class_year']} | {campaign_id} | {outcomes} |")
    lines += [f"- did not finish: {failure}" for failure in failures]
    return "\n".join(lines) + "\n"
