"""The email of a class's monthly digest to its ambassadors: a campaign email
(``CampaignKit``) with what the digest tells and each ambassador's own class-page link.

The digest (``alumni.reach.ambassador_digest``) is a campaign of its own per class and month,
template ``ambassador_digest``, tied to an ``AmbassadorDigest`` row whose ``context`` is what it
tells, fixed when it was made, so a retry sends the same words. It adds to each recipient's
context::

    class_digest: year, events (title, when: in the reader's language and the event's zone,
                  place, online_url), reach (contactable, reachable, by_email, by_social,
                  unreachable, percent), lost (names only), ideas (summary, status)
    links.ambassador   the signed link to their class page (``alumni.messages.ambassador_links``)

(``links.tip``, every message's link to the tip form of the lost-alumni drive, is there too.)

An alum who is no longer an ambassador of the class when it is sent cannot be rendered: the
preflight names them and nothing goes out. Everything else is the campaign's compose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from sqlalchemy.engine import Connection

from alumni.delivery import ledger
from alumni.delivery.sending import CampaignKit
from alumni.messages.ambassador_links import ambassador_link
from alumni.messages.rendering import RenderError
from alumni.models import Ambassador, AmbassadorDigest, table_of
from alumni.settings import Settings

__all__ = ["AMBASSADOR_DIGEST_TEMPLATE", "AmbassadorDigestKit", "ambassador_digest_of"]

AMBASSADOR_DIGEST_TEMPLATE: Final = "ambassador_digest"
_AD = table_of(AmbassadorDigest)
_AM = table_of(Ambassador)


def ambassador_digest_of(connection: Connection, campaign_id: int) -> Any | None:
    """The ``AmbassadorDigest`` row a campaign sends, or None for any other campaign."""
    return connection.execute(sa.select(_AD).where(_AD.c.campaign_id == campaign_id)).first()


@dataclass(frozen=True, slots=True)
class ClassDigest:
    """The ``class_digest`` of a recipient's template context (an object: ``.items`` would
    be a dict's method)."""

    year: int
    events: tuple[dict[str, str], ...]
    reach: dict[str, int]
    lost: tuple[str, ...]
    ideas: tuple[dict[str, str], ...]


@dataclass(kw_only=True)
class AmbassadorDigestKit(CampaignKit):
    """What one class's ambassador digest needs: what it tells and whose link is whose."""

    told: dict[str, Any]  # AmbassadorDigest.context
    roles: dict[int, int]  # alumnus id -> their Ambassador row (what their link signs)

    @classmethod
    def for_digest(
        cls,
        connection: Connection,
        campaign: Any,
        digest: Any,
        *,
        settings: Settings,
        now: datetime,
    ) -> AmbassadorDigestKit:
        """Read the digest and the class's roles.

        Raises:
            ValueError: ALUMNI_FROM has no address.
        """
        roles = {
            r.alumnus_id: r.id
            for r in connection.execute(
                sa.select(_AM.c.id, _AM.c.alumnus_id)
                .where(_AM.c.class_year == campaign.class_year)
                .order_by(_AM.c.id.desc())
            )
        }
        return cls.build(
            connection, campaign, settings=settings, now=now, told=dict(digest.context), roles=roles
        )

    def context(self, row: ledger.Claimed, token: str | None = None) -> dict[str, Any]:
        """The campaign's context of one recipient plus ``class_digest`` and their links.

        Raises:
            RenderError: the recipient is no longer an ambassador of the class.
        """
        role = self.roles.get(row.alumnus_id)
        if role is None:
            raise RenderError(
                template=f"{self.family}/{self.template}",
                locale=row.locale,
                variable="links.ambassador",
                message=(
                    f"alumnus {row.alumnus_id} is no longer an ambassador of the class: "
                    "run the digest again to leave them out"
                ),
            )
        context = super().context(row, token)
        context["links"]["ambassador"] = ambassador_link(
            self.key, self.base_url, role, now=self.links_from
        )
        told = self.told
        context["class_digest"] = ClassDigest(
            year=int(told["class_year"]),
            events=tuple(
                {
                    "title": e["title"],
                    "when": self._when(e["starts_at"], e["timezone"], row.locale),
                    "place": e["place"],
                    "online_url": e["online_url"],
                }
                for e in told["events"]
            ),
            reach=dict(told["reach"]),
            lost=tuple(told["lost"]),
            ideas=tuple(told["ideas"]),
        )
        return context

    def _when(self, starts_at: str, tz: str, locale: str | None) -> str:
        """An event's start in the event's zone, as the email's language writes it."""
        try:
            language = self.store.email_locale(self.template, locale, family=self.family)
            babel_locale = Locale.parse(language.replace("_", "-"), sep="-")
        except (RenderError, UnknownLocaleError, ValueError):
            babel_locale = Locale.parse("en")
        moment = datetime.fromisoformat(starts_at).astimezone(ZoneInfo(tz))
        return f"{format_datetime(moment, 'medium', locale=babel_locale)} ({tz})"
