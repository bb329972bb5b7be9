"""The email each event mailing is: a campaign email (``CampaignKit``) with the event added.

``EventKit`` is a ``CampaignKit`` whose templates are ``templates/invite/<kind>/<locale>.
{subject,txt,html}.j2`` in the same ``TemplateStore`` as campaigns (same sandbox, same refusal
of printed ``None``, same ``RenderError`` and preflight listing every failing recipient). It adds,
through the kit's two hooks:

- to each recipient's context: ``event`` (title, description, place, online_url, when_local,
  when_event, same_zone, online_first, sequence, with times in the reader's zone and the email's
  language) and the RSVP links ``links.yes``, ``links.no``, ``links.maybe``;
- to invites, updates and cancellations: the calendar object (iTIP REQUEST or CANCEL) as a
  ``text/calendar`` alternative and an ``invite.ics`` attachment.

Everything else (headers, VERP, List-Unsubscribe, DKIM) is the campaign's compose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery import ledger
from alumni.delivery.sending import NO_EXTRA_PARTS, CampaignKit, ExtraParts
from alumni.events.calendar_codec import Method, build_invite
from alumni.events.mailings import ANSWERS, RSVP
from alumni.events.schedule import invite_event, load_event
from alumni.events.times import describe_time
from alumni.messages.locale_format import reading_locale
from alumni.messages.mime import MimePart
from alumni.messages.rendering import INVITE, RenderError
from alumni.messages.signing import make_token
from alumni.models import Delivery, EventMailing, table_of
from alumni.settings import Settings

# The mailings that carry the calendar object, and with which iTIP method.
_METHODS: dict[str, Method] = {"invite": "REQUEST", "update": "REQUEST", "cancel": "CANCEL"}

_D = table_of(Delivery)
_M = table_of(EventMailing)


@dataclass(kw_only=True)
class EventKit(CampaignKit):
    """What one event mailing's messages share, built once per batch.

    ``template`` is the mailing's kind (``invite``, ``reminder``, ...) and ``family`` is
    ``invite``; ``compose`` and ``preflight`` are the campaign's.
    """

    event: Any
    timezones: dict[int, str | None]  # alumnus id -> the zone the delivery was planned in

    @classmethod
    def for_mailing(
        cls, connection: Connection, campaign_id: int, *, settings: Settings, now: datetime
    ) -> EventKit:
        """Read everything the mailing's messages share.

        Raises:
            LookupError: the campaign is not an event mailing.
            ValueError: ALUMNI_FROM has no address.
        """
        campaign = ledger.load_campaign(connection, campaign_id)
        mailing = connection.execute(sa.select(_M).where(_M.c.campaign_id == campaign_id)).first()
        if mailing is None:
            raise LookupError(f"campaign {campaign_id} is not an event mailing")
        timezones = dict(
            connection.execute(
                sa.select(_D.c.alumnus_id, _D.c.timezone).where(_D.c.campaign_id == campaign_id)
            ).all()
        )
        # The campaign's template is the mailing's kind (``mailings.mailing_campaign``).
        return cls.build(
            connection,
            campaign,
            settings=settings,
            now=now,
            family=INVITE,
            event=load_event(connection, mailing.event_id),
            timezones=timezones,
        )

    def rsvp_link(self, delivery_id: int, answer: str) -> str:
        """The signed link that answers ``answer`` for this delivery, valid until the end."""
        token = make_token(self.key, RSVP, f"{delivery_id}:{answer}", expires_at=self.event.ends_at)
        return f"{self.base_url}/rsvp/{token}"

    def event_context(self, row: ledger.Claimed) -> dict[str, Any]:
        """The ``event`` of one recipient's template context."""
        event = self.event
        try:
            # The email's language, so a fallback English email shows English dates.
            language = self.store.email_locale(self.template, row.locale, family=self.family)
        except RenderError:
            # No locale to render in: the render reports that, naming the template.
            language = self.store.default_locale
        times = describe_time(
            event.starts_at,
            event.ends_at,
            event_tz=event.timezone,
            viewer_tz=self.timezones.get(row.alumnus_id),
            locale=reading_locale(language, row.locale),  # ar-EG refines ar, en-GB en
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
        """The campaign's context of one recipient plus ``event`` and the RSVP links."""
        context = super().context(row, token)
        context["links"] = {
            **context["links"],
            **{answer: self.rsvp_link(row.delivery_id, answer) for answer in ANSWERS},
        }
        context["event"] = self.event_context(row)
        return context

    def extra_parts(self, row: ledger.Claimed, *, now: datetime) -> ExtraParts:
        """The calendar object for invites, updates and cancellations; nothing for the rest.

        Raises:
            ValueError: the calendar codec refused the event or the attendee (named).
        """
        method = _METHODS.get(self.template)
        if method is None:
            return NO_EXTRA_PARTS
        organizer = self.sender.name or self.shared["office"]["name"]
        ics = build_invite(
            invite_event(self.event, organizer_email=self.sender.address, organizer_name=organizer),
            method=method,
            attendee_email=row.address,
            attendee_name=f"{row.first_name} {row.last_name}".strip(),
            now=now,
        )
        return ExtraParts(
            alternatives=(MimePart(f"text/calendar; method={method}", ics),),
            attachments=(MimePart("application/ics", ics, filename="invite.ics"),),
        )
