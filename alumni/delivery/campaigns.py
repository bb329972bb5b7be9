"""Creating, listing and previewing campaigns (what ``alumni campaign`` does besides running),
their status, resuming a stopped one (``resume``: the only way out of stopped), and ``kind_of``:
which flow runs a campaign, for the command line and the flows alike."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alumni.db import write_transaction
from alumni.delivery import ledger
from alumni.delivery.audience import DIGEST_TEMPLATE
from alumni.delivery.send_time import parse_send_at
from alumni.delivery.sending import kit_for
from alumni.messages.rendering import RenderError, TemplateStore
from alumni.models import (
    NETWORKS,
    Alumnus,
    Campaign,
    CampaignStatus,
    ContactPoint,
    EventMailing,
    Purpose,
    table_of,
    utcnow,
)
from alumni.settings import get_settings

_A = table_of(Alumnus)
_C = table_of(Campaign)
_CP = table_of(ContactPoint)
_M = table_of(EventMailing)
CampaignKind = Literal["email", "calendar", "social", "direct"]


@dataclass(frozen=True)
class SocialOptions:
    """What a social campaign adds: where it posts, in which languages, and its link."""

    networks: Sequence[str] = ()  # empty: every configured account and class channel
    locales: Sequence[str] = ()  # empty: the office's default locale
    link: str | None = None  # where the posts' tracked link leads
    window_hours: int | None = None  # empty: ALUMNI_SOCIAL_WINDOW_HOURS

    def check(self, store: TemplateStore, template: str) -> None:
        """Raise ValueError naming the option that is wrong and what to give instead."""
        known = (*NETWORKS, "webhook")
        for network in self.networks:
            if network not in known:
                raise ValueError(f"--network {network!r}: use one of {', '.join(known)}")
        try:
            found = store.post_locales(template)
        except RenderError as exc:
            raise ValueError(f"--template {template!r}: {exc}") from None
        if not found:
            raise ValueError(
                f"--template {template!r}: no templates/social/{template}/<locale>.txt.j2 found"
            )
        for locale in self.locales:
            if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", locale):
                raise ValueError(f"--locale {locale!r} is not a language tag like en or pt-BR")
        if self.link is not None:
            parts = urlsplit(self.link)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"--link {self.link!r}: give a full https:// address")
        if self.window_hours is not None and self.window_hours < 1:
            raise ValueError(f"--window-hours {self.window_hours}: give 1 or more")

    def columns(self) -> dict[str, Any]:
        return {
            "networks": ",".join(dict.fromkeys(self.networks)) or None,
            "locales": ",".join(dict.fromkeys(self.locales)) or None,
            "link": self.link,
            "window_hours": self.window_hours,
        }


def create(
    engine: Engine,
    *,
    name: str,
    class_years: Sequence[int],
    template: str,
    templates: Path,
    programme: str | None = None,
    purpose: str = "news",
    send_at: str | None = None,
    not_before: str | None = None,
    social: SocialOptions | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    where_reason: str | None = None,
    max_recipients: int | None = None,
) -> list[tuple[int, int]]:
    """Create one campaign per class year; return (campaign id, class year) pairs.

    With ``social``, the campaign posts to social networks and class channels instead of
    emailing (channel ``social``). ``where`` narrows the audience to alumni whose column FIELD
    has one of the values, kept with ``where_reason`` (check it first with
    ``alumni.reach.fairness.check_audience``: the fairness rule lives there);
    ``max_recipients`` caps who gets it (the planner's caller gives the order).

    Raises:
        ValueError: naming the option that is wrong and what to give instead; nothing is made.
    """
    with write_transaction(engine) as connection:
        return create_on(
            connection,
            name=name,
            class_years=class_years,
            template=template,
            templates=templates,
            programme=programme,
            purpose=purpose,
            send_at=send_at,
            not_before=not_before,
            social=social,
            where=where,
            where_reason=where_reason,
            max_recipients=max_recipients,
        )


def create_on(
    connection: sa.Connection,
    *,
    name: str,
    class_years: Sequence[int],
    template: str,
    templates: Path,
    programme: str | None = None,
    purpose: str = "news",
    send_at: str | None = None,
    not_before: str | None = None,
    social: SocialOptions | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    where_reason: str | None = None,
    max_recipients: int | None = None,
) -> list[tuple[int, int]]:
    """``create`` inside the caller's write transaction (a dry run's, rolled back after)."""
    if not class_years:
        raise ValueError("give --class-year at least once")
    if purpose not in set(Purpose):
        raise ValueError(f"--purpose {purpose!r}: use one of news, events, service")
    if template == DIGEST_TEMPLATE and social is None:
        raise ValueError(
            f"--template {template!r} is the monthly digest's; `alumni digest send` makes those"
        )
    store = TemplateStore(templates)
    if social is not None:
        social.check(store, template)
    elif not store.locales(template):
        raise ValueError(
            f"--template {template!r}: no templates/email/{template}/<locale>.*.j2 found"
        )
    parse_send_at(send_at)
    start = None
    if not_before:
        try:
            start = datetime.fromisoformat(not_before)
        except ValueError:
            raise ValueError(
                f"--not-before {not_before!r} is not a date-time; write 2027-06-01T09:00+01:00"
            ) from None
        if start.tzinfo is None:
            raise ValueError(f"--not-before {not_before!r}: add the UTC offset, like +01:00")
        start = start.astimezone(UTC)
    if max_recipients is not None and max_recipients < 1:
        raise ValueError(f"--max-recipients {max_recipients}: give 1 or more")
    for column in where or {}:  # not `name`: that is the campaign's
        if column not in _A.c:
            raise ValueError(f"--where {column}=...: no such alumni field")
    created = []
    for year in class_years:
        size = connection.execute(
            sa.select(sa.func.count()).where(_A.c.class_year == year)
        ).scalar_one()
        if not size:
            raise ValueError(f"--class-year {year}: no alumni of that class are imported")
        if (
            where
            and not connection.execute(
                sa.select(sa.func.count()).where(
                    _A.c.class_year == year,
                    *(_A.c[column].in_(list(values)) for column, values in where.items()),
                )
            ).scalar_one()
        ):
            shown = " ".join(f"--where {k}={v}" for k, vs in where.items() for v in vs)
            raise ValueError(f"{shown}: nobody in the class of {year} matches; nothing made")
        campaign_id = connection.execute(
            sa.insert(_C)
            .values(
                name=name,
                class_year=year,
                programme=programme,
                template=template,
                purpose=purpose,
                send_at=send_at,
                not_before=start,
                channel="email" if social is None else "social",
                **(social.columns() if social is not None else {}),
                audience_where={k: list(v) for k, v in where.items()} if where else None,
                audience_reason=where_reason,
                max_recipients=max_recipients,
                status="draft",
                created_at=utcnow(),
            )
            .returning(_C.c.id)
        ).scalar_one()
        created.append((campaign_id, year))
    return created


def set_status(
    engine: Engine, campaign_id: int, status: CampaignStatus, note: str | None = None
) -> None:
    """Move a campaign to ``status`` with ``note``: why it stopped, or why its last run stopped
    short (None: nothing to say, any earlier note is cleared). A stopped campaign stays
    stopped, its note kept, whatever a run says later: only ``resume`` reopens it."""
    values: dict[str, Any] = {"status": status, "note": note[:2000] if note else None}
    if status is CampaignStatus.done:
        values["finished_at"] = utcnow()
    query = sa.update(_C).where(_C.c.id == campaign_id)
    if status is not CampaignStatus.stopped:
        query = query.where(_C.c.status != CampaignStatus.stopped)
    with write_transaction(engine) as connection:
        connection.execute(query.values(**values))


def stop_run(
    engine: Engine,
    channel: ledger.Channel,
    campaign_id: int,
    row_ids: Sequence[int],
    *,
    worker: str,
    cause: BaseException,
) -> None:
    """A transport that cannot work (a server refused, credentials refused): give the run's
    claimed rows back unspent and say why in the campaign's note; the caller then raises."""
    ledger.release(engine, channel, row_ids, worker=worker)
    set_status(engine, campaign_id, CampaignStatus.sending, f"the last run stopped: {cause}")


