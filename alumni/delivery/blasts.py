"""One-off blasts: a message to one or more classes, started from the Prefect UI's form (the
``blast`` flow) or ``alumni blast``.

A blast is campaigns like any other, one per class year, made by
``alumni.delivery.campaigns.create`` and run by the flow of their kind. What this module adds:
the typed choices the form offers (``BlastChannel``, ``SendTime``), the templates a blast may
use, and the dry run: the campaigns made, planned (the one planner) and preflighted (every
recipient rendered; a social blast's posts rendered and checked, ``alumni.social.rehearsal``)
inside one write transaction that is then rolled back, so the report says who would get it and
who would be skipped and why, and nothing is left that a later run or ``due-campaigns`` could
send.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.delivery import campaigns, ledger
from alumni.delivery.ambassador_kit import AMBASSADOR_DIGEST_TEMPLATE
from alumni.delivery.audience import (
    CONSENT_QUESTION_TEMPLATE,
    DIGEST_TEMPLATE,
    STILL_YOURS_TEMPLATE,
)
from alumni.delivery.planning import PlanOptions, plan_on
from alumni.delivery.report import CampaignReport, campaign_report
from alumni.delivery.send_time import parse_send_at
from alumni.delivery.sending import kit_for
from alumni.messages.rendering import PreflightError, TemplateStore
from alumni.models import Purpose
from alumni.settings import Settings

HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class BlastChannel(StrEnum):
    """Where a blast goes. A calendar invite needs an event: ``alumni campaign create --event``."""

    email = "email"
    social = "social"


class When(StrEnum):
    now = "now"
    local_time = "local-time"
    not_before = "not-before"


class SendTime(BaseModel):
    """When a blast goes out; never in an alum's night (21:00-08:00 their time)."""

    when: When = Field(
        default=When.now,
        description=(
            "now: as soon as planned; local-time: at local_time in each alum's own time zone; "
            "not-before: from not_before on."
        ),
    )
    local_time: str | None = Field(
        default=None,
        pattern=HH_MM,
        description="For local-time: HH:MM (24-hour) in each alum's own zone, e.g. 09:30.",
    )
    not_before: datetime | None = Field(
        default=None,
        description="For not-before: a date-time with its UTC offset, e.g. 2027-06-01T09:00+01:00.",
    )

    @classmethod
    def parse(cls, text: str | None) -> SendTime:
        """``now`` (or nothing), ``HH:MM`` in each alum's zone, or a date-time with its UTC
        offset before which nothing goes out: what ``alumni blast --send-at`` takes.

        Raises:
            ValueError: naming the value and the forms it may take.
        """
        if text is None or text.strip() in ("", "now"):
            return cls()
        text = text.strip()
        if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):
            parse_send_at(text)  # its own words for a wrong or night-time hour
            if not re.fullmatch(HH_MM, text):
                raise ValueError(f"--send-at {text!r}: write the time as HH:MM, like 09:30")
            return cls(when=When.local_time, local_time=text)
        try:
            start = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"--send-at {text!r}: give now, HH:MM (each alum's own time) or a date-time "
                "like 2027-06-01T09:00+01:00"
            ) from None
        if start.tzinfo is None:
            raise ValueError(f"--send-at {text!r}: add the UTC offset, like +01:00")
        return cls(when=When.not_before, not_before=start)

    def campaign_options(self) -> tuple[str | None, str | None]:
        """The (``send_at``, ``not_before``) of ``campaigns.create``.

        Raises:
            ValueError: the choice lacks its value (naming the field to fill).
        """
        if self.when is When.local_time:
            if not self.local_time:
                raise ValueError("send_time.local_time: give HH:MM for when=local-time")
            return self.local_time, None
        if self.when is When.not_before:
            if self.not_before is None:
                raise ValueError("send_time.not_before: give a date-time for when=not-before")
            return None, self.not_before.isoformat()
        return None, None


@dataclass(frozen=True)
class Blast:
    """What the officer asked for."""

    class_years: Sequence[int]
    template: str
    channel: BlastChannel = BlastChannel.email
    send_time: SendTime = field(default_factory=SendTime)
    purpose: Purpose = Purpose.news
    name: str | None = None

    @property
    def title(self) -> str:
        """The campaigns' name: the one given, or "<template> blast"."""
        return self.name or f"{self.template} blast"


# Templates of the messages flows make for an audience they name themselves: never a blast's.
# (alumni.reach sits above this package: its two names are checked against it by the tests.)
MADE_BY_FLOWS = frozenset(
    {
        DIGEST_TEMPLATE,  # the monthly digest: `alumni digest send`
        STILL_YOURS_TEMPLATE,  # still-yours: alumni.reach.freshness
        CONSENT_QUESTION_TEMPLATE,  # a found alum's consent question: alumni.reach.tips
        AMBASSADOR_DIGEST_TEMPLATE,  # ambassador-digest
        "hear_from_you",  # alumni.reach.hear_from_you.TEMPLATE
        "join_confirm",  # alumni.reach.referrals.CONFIRM_TEMPLATE
    }
)


def blast_templates(templates: Path) -> list[str]:
    """The email templates a blast may use: each folder of ``templates/email/`` complete in at
    least one locale, but those of the messages flows make (``MADE_BY_FLOWS``)."""
    store = TemplateStore(templates)
    folder = templates / "email"
    names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return [name for name in names if name not in MADE_BY_FLOWS and store.locales(name)]


