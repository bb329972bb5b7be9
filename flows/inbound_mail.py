"""Read the office's mailbox once: bounces, auto-replies, complaints, unsubscribe mail, calendar
answers and replies, each handled exactly once (the ``inbound-mail`` deployment, every 10
minutes; ``alumni track`` by hand).

Thin: ``alumni.tracking.inbox.read_mailbox`` does the work. The mailbox's URL and password are
read from the worker's environment inside the run, never passed as a parameter. A configuration
that cannot work (``ALUMNI_IMAP_URL`` unset or wrong, the login refused, TLS refused) ends the
run in a failed state named ``Misconfigured`` whose message is that one line, with no traceback,
and a report artifact saying what to do: nothing was read, and the next run tries again.
"""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State

from alumni.db import get_engine
from alumni.delivery.report import campaign_report, campaigns_of
from alumni.settings import get_settings
from alumni.tracking.inbox import office_mailbox, read_mailbox
from alumni.tracking.record import TrackingContext
from connectors.imap import ImapConfigError, ImapMailbox
from flows.outcome import MISCONFIGURED, completed, failed_run, reported
from flows.run_names import at_scheduled_minute

FIX_SETTINGS = (
    "Correct ALUMNI_IMAP_URL (imaps://user@host/INBOX), its password or its TLS setting in the "
    "worker's environment (`alumni doctor` checks it); the next run, in 10 minutes, reads "
    "everything that waits. Nothing was read or moved."
)


def _misconfigured(error: Exception) -> State[Any]:
    return failed_run(
        str(error).replace("\n", " "),
        FIX_SETTINGS,
        report_key="inbound-mail-failure",
        name=MISCONFIGURED,
    )


@flow(name="inbound-mail", flow_run_name=at_scheduled_minute("inbound-mail"))
@reported(
    "inbound-mail-failure",
    "Fix the cause above; the next run (every 10 minutes) reads what is left, and a message "
    "already handled is never handled twice.",
)
def inbound_mail() -> dict[str, Any] | State[Any]:
    """Handle every message that arrived in the office's mailbox since the last run.

    Returns:
        ``InboxSummary.as_dict()``: counts per kind and outcome, how many were moved, and the
        messages kept because they could not be parsed; or a failed ``Misconfigured`` state.
    """
    settings = get_settings()
    try:
        context = TrackingContext.from_settings(settings)
        mailbox = ImapMailbox.open(office_mailbox(settings))
    except (ImapConfigError, ValueError) as exc:
        return _misconfigured(exc)
    try:
        summary = read_mailbox(
            get_engine(),
            mailbox,
            context=context,
            done_folder=settings.imap_done_folder,
            worker=f"inbound-{uuid.uuid4().hex[:12]}",
        )
    except ImapConfigError as exc:
        return _misconfigured(exc)
    finally:
        mailbox.close()
    said = (
        f"{summary.handled} new message(s) handled, {summary.already_handled} handled before, "
        f"{summary.moved} moved, {len(summary.unparsed)} kept unparsed"
    )
    create_markdown_artifact(
        markdown=summary.markdown(),
        key="inbound-mail",
        description=f"The office's mailbox, last read: {said}",
    )
    # What came back changed these campaigns' reports: a new version of each in the UI.
    with get_engine().connect() as connection:
        for campaign_id in campaigns_of(connection, summary.deliveries):
            report = campaign_report(connection, campaign_id)
            create_markdown_artifact(
                markdown=report.markdown(),
                key=f"campaign-{campaign_id}-report",
                description=f"Report of campaign {campaign_id} after what came back: "
                f"{report.in_words()}",
            )
    return completed(said, summary.as_dict())
