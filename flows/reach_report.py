"""Scheduled weekly: the coverage report (who the school reached in the last twelve months,
per class year and per country) as a Prefect artifact under the stable key ``reach-report``,
so the UI shows this week's next to the weeks before.

Thin by design: ``alumni.reach.coverage`` computes the rows; this flow publishes them.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from alumni.db import get_engine
from alumni.models import utcnow
from alumni.reach import coverage

ARTIFACT_KEY = "reach-report"


@flow(name="reach-report", flow_run_name="reach-report")
def reach_report(class_year: int | None = None) -> list[dict[str, Any]]:
    """Publish coverage per class year and per country (a table and a markdown artifact).

    Args:
        class_year: only this class year and its countries; default every class.

    Returns:
        The rows, one dict per group (``alumni.reach.coverage.CoverageRow``'s fields).
    """
    now = utcnow()
    with get_engine().connect() as connection:
        rows = coverage.coverage_rows(connection, now=now, class_year=class_year)
    scope = "every class" if class_year is None else f"the class of {class_year}"
    table = [{**vars(row), "reached_percent": round(100 * row.reached_share, 1)} for row in rows]
    create_table_artifact(
        table=table,
        key=ARTIFACT_KEY,
        description=f"Reached in the 12 months to {now:%Y-%m-%d}, {scope}: per class and country",
    )
    create_markdown_artifact(
        markdown=coverage.to_markdown(rows, now=now),
        key=f"{ARTIFACT_KEY}-summary",
        description=f"Coverage of {scope}, the least reached group first",
    )
    everyone = next((row for row in rows if row.by == "all"), None)
    if everyone is not None:
        get_run_logger().info(
            "reached %d of %d alumni in 12 months", everyone.reached, everyone.alumni
        )
    return table
