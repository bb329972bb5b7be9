"""The loop of the flows that make one campaign per class year and send it (the monthly digest,
the ambassadors' digest, hear-from-you): plan the class's campaign, run it as a subflow, and
collect what each class did, so that one class failing never holds back the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prefect.client.schemas.objects import State

from flows.campaign import class_campaign
from flows.outcome import cause_of


def send_per_class(
    years: Iterable[int], plan_class: Callable[[int], State[Any]]
) -> tuple[dict[int, dict[str, Any]], list[str]]:
    """For each class year, ``plan_class(year)`` (a task called with ``return_state=True``,
    whose result is the campaign's id, a list of them, or None when the class needs none),
    then each campaign in turn.

    Returns:
        The report of each campaign sent, by campaign id; and one line per class that failed.
    """
    reports: dict[int, dict[str, Any]] = {}
    failures: list[str] = []
    for year in years:
        planned = plan_class(year)
        if not planned.is_completed():
            failures.append(f"class of {year}: {cause_of(planned)}")
            continue
        made = planned.result()
        for campaign_id in [] if made is None else [made] if isinstance(made, int) else made:
            sent = class_campaign(campaign_id=campaign_id, wait=False, return_state=True)
            if sent.is_completed():
                reports[campaign_id] = sent.result()
            else:
                failures.append(f"class of {year} (campaign {campaign_id}): {cause_of(sent)}")
    return reports, failures
