"""Event mailings: who gets an invite, update, cancellation, reminder, thank-you or waitlist
notice, and the email each one is.

Every mailing is a Campaign of its own (channel ``calendar``) linked to its event by an
EventMailing row whose ``key`` is unique per event (``invite``, ``update-3``, ``cancel``,
``reminder-7``, ``thanks``, ``waitlist``, ``place``), so each alum gets one Delivery per mailing
and the outbox's claim/record machinery sends it exactly once. The invite reaches the whole
class through ``ledger.plan`` (purpose ``events``: it counts toward the contact budget); the
other mailings go to those the invite reached, chosen by their answers, as service messages
that the budget never blocks.

Templates live under ``templates/invite/<kind>/<locale>.{subject,txt,html}.j2`` and receive
``alum``, ``office``, ``event`` (title, place, online_url, when_local, when_event, same_zone,
online_first, sequence) and ``links`` (yes, no, maybe, unsubscribe).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy.engine import Connection, Engine

from alumni.db import bulk_insert, write_transaction
from alumni.delivery import ledger
from alumni.delivery.audience import Budget
from alumni.delivery.send_time import due_at, zone
from alumni.delivery.sending import UNSUBSCRIBE, CampaignKit
from alumni.events.calendar_codec import Method, build_invite
from alumni.events.schedule import invite_event, load_event
from alumni.events.times import describe_time
from alumni.messages.mime import MimePart, make_message_id, verp_address
from alumni.messages.rendering import PARTS, locale_candidates
from alumni.messages.signing import make_token
from alumni.models import (
    Alumnus,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    EventMailing,
    EventStatus,
    Rsvp,
    table_of,
)
from alumni.people.suppression import suppressed_scopes
from alumni.settings import Settings
from connectors.mail import OutgoingMail

CHANNEL = "calendar"
KINDS = ("invite", "update", "cancel", "reminder", "thanks", "waitlist", "place")
ANSWERS = ("yes", "no", "maybe")
RSVP = "rsvp"
REMINDER_DAYS = (7, 1)  # reminders this many days before the start
THANKS_WITHIN = timedelta(days=14)  # after this long past the end, no thank-you goes out
# The mailings that carry the calendar object, and with which iTIP method.
_METHODS: dict[str, Method] = {"invite": "REQUEST", "update": "REQUEST", "cancel": "CANCEL"}

_A = table_of(Alumnus)
_C = table_of(Campaign)
_D = table_of(Delivery)
_M = table_of(EventMailing)
_R = table_of(Rsvp)


def plan_options(settings: Settings) -> ledger.PlanOptions:
    """The planning rules of ``ALUMNI_*`` (budget, consent, Message-ID domain)."""
    return ledger.PlanOptions(
        office_timezone=settings.office_timezone,
        budget=Budget(limit=settings.contact_budget, days=settings.contact_budget_days),
        require_consent=settings.require_consent,
        message_id_domain=settings.sender.rsplit("@", 1)[-1].strip("> "),
    )


def kind_of(key: str) -> str:
    """The template kind of a mailing key: ``reminder`` for ``reminder-7``."""
    kind = key.split("-", 1)[0]
    if kind not in KINDS:
        raise ValueError(f"mailing {key!r}: the kind must be one of {', '.join(KINDS)}")
    return kind


def due_mailings(
    *, starts_at: datetime, ends_at: datetime, status: str, now: datetime
) -> list[str]:
    """The reminder or thank-you mailing keys an event calls for at ``now`` (pure).

    Only the nearest reminder is due (an event made two days ahead gets ``reminder-1`` only);
    a thank-you is due from the end until ``THANKS_WITHIN`` after.
    """
    if status != EventStatus.scheduled:
        return []
    if ends_at <= now < ends_at + THANKS_WITHIN:
        return ["thanks"]
    if now >= starts_at:
        return []
    for days in sorted(REMINDER_DAYS):
        if starts_at - timedelta(days=days) <= now:
            return [f"reminder-{days}"]
    return []


@dataclass(frozen=True)
class MailingPlan:
    """What ``plan_mailing`` did."""

    campaign_id: int
    key: str
    added: int


def mailing_of(engine: Engine, campaign_id: int) -> tuple[int, str] | None:
    """The (event id, mailing key) a campaign sends, or None for an ordinary campaign."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(_M.c.event_id, _M.c.key).where(_M.c.campaign_id == campaign_id)
        ).first()
    return (found.event_id, found.key) if found else None


