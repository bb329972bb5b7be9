"""Flow run names that say what a run is, instead of Prefect's ``tiny-peacock``.

Each is a ``flow_run_name`` callable (Prefect calls it with no arguments inside the run, where
``prefect.runtime.flow_run`` knows the parameters and the scheduled time):

- ``campaign_run_name``: ``campaign-12 class of 2016 reunion`` (the campaign read from the
  database; a parent's subflows of three campaigns are told apart by it);
- ``at_scheduled_minute("due-campaigns")``: ``due-campaigns 2026-11-30 00:00``, the minute the
  run was scheduled for, in UTC (the time it was started for a run started by hand).

A name is a label: if the campaign cannot be read, the name falls back to ``campaign-12`` and
the run itself says why it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from prefect.runtime import flow_run

from alumni.db import get_engine
from alumni.delivery.ledger import load_campaign


def campaign_label(campaign_id: int) -> str:
    """``campaign-12 class of 2016 reunion`` (``social`` or ``calendar`` added for those)."""
    try:
        with get_engine().connect() as connection:
            campaign = load_campaign(connection, campaign_id)
    except Exception:  # the run's own first step reports an unknown id or database
        return f"campaign-{campaign_id}"
    channel = "" if campaign.channel == "email" else f" ({campaign.channel})"
    return f"campaign-{campaign_id} class of {campaign.class_year} {campaign.template}{channel}"


def campaign_run_name() -> str:
    """The run name of a flow whose ``campaign_id`` parameter names its campaign."""
    return campaign_label(int(flow_run.parameters["campaign_id"]))


def scheduled_minute() -> str:
    """The minute this run was scheduled for, UTC: ``2026-11-30 00:00``."""
    when = flow_run.scheduled_start_time
    if not isinstance(when, datetime):
        when = datetime.now(UTC)
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M}"


def at_scheduled_minute(flow_name: str) -> Callable[[], str]:
    """A run name callable: ``<flow_name> 2026-11-30 00:00``."""

    def name() -> str:
        return f"{flow_name} {scheduled_minute()}"

    return name


def event_mailing_run_name() -> str:
    """``event-4 invite``: the event and the mailing key."""
    parameters = flow_run.parameters
    return f"event-{parameters['event_id']} {parameters.get('key', 'invite')}"
