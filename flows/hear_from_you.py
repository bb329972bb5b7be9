"""Scheduled monthly: one gentle "we would like to hear from you" message to each alum nobody
has reached in twelve months, within their consent, once a year at most: by email, or, for an
alum with no working email, as a direct message on a network that has them (Mastodon) where
they gave a handle.

Thin by design: ``alumni.reach.hear_from_you`` decides who and makes one email campaign per
class and year, and one direct-message campaign per class, year and network (a rerun finds
them and plans nobody twice); which networks have direct messages is asked of the office's
accounts (``alumni.social.direct.direct_networks``). Each campaign that added someone is sent
as a subflow like any campaign (preflight, batches, the ledger's exactly-once); what an
earlier run left unsent, the due-campaigns deployment sends. One class that fails does not
hold back the others; the run fails at the end, naming it. The artifact and the result count
this year's messages per class and channel.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from alumni.db import get_engine
from alumni.models import utcnow
from alumni.reach.hear_from_you import (
    ChannelCounts,
    class_years_to_ask,
    counts_by_channel,
    plan_direct,
    plan_hear_from_you,
)
from alumni.reach.priority import plan_options
from alumni.settings import get_settings
from alumni.social.accounts import network_accounts
from alumni.social.direct import direct_networks
from flows.class_runs import send_per_class
from flows.outcome import cause_of
from flows.social import prefect_secret


@task(name="direct-message-networks")
def networks_with_direct_messages() -> list[str]:
    """The networks of the office's accounts that have direct messages (Mastodon)."""
    return direct_networks(network_accounts(get_settings(), prefect_secret))


@task(name="plan-hear-from-you")
def plan_class(class_year: int, networks: list[str]) -> list[int]:
    """The class's hear-from-you campaigns of this year that planned someone new: the email
    campaign, then the direct messages on ``networks`` for those it found no email for."""
    options = plan_options(get_settings())
    engine, now = get_engine(), utcnow()
    email = plan_hear_from_you(engine, class_year, now=now, options=options)
    direct = plan_direct(engine, class_year, now=now, options=options, networks=networks)
    return ([] if email is None else [email]) + direct


@flow(name="hear-from-you", flow_run_name="hear-from-you")
def hear_from_you() -> dict[str, Any]:
    """Plan and send the hear-from-you message of every class with alumni unreached for a year.

    Returns:
        ``{"campaigns": {campaign id: the campaign's report}, "by_channel": [this year's
        messages per class and channel: class_year, channel, campaign_id, outcomes]}``.

    Raises:
        RuntimeError: some class did not finish (each named); the others were sent.
    """
    logger = get_run_logger()
    found = networks_with_direct_messages(return_state=True)
    failures: list[str] = []
    networks: list[str] = []
    if found.is_completed():
        networks = found.result()
    else:  # a half-configured account must not hold back the emails
        failures.append(f"direct messages: {cause_of(found)}")
    with get_engine().connect() as connection:
        years = class_years_to_ask(connection)
    reports, failed = send_per_class(
        years, lambda year: plan_class(year, networks, return_state=True)
    )
    failures += failed
    with get_engine().connect() as connection:
        counts = counts_by_channel(connection, year=utcnow().year)
    logger.info(
        "hear-from-you campaigns: %s; direct messages on: %s",
        sorted(reports) or "none",
        ", ".join(networks) or "no network",
    )
    create_markdown_artifact(
        markdown=_summary(counts, set(reports), failures),
        key="hear-from-you",
        description="This year's hear-from-you messages, per class and channel",
    )
    if failures:
        raise RuntimeError("; ".join(failures))
    return {"campaigns": reports, "by_channel": [c.as_dict() for c in counts]}


def _summary(counts: list[ChannelCounts], ran: set[int], failures: list[str]) -> str:
    lines = ["# We would like to hear from you", ""]
    if not counts and not failures:
        lines.append("Everyone was reached in the last twelve months.")
    if counts:
        totals: dict[str, int] = {}
        for c in counts:
            totals[c.channel] = totals.get(c.channel, 0) + c.sent
        lines += [
            "Sent this year: " + ", ".join(f"{ch} {n}" for ch, n in totals.items()) + ".",
            "",
            "| class | channel | campaign | outcomes |",
            "|---|---|---|---|",
        ]
        for c in counts:
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(c.outcomes.items()))
            mark = " (sent in this run)" if c.campaign_id in ran else ""
            lines.append(f"| {c.class_year} | {c.channel} | {c.campaign_id}{mark} | {outcomes} |")
    lines += [f"- did not finish: {failure}" for failure in failures]
    return "\n".join(lines) + "\n"