def mailing_campaign(engine: Engine, event_id: int, key: str, *, now: datetime) -> tuple[int, bool]:
    """Return the campaign of the event's mailing ``key``, creating it; and whether it is new."""
    kind = kind_of(key)
    with write_transaction(engine) as connection:
        found = connection.execute(
            sa.select(_M.c.campaign_id).where(_M.c.event_id == event_id, _M.c.key == key)
        ).scalar()
        if found is not None:
            return int(found), False
        event = load_event(connection, event_id)
        campaign_id: int = connection.execute(
            sa.insert(_C)
            .values(
                name=f"event {event_id} {key}: {event.title}"[:200],
                class_year=event.class_year,
                channel=CHANNEL,
                template=kind,
                purpose="events" if kind == "invite" else "service",
                status=CampaignStatus.draft,
                created_at=now,
            )
            .returning(_C.c.id)
        ).scalar_one()
        connection.execute(
            sa.insert(_M).values(
                event_id=event_id, campaign_id=campaign_id, kind=kind, key=key, created_at=now
            )
        )
    return campaign_id, True


def plan_mailing(
    engine: Engine,
    event_id: int,
    key: str,
    *,
    now: datetime,
    options: ledger.PlanOptions,
    only: Sequence[int] | None = None,
) -> MailingPlan:
    """Write the delivery rows of one mailing about an event. Safe to run again.

    Args:
        key: ``invite``, ``update-<sequence>``, ``cancel``, ``reminder-<days>``, ``thanks``,
            ``waitlist`` or ``place``.
        only: for ``waitlist`` and ``place``, the alumni to tell.

    Returns:
        The mailing's campaign and how many deliveries were added now.
    """
    campaign_id, _ = mailing_campaign(engine, event_id, key, now=now)
    kind = kind_of(key)
    if kind == "invite":
        summary = ledger.plan(engine, campaign_id, now=now, options=options)
        return MailingPlan(campaign_id, key, summary.added)
    with write_transaction(engine) as connection:
        people = _followers(connection, event_id, kind, only)
        done = set(
            connection.execute(
                sa.select(_D.c.alumnus_id).where(_D.c.campaign_id == campaign_id)
            ).scalars()
        )
        people = [p for p in people if p.alumnus_id not in done]
        blocked = suppressed_scopes(connection, [("email", p.address) for p in people])
        rows = []
        for person in people:
            reason = None
            if person.status != "active":
                reason = person.status
            elif "all" in blocked.get(("email", person.address), ()):
                reason = "suppressed"
            rows.append(
                {
                    "campaign_id": campaign_id,
                    "alumnus_id": person.alumnus_id,
                    "channel": CHANNEL,
                    "address": None if reason else person.address,
                    "locale": person.locale,
                    "timezone": person.timezone,
                    "counts_toward_budget": False,
                    "status": DeliveryStatus.skipped if reason else DeliveryStatus.pending,
                    "skip_reason": reason,
                    # Not in the alum's night, like every other message.
                    "due_at": None
                    if reason
                    else due_at(
                        now=now,
                        send_at=None,
                        tz=zone(person.timezone, options.office_timezone),
                    ),
                    "attempts": 0,
                    "maybe_duplicate": False,
                    "message_id": None
                    if reason
                    else make_message_id(
                        f"{campaign_id}.{person.alumnus_id}.{CHANNEL}", options.message_id_domain
                    ),
                }
            )
        bulk_insert(connection, _D, rows)
        connection.execute(
            sa.update(_C)
            .where(_C.c.id == campaign_id, _C.c.status == CampaignStatus.draft)
            .values(status=CampaignStatus.planned, planned_at=now)
        )
    return MailingPlan(campaign_id, key, len(rows))


