"""The email each event mailing is: its templates, its per-recipient context (RSVP links, the
event's times in the reader's zone) and, for invites, updates and cancellations, the calendar
object (iTIP REQUEST or CANCEL) as an extra part.

Templates live under ``templates/invite/<kind>/<locale>.{subject,txt,html}.j2`` and receive
``alum``, ``office``, ``event`` (title, place, online_url, when_local, when_event, same_zone,
online_first, sequence) and ``links`` (yes, no, maybe, unsubscribe).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy.engine import Connection

from alumni.delivery import ledger
from alumni.delivery.sending import UNSUBSCRIBE, CampaignKit
from alumni.events.calendar_codec import Method, build_invite
from alumni.events.mailings import ANSWERS, RSVP
from alumni.events.schedule import invite_event, load_event
from alumni.events.times import describe_time
from alumni.messages.mime import MimePart, verp_address
from alumni.messages.rendering import PARTS, locale_candidates
from alumni.messages.signing import make_token
from alumni.models import Delivery, EventMailing, table_of
from alumni.settings import Settings
from connectors.mail import OutgoingMail

# The mailings that carry the calendar object, and with which iTIP method.
_METHODS: dict[str, Method] = {"invite": "REQUEST", "update": "REQUEST", "cancel": "CANCEL"}

_D = table_of(Delivery)
_M = table_of(EventMailing)


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
