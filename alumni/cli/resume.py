"""``alumni campaign resume ID``: a stopped campaign, its template fixed, goes on.

The campaign's own flow runs with ``resume=True`` (the same as the class-campaign deployment's
``resume`` switch in the Prefect UI): the preflight runs again while the campaign is still
stopped, and only when every recipient renders is it reopened and sent. A campaign that is
not stopped is left as it is, and the command says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alumni.cli.output import err, fail, out, ready_engine, safe_text
from alumni.delivery.ledger import load_campaign
from alumni.delivery.preflight_report import PreflightReport
from alumni.messages.rendering import PreflightError
from alumni.models import CampaignStatus


def resume_campaign(
    campaign_id: int, *, wait: bool, printed: Callable[[dict[str, Any]], None]
) -> None:
    """Resume the campaign through its flow and print its report with ``printed``."""
    engine = ready_engine()
    with engine.connect() as connection:
        try:
            campaign = load_campaign(connection, campaign_id)
        except LookupError as exc:
            raise fail(str(exc)) from None
    if campaign.status != CampaignStatus.stopped:
        raise fail(
            f"campaign {campaign_id} is not stopped (it is {campaign.status}): nothing to "
            f"resume, nothing changed; `alumni campaign run {campaign_id}` sends what is due"
        )
    from alumni.events.mailings import mailing_of

    mailing = mailing_of(engine, campaign_id)
    try:
        if mailing is not None:
            from flows.event_invites import event_mailing

            result = event_mailing(event_id=mailing[0], key=mailing[1], resume=True)
        elif campaign.channel == "social":
            from flows.social import social_campaign

            result = social_campaign(campaign_id=campaign_id, wait=wait, resume=True)
        else:
            from flows.campaign import class_campaign

            result = class_campaign(campaign_id=campaign_id, wait=wait, resume=True)
    except PreflightError as exc:
        preflight = PreflightReport.of(exc, campaign_id=campaign_id)
        err.print(
            f"campaign {campaign_id} stays stopped: {safe_text(preflight.summary)}",
            highlight=False,
        )
        for cause in preflight.causes:
            err.print(f"  {safe_text(cause.line())}", highlight=False)
        raise fail(
            f"fix the template(s) above, then `alumni campaign resume {campaign_id}`"
        ) from None
    except Exception as exc:  # the flow's own error, already logged by Prefect
        raise fail(f"campaign {campaign_id} did not finish: {exc}") from None
    out.print(f"campaign {campaign_id} resumed", highlight=False)
    if mailing is None and campaign.channel != "social":
        printed(result)
    else:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(result["outcomes"].items()))
        out.print(f"  {safe_text(outcomes)}", highlight=False)