def _followers(
    connection: Connection, event_id: int, kind: str, only: Sequence[int] | None
) -> list[Any]:
    """Those the event's invite reached, with their answer, filtered for a follow-up ``kind``."""
    invite = (
        sa.select(_M.c.campaign_id)
        .where(_M.c.event_id == event_id, _M.c.key == "invite")
        .scalar_subquery()
    )
    query = (
        sa.select(
            _D.c.alumnus_id,
            _D.c.address,
            _D.c.locale,
            _D.c.timezone,
            _A.c.status,
            _R.c.answer,
            _R.c.waitlisted_at,
            _R.c.attended,
        )
        .join(_A, _A.c.id == _D.c.alumnus_id)
        .outerjoin(_R, sa.and_(_R.c.alumnus_id == _D.c.alumnus_id, _R.c.event_id == event_id))
        .where(_D.c.campaign_id == invite, _D.c.status == DeliveryStatus.sent)
        .order_by(_D.c.alumnus_id)
    )
    if only is not None:
        query = query.where(_D.c.alumnus_id.in_(list(only)))
    rows = list(connection.execute(query))
    confirmed = [r for r in rows if r.answer == "yes" and r.waitlisted_at is None]
    if kind in ("update", "cancel"):
        return [r for r in rows if r.answer != "no"]
    if kind == "reminder":
        return [*confirmed, *(r for r in rows if r.answer is None)]
    if kind == "thanks":
        return [r for r in confirmed if r.attended is not False]
    return rows  # waitlist / place: the alumni named in ``only``


def cancel_pending(engine: Engine, event_id: int) -> int:
    """Skip the unsent deliveries of the event's mailings other than the cancellation."""
    with write_transaction(engine) as connection:
        campaigns = sa.select(_M.c.campaign_id).where(
            _M.c.event_id == event_id, _M.c.key != "cancel"
        )
        result = connection.execute(
            sa.update(_D)
            .where(_D.c.campaign_id.in_(campaigns), _D.c.status == DeliveryStatus.pending)
            .values(status=DeliveryStatus.skipped, skip_reason="event_cancelled", due_at=None)
        )
    return int(result.rowcount)


class InviteTemplates:
    """The ``templates/invite/<kind>/<locale>.<part>.j2`` files, sandboxed like email templates."""

    def __init__(self, root: Path, *, default_locale: str = "en") -> None:
        common: dict[str, Any] = {
            "loader": FileSystemLoader(root),
            "undefined": StrictUndefined,
            "keep_trailing_newline": True,
            "trim_blocks": True,
            "lstrip_blocks": True,
        }
        self.root = Path(root)
        self.default_locale = default_locale
        self._lock = threading.Lock()
        self._locales: dict[tuple[str, str | None], str] = {}
        self._text = ImmutableSandboxedEnvironment(autoescape=False, **common)
        self._html = ImmutableSandboxedEnvironment(autoescape=True, **common)

    def locale_for(self, kind: str, locale: str | None) -> str:
        """The locale the ``kind`` email is written in for ``locale`` (the fallback's if none)."""
        candidates = locale_candidates(locale, self.default_locale)
        with self._lock:
            found = self._locales.get((kind, locale))
        if found is None:
            found = next(
                (
                    c
                    for c in candidates
                    if all((self.root / kind / f"{c}.{p}.j2").is_file() for p in PARTS)
                ),
                self.default_locale,
            )
            with self._lock:
                self._locales[(kind, locale)] = found
        return found

    def render(
        self, kind: str, locale: str | None, context: dict[str, Any]
    ) -> tuple[str, str, str]:
        """Return (subject, text, html).

        Raises:
            ValueError: naming the template and locale when a file is missing or fails.
        """
        try:
            prefix = f"{kind}/{self.locale_for(kind, locale)}"
            subject = self._text.get_template(f"{prefix}.subject.j2").render(context)
            text = self._text.get_template(f"{prefix}.txt.j2").render(context)
            html = self._html.get_template(f"{prefix}.html.j2").render(context)
        except TemplateError as exc:
            raise ValueError(
                f"invite template {kind!r} for locale {locale or self.default_locale!r}: {exc}; "
                f"fix templates/invite/{kind}/"
            ) from None
        return " ".join(subject.split()), text, html


