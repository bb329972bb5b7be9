"""The ``blast`` flow: a one-off message to one or more classes, from the Prefect UI's run form
(the ``blast`` deployment) or ``alumni blast``.

Its parameters are enums and pydantic models with a description each, so the UI's form offers
the templates found under ``templates/email/`` (read when this file is loaded), the channels,
the send time and the purposes, and refuses what it cannot take. The decisions are in
``alumni.delivery.blasts``: the campaigns are made by ``alumni.delivery.campaigns.create`` and
each is run by ``class-campaign``, which sends it through the flow of its kind; a dry run plans
and preflights in a transaction that is rolled back and leaves the report artifact
``blast-dry-run-<class year>`` (who would get it, who would be skipped and why), sending
nothing. Bad input ends the run Failed with one line naming the field.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import Annotated, Any, cast

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from pydantic import Field

from alumni.db import get_engine
from alumni.delivery import blasts
from alumni.delivery.blasts import Blast, BlastChannel, Rehearsal, SendTime
from alumni.models import Purpose, utcnow
from alumni.reach.priority import plan_options
from alumni.settings import get_settings
from alumni.social.rehearsal import rehearse_posts
from flows.campaign import class_campaign
from flows.outcome import completed, failed_run, reported
from flows.social import prefect_secret

# The form's choice of templates: the folders under templates/email/ when this file is loaded.
Template = StrEnum(  # type: ignore[misc]
    "Template", [(name, name) for name in blasts.blast_templates(get_settings().templates_dir)]
)


FIX_INPUT = "Nothing was made or sent: start the blast again with the field above corrected."


def run_name() -> str:
    """``blast-reunion-2016`` (``dry-run-blast-...`` for a dry run), not a random pair."""
    parameters = flow_run.parameters
    template = parameters.get("template", "")
    years = "-".join(str(year) for year in parameters.get("class_years") or [])
    prefix = "dry-run-" if parameters.get("dry_run") else ""
    return f"{prefix}blast-{getattr(template, 'value', template)}-{years}"


@task(name="rehearse-blast", cache_policy=NO_CACHE)
def rehearse(request: Blast) -> list[Rehearsal]:
    """Plan and preflight the blast's campaigns (a social one's posts too), then undo it all."""
    settings = get_settings()
    now = utcnow()
    return blasts.dry_run(
        get_engine(),
        request,
        settings=settings,
        now=now,
        options=plan_options(settings),  # as class-campaign plans: the longest unreached first
        rehearse_posts=functools.partial(
            rehearse_posts, settings=settings, now=now, lookup=prefect_secret
        ),
    )


@task(name="create-blast", cache_policy=NO_CACHE)
def create(request: Blast) -> list[tuple[int, int]]:
    """Make the blast's campaigns, one per class year."""
    return blasts.create_blast(get_engine(), request, templates=get_settings().templates_dir)


@flow(name="blast", flow_run_name=run_name)
@reported(
    "blast-failure",
    "What was sent stays sent. Fix the cause above, then run each class's campaign again "
    "(`alumni campaign run ID`, or `alumni campaign resume ID` after a failed preflight).",
)
def blast(
    class_years: Annotated[list[Annotated[int, Field(ge=1900, le=2100)]], Field(min_length=1)],
    template: Template,
    channel: BlastChannel = BlastChannel.email,
    send_time: SendTime = SendTime(),  # noqa: B008 (a default the form shows; never mutated)
    purpose: Purpose = Purpose.news,
    dry_run: bool = False,
    name: Annotated[str | None, Field(max_length=200)] = None,
) -> dict[str, Any]:
    """Send one message to one or more classes, or rehearse it with ``dry_run``.

    Args:
        class_years: The class years (graduation years) to write to, one campaign each; each
            must have alumni imported.
        template: The message: a folder of templates/email/ (and templates/social/ for social).
        channel: email, or social (posts to the office's networks and class channels). A
            calendar invite needs an event: `alumni campaign create --event ID`, then run the
            class-campaign deployment with the id it prints.
        send_time: When it goes out: now, at HH:MM in each alum's own zone, or not before a
            date-time; never in an alum's night (21:00-08:00 their time), whatever is chosen.
        purpose: news or events count toward each alum's contact budget and honour their
            choices; service (about their own affairs) does not count.
        dry_run: Plan and preflight, write the report of who would get it and who would be
            skipped and why, and send nothing (nothing is kept).
        name: What officers call it; default "<template> blast".
    """
    request = Blast(
        class_years=class_years,
        template=str(template.value),
        channel=channel,
        send_time=send_time,
        purpose=purpose,
        name=name,
    )
    if dry_run:
        return _dry_run(request)
    try:
        created = create(request)
    except ValueError as exc:
        return _failed(str(exc), FIX_INPUT, error=exc)
    reports = {
        year: class_campaign(campaign_id=campaign_id, wait=False) for campaign_id, year in created
    }
    summary = "; ".join(
        f"class of {year} (campaign {report['campaign_id']}): {_outcomes(report['outcomes'])}"
        for year, report in reports.items()
    )
    data = {"dry_run": False, "campaigns": {str(year): r for year, r in reports.items()}}
    if any(report["outcomes"].get("pending") for report in reports.values()):
        summary += "; pending ones are due later: due-campaigns sends them when their time comes"
    return completed(summary, data)


def _dry_run(request: Blast) -> dict[str, Any]:
    try:
        rehearsals = rehearse(request)
    except ValueError as exc:
        return _failed(str(exc), FIX_INPUT, error=exc)
    for rehearsal in rehearsals:
        year = rehearsal.class_year
        create_markdown_artifact(
            markdown=rehearsal.markdown(),
            key=f"blast-dry-run-{year}",
            description=f"Dry run of a {request.template} blast to the class of {year}: "
            f"{rehearsal.would_send} {rehearsal.unit}; nothing was sent",
        )
        create_table_artifact(
            table=[
                {"outcome": "would send", "alumni": rehearsal.would_send},
                *({"outcome": f"skipped: {k}", "alumni": n} for k, n in rehearsal.skipped.items()),
            ],
            key=f"blast-dry-run-{year}-outcomes",
            description=f"Dry run, class of {year}: would send and skipped per reason",
        )
    data = {
        "dry_run": True,
        "classes": {
            str(r.class_year): {
                "would_send": r.would_send,
                "skipped": r.skipped,
                "preflight": r.preflight,
            }
            for r in rehearsals
        },
    }
    summary = "; ".join(r.in_words() for r in rehearsals)
    broken = [r for r in rehearsals if r.preflight]
    if broken:
        year = broken[0].class_year
        return _failed(
            f"dry run, class of {year}: the preflight failed: "
            + (broken[0].preflight or "").splitlines()[0],
            f"Fix the template (the report blast-dry-run-{year} lists what failed), then run "
            "the dry run again. Nothing was sent and nothing was kept.",
        )
    return completed(f"dry run, nothing sent: {summary}", data)


def _outcomes(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nobody"


def _failed(cause: str, what_to_do: str, *, error: BaseException | None = None) -> dict[str, Any]:
    """``failed_run``, typed as the flow's result: the state becomes the run's own, and whoever
    called the flow gets its error instead of a result."""
    return cast(dict[str, Any], failed_run(cause, what_to_do, error=error))