class NotStopped(ValueError):
    """``resume`` was asked for a campaign that is not stopped; nothing was changed."""


def resume(engine: Engine, campaign_id: int, preflight: Callable[[], object]) -> None:
    """Take a stopped campaign out of stopped once its preflight passes again.

    ``preflight`` renders every unsent recipient of the campaign as its flow does (and stops
    it again, with the grouped report as its note, when one still fails); it runs while the
    campaign is still stopped, so no scheduled run sends anything before it has passed. Then
    the campaign is planned again, its note cleared, and the caller goes on as a run does.

    Raises:
        LookupError: no such campaign.
        NotStopped: the campaign is not stopped (the message says its status); nothing changed.
        Exception: what ``preflight`` raised; the campaign stays stopped.
    """
    with engine.connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
    if campaign.status != CampaignStatus.stopped:
        raise NotStopped(
            f"campaign {campaign_id} is not stopped (it is {campaign.status}): nothing to "
            f"resume, nothing changed; `alumni campaign run {campaign_id}` sends what is due"
        )
    preflight()
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(_C)
            .where(_C.c.id == campaign_id, _C.c.status == CampaignStatus.stopped)
            .values(status=CampaignStatus.planned, note=None)
        )


def listing(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(_C).order_by(_C.c.id)))