def create_blast(engine: Engine, blast: Blast, *, templates: Path) -> list[tuple[int, int]]:
    """Make the blast's campaigns, one per class year: (campaign id, class year) pairs.

    Raises:
        ValueError: one line naming the field that is wrong; nothing is made.
    """
    with write_transaction(engine) as connection:
        return _create_on(connection, blast, templates=templates)


def check_blast(engine: Engine, blast: Blast, *, templates: Path) -> list[tuple[int, int]]:
    """What ``create_blast`` would make, made and rolled back: the command line's check before
    it starts the flow.

    Raises:
        ValueError: as ``create_blast``.
    """
    try:
        with write_transaction(engine) as connection:
            raise _Undo(_create_on(connection, blast, templates=templates))
    except _Undo as undo:
        made: list[tuple[int, int]] = undo.found
        return made


@dataclass(frozen=True)
class Rehearsal:
    """One class's dry run: what a real run would send and skip (per reason), what the
    preflight found (None: everything rendered), and the report a real run would start from
    (markdown under its heading: the campaign was never kept, so it has no id)."""

    class_year: int
    name: str
    would_send: int
    skipped: dict[str, int]
    preflight: str | None
    details: str
    unit: str = "alumni would get this message"

    @classmethod
    def of_report(cls, report: CampaignReport, preflight: str | None) -> Rehearsal:
        """An email campaign's rehearsal from its report (pending: would be sent)."""
        shown = replace(report, status="dry run, nothing sent", next_due=None)
        return cls(
            class_year=report.class_year,
            name=report.name,
            would_send=report.outcomes.get("pending", 0),
            skipped={
                outcome.split(":", 1)[1]: count
                for outcome, count in sorted(report.outcomes.items())
                if outcome.startswith("skipped:")
            },
            preflight=preflight,
            details=shown.markdown().split("\n", 1)[1],
        )

    def in_words(self) -> str:
        """``class of 2016: 3 would get it, 2 skipped (deceased 1, no_email 1)``."""
        if self.unit != Rehearsal.unit:
            return f"class of {self.class_year}: {self.would_send} {self.unit}"
        skipped = ", ".join(f"{k} {n}" for k, n in self.skipped.items())
        return (
            f"class of {self.class_year}: {self.would_send} would get it, "
            f"{sum(self.skipped.values())} skipped" + (f" ({skipped})" if skipped else "")
        )

    def markdown(self) -> str:
        """The report, headed as a dry run."""
        head = [
            f"# Dry run: {self.name} (class of {self.class_year})",
            "",
            f"**Dry run: nothing was sent.** {self.would_send} {self.unit}; "
            f"{sum(self.skipped.values())} would be skipped.",
            "",
        ]
        if self.preflight:
            head += [f"**Preflight failed: {self.preflight}**", ""]
        else:
            head += ["Preflight: everything rendered.", ""]
        return "\n".join(head) + self.details


# Plans and checks a social campaign's posts inside the dry run's transaction: given by the
# caller, since posting (alumni.social) sits above this package.
RehearsePosts = Callable[[Connection, int], Rehearsal]


class _Undo(Exception):
    """Rolls a dry run's transaction back, carrying what it found."""

    def __init__(self, found: Any) -> None:
        super().__init__("dry run")
        self.found = found


def dry_run(
    engine: Engine,
    blast: Blast,
    *,
    settings: Settings,
    now: datetime,
    options: PlanOptions | None = None,
    rehearse_posts: RehearsePosts | None = None,
) -> list[Rehearsal]:
    """Make, plan and preflight the blast's campaigns, report, and undo it all (see the module
    docstring): one ``Rehearsal`` per class year, planned with ``options`` (default the
    office's, ``PlanOptions.from_settings``: give a real run's). A social blast's posts are
    planned and checked by ``rehearse_posts``.

    Raises:
        ValueError: bad input, as ``create_blast``; or a social blast with no
            ``rehearse_posts``.
    """
    if blast.channel is BlastChannel.social and rehearse_posts is None:
        raise ValueError("dry_run: a social blast's dry run needs its posts' rehearsal")
    options = options or PlanOptions.from_settings(settings)
    try:
        with write_transaction(engine) as connection:
            rehearsals = []
            for campaign_id, _ in _create_on(connection, blast, templates=settings.templates_dir):
                if rehearse_posts is not None and blast.channel is BlastChannel.social:
                    rehearsals.append(rehearse_posts(connection, campaign_id))
                    continue
                plan_on(connection, campaign_id, now=now, options=options)
                campaign = ledger.load_campaign(connection, campaign_id)
                kit = kit_for(connection, campaign, settings=settings, now=now)
                try:
                    kit.preflight(ledger.iter_unsent_on(connection, campaign_id))
                    failed = None
                except PreflightError as exc:
                    failed = str(exc)
                report = campaign_report(connection, campaign_id)
                rehearsals.append(Rehearsal.of_report(report, failed))
            raise _Undo(rehearsals)
    except _Undo as undo:
        done: list[Rehearsal] = undo.found
        return done


def _create_on(connection: Connection, blast: Blast, *, templates: Path) -> list[tuple[int, int]]:
    send_at, not_before = blast.send_time.campaign_options()
    return campaigns.create_on(
        connection,
        name=blast.title[:200],
        class_years=blast.class_years,
        template=blast.template,
        templates=templates,
        purpose=blast.purpose,
        send_at=send_at,
        not_before=not_before,
        social=campaigns.SocialOptions() if blast.channel is BlastChannel.social else None,
    )