@dataclass
class EventKit:
    """What one event mailing's messages share, built once per batch.

    Holds the campaign's ``CampaignKit`` for what every mailing shares (sender, MIME skeleton,
    signing key, office) and adds the event, its templates and the recipients' zones.
    """

    base: CampaignKit
    event: Any
    kind: str
    templates: InviteTemplates
    timezones: dict[int, str | None]

    @classmethod
    def for_mailing(
        cls, connection: Connection, campaign_id: int, *, settings: Settings, now: datetime
    ) -> EventKit:
        """Read everything the mailing's messages share."""
        campaign = ledger.load_campaign(connection, campaign_id)
        mailing = connection.execute(sa.select(_M).where(_M.c.campaign_id == campaign_id)).first()
        if mailing is None:
            raise LookupError(f"campaign {campaign_id} is not an event mailing")
        timezones = dict(
            connection.execute(
                sa.select(_D.c.alumnus_id, _D.c.timezone).where(_D.c.campaign_id == campaign_id)
            ).all()
        )
        return cls(
            base=CampaignKit.build(connection, campaign, settings=settings, now=now),
            event=load_event(connection, mailing.event_id),
            kind=mailing.kind,
            templates=InviteTemplates(
                settings.templates_dir / "invite", default_locale=settings.default_locale
            ),
            timezones=timezones,
        )

    def rsvp_link(self, delivery_id: int, answer: str) -> str:
        """The signed link that answers ``answer`` for this delivery, valid until the end."""
        token = make_token(
            self.base.key, RSVP, f"{delivery_id}:{answer}", expires_at=self.event.ends_at
        )
        return f"{self.base.base_url}/rsvp/{token}"

    def event_context(self, row: ledger.Claimed) -> dict[str, Any]:
        """The ``event`` of one recipient's template context."""
        event = self.event
        times = describe_time(
            event.starts_at,
            event.ends_at,
            event_tz=event.timezone,
            viewer_tz=self.timezones.get(row.alumnus_id),
            # The email's language, so a fallback English email shows English dates.
            locale=self.templates.locale_for(self.kind, row.locale),
        )
        abroad = bool(event.country and row.country and row.country != event.country)
        return {
            "title": event.title,
            "description": event.description,
            "place": event.place or "",
            "online_url": event.online_url or "",
            "when_local": times.local_text,
            "when_event": times.event_text,
            "same_zone": times.same_zone,
            "online_first": bool(event.online_url) and (abroad or not event.place),
            "sequence": event.sequence,
        }

    def context(self, row: ledger.Claimed, token: str | None = None) -> dict[str, Any]:
        """The whole template context of one recipient (see the module docstring)."""
        base = self.base.context(row, token)
        links = dict(base["links"])
        links.update({answer: self.rsvp_link(row.delivery_id, answer) for answer in ANSWERS})
        return {**base, "links": links, "event": self.event_context(row)}

    def compose(self, row: ledger.Claimed, *, now: datetime) -> OutgoingMail:
        """Render and assemble one recipient's message, with the calendar object if any.

        Raises:
            ValueError: a template, the invite or the MIME checks refused it (named).
        """
        base = self.base
        token = make_token(base.key, UNSUBSCRIBE, str(row.delivery_id))
        context = self.context(row, token)
        subject, text, html = self.templates.render(self.kind, row.locale, context)
        name = f"{row.first_name} {row.last_name}".strip()
        alternatives: list[MimePart] = []
        attachments: list[MimePart] = []
        method = _METHODS.get(self.kind)
        if method is not None:
            organizer = base.sender.name or base.shared["office"]["name"]
            ics = build_invite(
                invite_event(
                    self.event, organizer_email=base.sender.address, organizer_name=organizer
                ),
                method=method,
                attendee_email=row.address,
                attendee_name=name,
                now=now,
            )
            alternatives.append(MimePart(f"text/calendar; method={method}", ics))
            attachments.append(MimePart("application/ics", ics, filename="invite.ics"))
        data = base.skeleton.build(
            to_address=row.address,
            to_name=name,
            subject=subject,
            text=text,
            html=html,
            message_id=row.message_id,
            date=now,
            unsubscribe_url=context["links"]["unsubscribe"],
            unsubscribe_mailto=(
                f"mailto:{base.sender.address}?subject={quote('unsubscribe ' + token)}"
            ),
            extra_alternatives=alternatives,
            attachments=attachments,
        )
        return OutgoingMail(
            key=row.delivery_id,
            envelope_from=verp_address(base.bounce_local, base.domain, f"d{row.delivery_id}"),
            recipient=row.address,
            data=data,
        )

    def preflight(self, rows: Iterable[ledger.Claimed]) -> int:
        """Render every recipient without sending; raise ValueError naming the first failure."""
        count = 0
        for row in rows:
            try:
                self.templates.render(self.kind, row.locale, self.context(row))
            except ValueError as exc:
                raise ValueError(f"delivery {row.delivery_id}: {exc}") from None
            count += 1
        return count
