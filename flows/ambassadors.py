"""Scheduled monthly: the digest to each class's ambassadors (``alumni.reach.ambassador_digest``);
every 15 minutes: the sign-up confirmations still due (``alumni.reach.referrals``).

Thin by design: per class year with ambassadors, one task makes and plans that class's digest
(once per class and month: a rerun finds it and plans nobody twice), and the class-campaign
flow sends it as a subflow, like any campaign (preflight, batches, the ledger's exactly-once).
One class's digest that fails does not hold back the others; the run ends Failed at the end,
naming each, with what to do.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed, Failed, State

from alumni.db import get_engine
from alumni.delivery import planning
from alumni.models import utcnow
from alumni.reach import ambassador_digest as digests
from alumni.reach import referrals
from alumni.settings import get_settings
from flows.class_runs import send_per_class


@task(name="plan-ambassador-digest")
def plan_class_digest(class_year: int, month: str) -> int | None:
    """The class's ambassador digest for ``month``, planned; None when it has no ambassador."""
    options = planning.PlanOptions.from_settings(get_settings())
    return digests.plan_ambassador_digest(
        get_engine(), class_year, month=month, now=utcnow(), options=options
    )


def _run_name() -> str:
    month = runtime.flow_run.parameters.get("month") or f"{utcnow():%Y-%m}"
    return f"ambassador-digest-{month}"


@flow(name="ambassador-digest", flow_run_name=_run_name)
def ambassador_digest(month: str | None = None) -> State[Any]:
    """Make and send this month's digest to the ambassadors of every class that has some.

    Args:
        month: ``YYYY-MM`` (UTC) the digest is for; default the current month. A month's
            digest is made once per class.

    Returns:
        Completed with ``{"month": "2026-12", "campaigns": {campaign id: its report}}``, or
        Failed naming each class whose digest did not go out (the others went).
    """
    logger = get_run_logger()
    chosen = digests.digest_month(month, now=utcnow())
    with get_engine().connect() as connection:
        years = digests.digest_class_years(connection)
    logger.info("ambassador digest of %s: classes with ambassadors: %s", chosen, years or "none")
    reports, failures = send_per_class(
        years, lambda year: plan_class_digest(year, chosen, return_state=True)
    )
    create_markdown_artifact(
        markdown=_summary(chosen, reports, failures), key=f"ambassador-digest-{chosen}"
    )
    data = {"month": chosen, "campaigns": reports}
    if failures:
        return Failed(
            message=f"the ambassador digest of {chosen} did not go out for "
            + "; ".join(failures)
            + ": see each campaign's note (`alumni campaign status ID`), fix it and run again",
            data=data,
        )
    sent_to = sum(r["outcomes"].get("sent", 0) for r in reports.values())
    return Completed(
        message=f"ambassador digest of {chosen}: {sent_to} sent to the ambassadors of "
        f"{len(reports)} class(es)",
        data=data,
    )


def _summary(month: str, reports: dict[int, dict[str, Any]], failures: list[str]) -> str:
    lines = [f"# Ambassador digest of {month}", ""]
    if not reports and not failures:
        lines.append("No class has an ambassador.")
    if reports:
        lines += ["| class | campaign | outcomes |", "|---|---|---|"]
        for campaign_id, report in reports.items():
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report["outcomes"].items()))
            lines.append(f"| {report['class_year']} | {campaign_id} | {outcomes} |")
    lines += [f"- did not go out: {failure}" for failure in failures]
    return "\n".join(lines) + "\n"


@flow(name="signup-confirmations", flow_run_name="signup-confirmations")
def signup_confirmations() -> State[Any]:
    """Send the confirmation email of every sign-up through a share link that is due: the join
    page sends each at once, and this run sends what could not go then (a mail server that was
    away, a retry after a 4xx), each once (``alumni.reach.referrals.send_confirmations``); and
    delete the sign-ups nobody confirmed before their link expired (``purge_unconfirmed``).

    Returns:
        Completed with the counts of outcomes (``sent``, ``transient``, ``permanent``) and
        ``removed``: unconfirmed sign-ups deleted.
    """
    engine = get_engine()
    removed = referrals.purge_unconfirmed(engine, now=utcnow())
    counts = {**referrals.send_confirmations(engine, settings=get_settings())}
    said = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none due"
    if removed:
        counts["removed"] = removed
        said += f"; {removed} never confirmed, removed"
    return Completed(message=f"sign-up confirmations: {said}", data=counts)