@dataclass(frozen=True)
class Preview:
    to: str
    subject: str
    locale: str
    text: str
    html: str
    raw: bytes


def preview(engine: Engine, campaign_id: int, *, alumnus: str | None = None) -> Preview:
    """Render the campaign's message for one alum (by external id; default the first)."""
    now = utcnow()
    with engine.connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
        query = sa.select(_A).where(_A.c.class_year == campaign.class_year)
        query = query.where(_A.c.external_id == alumnus) if alumnus else query
        person = connection.execute(query.order_by(_A.c.id).limit(1)).first()
        if person is None:
            who = f"alumnus {alumnus!r}" if alumnus else "any alumnus"
            raise LookupError(f"{who} not found in the class of {campaign.class_year}")
        email = (
            connection.execute(
                sa.select(_CP.c.value)
                .where(
                    _CP.c.alumnus_id == person.id,
                    _CP.c.kind == "email",
                    _CP.c.superseded_at.is_(None),
                )
                .order_by(_CP.c.id.desc())
            ).scalar()
            or "no-email@invalid.example"
        )
        kit = kit_for(connection, campaign, settings=get_settings(), now=now)
    row = ledger.Claimed(
        delivery_id=0,
        alumnus_id=person.id,
        address=email,
        message_id=f"<preview.{campaign_id}.{person.id}@{kit.domain}>",
        locale=person.locale,
        first_name=person.first_name,
        last_name=person.last_name,
        class_year=person.class_year,
        programme=person.programme,
        city=person.city,
        country=person.country,
        attempts=0,
    )
    rendered = kit.store.render_email(campaign.template, person.locale, kit.context(row))
    mail = kit.compose(row, now=now)
    return Preview(
        to=email,
        subject=rendered.subject,
        locale=rendered.locale,
        text=rendered.text,
        html=rendered.html,
        raw=mail.data,
    )


def kind_of(connection: sa.Connection, campaign_id: int) -> CampaignKind:
    """What a campaign is, hence which flow runs it: ``calendar`` when an event mailing names it
    (an invite, update or reminder: flows/event_invites.py), ``social`` for posts
    (flows/social.py), ``direct`` for direct messages on a network (channel ``mastodon``:
    flows/direct_messages.py), else ``email`` (flows/campaign.py).

    Raises:
        LookupError: no campaign has that id (the message says where the ids are shown).
    """
    found = connection.execute(
        sa.select(_C.c.channel, _M.c.id.label("mailing"))
        .outerjoin(_M, _M.c.campaign_id == _C.c.id)
        .where(_C.c.id == campaign_id)
    ).first()
    if found is None:
        raise LookupError(f"no campaign {campaign_id}: `alumni campaign list` shows the ids")
    if found.mailing is not None:
        return "calendar"
    if found.channel in NETWORKS:
        return "direct"
    return "social" if found.channel == "social" else "email"
