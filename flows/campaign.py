"""The class-year email campaign: plan, preflight, then send in batches until nothing is due.

Thin by design: every decision is in ``alumni/`` (the planner, ``alumni.delivery.batches``, the
ledger's ``next_step`` and ``finish``); this file orchestrates. One task per batch of deliveries
(a task costs tens of milliseconds; one per recipient would cap a campaign near a hundred
messages a second). The database ledger, not Prefect's cache, is the record of what was sent,
so the tasks cache nothing and a rerun resumes where the last one stopped: right after a crash
it waits for the dead run's lease to lapse (tens of seconds), then takes its rows over. The
send workers of a big campaign belong to the run and are passed to its tasks. Several runs of
one campaign (other machines, on PostgreSQL) share its batches: the first plans and
preflights, the others wait for that and render only what they send.

For the officer in the Prefect UI: the run is named for its campaign (``campaign-12 class of
2016 reunion``), its batches ``send-batch campaign-12 #3``; it ends with a state message that
says what happened, a progress artifact at what was done, and the report under the campaign's
key and the class's (``class-2016-latest-report``). A stopped campaign is refused (its
preflight failed: nothing goes out until ``resume``); ``resume=True`` runs the preflight again
on a stopped campaign and goes on when it passes.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import asdict
from functools import partial
from typing import Any, cast
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from alumni.db import get_engine
from alumni.delivery import batches, campaigns, ledger, planning, progress
from alumni.delivery.campaigns import kind_of
from alumni.delivery.report import CampaignReport, campaign_report
from alumni.delivery.send_workers import SendPool
from alumni.delivery.sending import CampaignKit, kit_for
from alumni.events.mailings import mailing_of
from alumni.models import utcnow
from alumni.reach.fairness import compare_groups
from alumni.reach.priority import plan_options
from alumni.settings import get_settings
from flows.direct_messages import direct_campaign
from flows.event_invites import event_mailing
from flows.outcome import completed, reported
from flows.relay_limit import relay_throttle
from flows.run_names import campaign_run_name
from flows.social import social_campaign
from flows.waiting import send_until_done


@task(name="plan-deliveries")
def plan_deliveries(campaign_id: int) -> dict[str, int]:
    """One delivery row per alum of the audience, pending or skipped with its reason."""
    options = plan_options(get_settings())  # a capped campaign reaches the longest-unreached first
    return asdict(planning.plan(get_engine(), campaign_id, now=utcnow(), options=options))


def _kit(campaign_id: int) -> CampaignKit:
    with get_engine().connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
        return kit_for(connection, campaign, settings=get_settings(), now=utcnow())


# The send pool is a live object of this run: never hashed for a cache key.
@task(name="preflight", cache_policy=NO_CACHE)
def preflight_campaign(campaign_id: int, pool: SendPool | None, resuming: bool = False) -> int:
    """Render every unsent recipient no passed preflight covered (a run that joins the
    campaign waits for one in progress; ``resuming`` a stopped one: every unsent recipient);
    stop the campaign, sending nothing, if any fails."""
    check = _kit(campaign_id).preflight if pool is None else partial(pool.preflight, campaign_id)
    templates = get_settings().templates_dir
    return batches.preflight(
        get_engine(), campaign_id, check, resuming=resuming, templates=templates
    )


@task(
    name="send-batch",
    cache_policy=NO_CACHE,
    task_run_name="send-batch campaign-{campaign_id} #{number}",
)
def send_batch(
    campaign_id: int, worker: str, pool: SendPool | None, number: int = 1
) -> dict[str, int]:
    """Claim one batch of due deliveries, send it (at the relay's rate, when one is set), and
    record every answer; counts by outcome and how many had to be rendered (``number``: the
    run's n-th batch, for its name)."""
    settings = get_settings()
    throttle = relay_throttle(settings)
    if pool is not None:
        # the send workers keep their own kit; building one here counted the class every batch
        return batches.send_batch(
            get_engine(),
            campaign_id,
            worker=worker,
            settings=settings,
            pool=pool,
            throttle=throttle,
        )
    kit = _kit(campaign_id)
    counts = batches.send_batch(
        get_engine(),
        campaign_id,
        worker=worker,
        settings=settings,
        compose=lambda now: lambda chunk: kit.compose_many(chunk, now=now),
        throttle=throttle,
    )
    return {**counts, "rendered": kit.renders}


@flow(name="class-campaign", flow_run_name=campaign_run_name)
@reported(
    "campaign-{campaign_id}-failure",
    "Fix the cause above, then run the campaign again (`alumni campaign run ID` or this "
    "deployment): what was sent stays sent, and each alum still due gets one message.",
)
def class_campaign(
    campaign_id: int, wait: bool = True, max_wait_hours: float = 36, resume: bool = False
) -> dict[str, Any]:
    """Send a class-year campaign: plan, preflight, then batches until nothing is due.

    An event mailing (``alumni campaign create --event``) runs as ``event-mailing``, a
    social campaign as ``social-campaign`` and direct messages (hear-from-you on Mastodon) as
    ``direct-messages``, so any campaign's id may be given here. An unknown
    id ends the run Failed, saying so in its state message.

    Args:
        campaign_id: the campaign (``alumni campaign create`` prints it; ``alumni campaign
            list`` shows them all): email, calendar invite or social.
        wait: wait for deliveries due later (each alum's local --send-at); when False, stop
            after what is due now, and a later run sends the rest. Rows another run holds
            are waited for either way.
        max_wait_hours: never wait longer than this for the next group.
        resume: the campaign was stopped (its preflight failed) and the template is fixed:
            run the preflight again and go on when it passes (``alumni campaign resume ID``).
            A campaign that is not stopped is left as it is.

    Returns:
        The campaign's report (``CampaignReport.as_dict()``); the run's state message says
        it in words.
    """
    logger = get_run_logger()
    settings = get_settings()
    engine = get_engine()
    # any campaign by its id: an invite or a social campaign goes to the flow of its kind (an
    # unknown id raises LookupError, which ``reported`` turns into the one-line failure)
    with engine.connect() as connection:
        kind = kind_of(connection, campaign_id)
    if kind == "calendar":
        event_id, key = cast(tuple[int, str], mailing_of(engine, campaign_id))
        return event_mailing(event_id=event_id, key=key, resume=resume)
    if kind == "social":
        return social_campaign(
            campaign_id=campaign_id, wait=wait, max_wait_hours=max_wait_hours, resume=resume
        )
    if kind == "direct":
        return direct_campaign(
            campaign_id=campaign_id, wait=wait, max_wait_hours=max_wait_hours, resume=resume
        )
    if resume and _status(campaign_id) != "stopped":
        with engine.connect() as connection:
            report = campaign_report(connection, campaign_id)
        return completed(
            f"campaign {campaign_id} is not stopped (it is {report.status}): nothing to "
            "resume, nothing changed",
            report.as_dict(),
        )
    if not resume:
        with engine.connect() as connection:
            progress.refuse_stopped(connection, campaign_id)
    workers = batches.send_workers_for(engine, campaign_id, settings)
    with ExitStack() as stack:
        # started before planning, so the processes come up while the plan is written
        pool = (
            stack.enter_context(SendPool(workers, connections=settings.smtp_connections))
            if workers
            else None
        )
        if resume:
            campaigns.resume(
                engine, campaign_id, lambda: preflight_campaign(campaign_id, pool, resuming=True)
            )
            logger.info("campaign %d: the preflight passes again; resumed", campaign_id)
        planned = plan_deliveries(campaign_id)
        logger.info(
            "planned: %d new delivery rows; %d to send, %d skipped",
            planned["added"],
            planned["pending"],
            planned["skipped"],
        )
        rendered = preflight_campaign(campaign_id, pool)
        logger.info("preflight rendered %d recipients", rendered)
        progress.start_sending(engine, campaign_id)
        total = max(planned["pending"], 1)
        # the bar counts what earlier runs answered too, as the report at the end does
        answered = [planned["pending"] - _unfinished(campaign_id)]
        bar = cast(
            UUID,
            create_progress_artifact(
                progress=100.0 * answered[0] / total,
                key=f"campaign-{campaign_id}-progress",
                description=f"campaign {campaign_id}: messages answered of {planned['pending']}",
            ),
        )

        def one_batch(worker: str, number: int) -> dict[str, int]:
            counts = send_batch(campaign_id, worker, pool, number)
            answered[0] += counts.get("sent", 0) + counts.get("permanent", 0)
            update_progress_artifact(bar, progress=min(100.0, 100.0 * answered[0] / total))
            return counts

        totals = send_until_done(
            one_batch,
            channel=ledger.DELIVERIES,
            campaign_id=campaign_id,
            worker_prefix="flow",
            wait=wait,
            max_wait_hours=max_wait_hours,
            logger=logger,
        )
        logger.info(
            "this run sent %d; rendered %d while sending (the rest from its preflight)",
            totals["sent"],
            totals["rendered"],
        )
    with engine.connect() as connection:
        report = campaign_report(connection, campaign_id)
        fairness = compare_groups(connection, campaign_id, now=utcnow())
    update_progress_artifact(bar, progress=report.progress(), description=_progress_words(report))
    report_artifacts(report)
    create_markdown_artifact(
        markdown=fairness.markdown(),
        key=f"campaign-{campaign_id}-fairness",
        description=f"Campaign {campaign_id}: reach and response by country, programme and "
        "age of contact data; groups under half the average flagged",
    )
    return completed(report.in_words(), report.as_dict())


def _unfinished(campaign_id: int) -> int:
    """Rows of the campaign still pending or claimed."""
    with get_engine().connect() as connection:
        state = progress.read_progress(
            connection,
            ledger.DELIVERIES,
            campaign_id,
            now=utcnow(),
            lease=batches.lease_of(get_settings()),
        )
    return state.due + state.held + state.later


def _status(campaign_id: int) -> str:
    with get_engine().connect() as connection:
        return str(ledger.load_campaign(connection, campaign_id).status)


def _progress_words(report: CampaignReport) -> str:
    done = f"campaign {report.campaign_id}: {report.answered} of {report.to_send} answered"
    if report.status == "done":
        return f"{done}; done"
    return f"{done}; {report.in_words()}"


def report_artifacts(report: CampaignReport) -> None:
    """The campaign's report under its own key and as the latest of its class, and its
    outcomes as a table; each with a description."""
    said = f"class of {report.class_year}, {report.name}: {report.in_words()}"
    create_markdown_artifact(
        markdown=report.markdown(),
        key=f"campaign-{report.campaign_id}-report",
        description=f"Report of campaign {report.campaign_id} ({said})",
    )
    create_markdown_artifact(
        markdown=report.markdown(),
        key=f"class-{report.class_year}-latest-report",
        description=f"The latest campaign report of the class of {report.class_year}: "
        f"campaign {report.campaign_id} ({report.name}): {report.in_words()}",
    )
    create_table_artifact(
        table=[{"outcome": k, "alumni": v} for k, v in sorted(report.outcomes.items())],
        key=f"campaign-{report.campaign_id}-outcomes",
        description=f"Campaign {report.campaign_id}: alumni by outcome ({said})",
    )
