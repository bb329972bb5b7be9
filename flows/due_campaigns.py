"""Scheduled: send whatever is due in every unfinished campaign.

``--send-at 09:30`` spreads a campaign over a day of time zones; instead of one run sleeping
until the last group is due, this flow runs every quarter of an hour and sends each group when
its time has come. It is also what resumes a campaign after a crash: rows a dead run held count
as due once their lease has lapsed. Stopped campaigns are never due (``progress.due_campaigns``).

Each campaign is a subflow named for it (``campaign-12 class of 2016 reunion``), so the runs of
one quarter are told apart; this run is named for the minute it was scheduled
(``due-campaigns 2026-11-30 00:00``). One campaign that fails does not hold back the others:
the run fails at the end, naming each.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from alumni.db import get_engine
from alumni.delivery import ledger, progress
from alumni.delivery.batches import lease_of
from alumni.models import NETWORKS, utcnow
from alumni.settings import get_settings
from flows.campaign import class_campaign
from flows.outcome import completed, reported
from flows.run_names import at_scheduled_minute
from flows.social import social_campaign


@flow(name="due-campaigns", flow_run_name=at_scheduled_minute("due-campaigns"))
@reported(
    "due-campaigns-failure",
    "Each campaign named above failed on its own (its run's report says why and what to do); "
    "the others were sent. The next scheduled run sends whatever is due again, nothing twice.",
)
def due_campaigns() -> dict[int, dict[str, Any]]:
    """Run every planned or sending campaign that has deliveries or social posts due now.

    Event mailings (channel calendar) have their own schedule: flows/event_invites.py.

    Returns:
        ``{campaign id: its report}`` for each campaign run; the state message says each in
        words, or "nothing due".

    Raises:
        RuntimeError: some campaigns did not finish (each named); the others were sent.
    """
    engine = get_engine()
    now = utcnow()
    lease = lease_of(get_settings())
    # direct messages (channel a network) are deliveries too: class_campaign runs them
    due = progress.due_campaigns(
        engine, ledger.DELIVERIES, kinds=("email", *NETWORKS), now=now, lease=lease
    )
    social = progress.due_campaigns(engine, ledger.POSTS, kinds=("social",), now=now, lease=lease)
    if not due and not social:
        return completed("nothing due", {})
    get_run_logger().info(
        "campaigns with messages due: %s; with posts due: %s",
        ", ".join(map(str, due)) or "none",
        ", ".join(map(str, social)) or "none",
    )
    runs: dict[int, dict[str, Any]] = {}
    said: list[str] = []
    failures: list[str] = []
    for campaign_id in [*due, *social]:
        run = social_campaign if campaign_id in social else class_campaign
        state = run(campaign_id=campaign_id, wait=False, return_state=True)
        if state.is_completed():
            runs[campaign_id] = state.result()
            said.append(f"campaign {campaign_id}: {state.message}")
        else:
            failures.append(f"campaign {campaign_id}: {state.message}")
    if failures:
        raise RuntimeError(
            f"{len(failures)} of {len(due) + len(social)} campaigns did not finish: "
            + "; ".join(failures)
        )
    return completed("; ".join(said), runs)
