"""Read the office's mailbox once: bounces, auto-replies, complaints, unsubscribe mail, calendar
answers and replies, each handled exactly once (the ``inbound-mail`` deployment, every 10
minutes; ``alumni track`` by hand).

Thin: ``alumni.tracking.inbox.read_mailbox`` does the work. The mailbox's URL and password are
read from the worker's environment inside the run, never passed as a parameter. A configuration
that cannot work (``ALUMNI_IMAP_URL`` unset or wrong, the login refused, TLS refused) ends the
run in a failed state named ``Misconfigured`` whose message is that one line, with no traceback:
nothing was read, and the next run tries again.
"""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State
from prefect.states import Failed

from alumni.db import get_engine
from alumni.delivery.report import campaign_report, campaigns_of
from alumni.settings import get_settings
from alumni.tracking.inbox import office_mailbox, read_mailbox
from alumni.tracking.record import TrackingContext
from connectors.imap import ImapConfigError, ImapMailbox

MISCONFIGURED = "Misconfigured"


@flow(name="inbound-mail", flow_run_name="inbound-mail")
def inbound_mail() -> dict[str, Any] | State[Any]:
    """Handle every message that arrived in the office's mailbox since the last run.

    Returns:
        ``InboxSummary.as_dict()``: counts per kind and outcome, how many were moved, and the
        messages kept because they could not be parsed; or a failed ``Misconfigured`` state.
    """
    logger = get_run_logger()
    settings = get_settings()
    try:
        context = TrackingContext.from_settings(settings)
        mailbox = ImapMailbox.open(office_mailbox(settings))
    except (ImapConfigError, ValueError) as exc:
        return Failed(name=MISCONFIGURED, message=str(exc).replace("\n", " "))
    try:
        summary = read_mailbox(
            get_engine(),
            mailbox,
            context=context,
            done_folder=settings.imap_done_folder,
            worker=f"inbound-{uuid.uuid4().hex[:12]}",
        )
    except ImapConfigError as exc:
        return Failed(name=MISCONFIGURED, message=str(exc).replace("\n", " "))
    finally:
        mailbox.close()
    logger.info(
        "%d new message(s) handled, %d handled before, %d moved, %d kept unparsed",
        summary.handled,
        summary.already_handled,
        summary.moved,
        len(summary.unparsed),
    )
    create_markdown_artifact(markdown=summary.markdown(), key="inbound-mail")
    # What came back changed these campaigns' reports: a new version of each in the UI.
    with get_engine().connect() as connection:
        for campaign_id in campaigns_of(connection, summary.deliveries):
            report = campaign_report(connection, campaign_id)
            create_markdown_artifact(
                markdown=report.markdown(), key=f"campaign-{campaign_id}-report"
            )
    return summary.as_dict()
