"""The email of a monthly digest: a campaign email (``CampaignKit``) listing the news the alum
was skipped for that month (``alumni.delivery.digest`` says which).

``DigestKit`` adds ``digest`` to each recipient's context (``templates/email/digest/``)::

    digest:   month ("2026-11"), month_name (e.g. "noviembre de 2026", in the email's
              language), items: a list, in the order the campaigns were planned, of
              name (the campaign's), subject and text (its email rendered for this alum)

``digest`` is an object, not a dict, so that ``digest.items`` in a template is the list (on a
dict, Jinja would find the ``items`` method first).

Each item is the item campaign's own template rendered for this alum in their locale, with the
same context the campaign gave everyone else (``campaign.name`` its own); its text stops at
the signature line (``--``), so the footer is not repeated per item. An item whose template
fails for this alum is left out and logged, and the digest goes with the rest; an alum none of
whose items renders fails the preflight like any unrenderable recipient, naming the item's
problem. Everything else (headers, VERP, List-Unsubscribe, DKIM) is the campaign's compose.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from alumni.delivery import ledger
from alumni.delivery.digest import DigestItem, Month, digest_items
from alumni.delivery.sending import CampaignKit
from alumni.messages.locale_format import format_month
from alumni.messages.rendering import RenderError
from alumni.settings import Settings

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RenderedItem:
    """One item of a digest as its template shows it."""

    name: str  # the item campaign's name
    subject: str
    text: str  # up to the item email's signature line


@dataclass(frozen=True, slots=True)
class DigestContext:
    """The ``digest`` of a recipient's template context."""

    month: str  # YYYY-MM
    month_name: str  # as the email's language writes it
    items: tuple[RenderedItem, ...]


@dataclass(kw_only=True)
class DigestKit(CampaignKit):
    """What one digest campaign's messages share: its month and every alum's items."""

    month: Month
    items: dict[int, list[DigestItem]]  # alumnus id -> their items, in order

    @classmethod
    def for_campaign(
        cls, connection: Connection, campaign: Any, *, settings: Settings, now: datetime
    ) -> DigestKit:
        """Read the month's items of the digest ``campaign`` and what its messages share.

        Raises:
            ValueError: the campaign was not made by ``plan_digest`` (no month), or ALUMNI_FROM
                has no address.
        """
        if campaign.not_before is None:
            raise ValueError(
                f"campaign {campaign.id} uses the digest template but is not a monthly digest; "
                "digests are made by `alumni digest send`"
            )
        month = Month.ending_at(campaign.not_before)
        return cls.build(
            connection,
            campaign,
            settings=settings,
            now=now,
            month=month,
            items=digest_items(connection, campaign.class_year, month),
        )

    def context(self, row: ledger.Claimed, token: str | None = None) -> dict[str, Any]:
        """The campaign's context of one recipient plus ``digest``.

        Raises:
            RenderError: none of the alum's items could be rendered (the first problem named).
        """
        context = super().context(row, token)
        context["digest"] = DigestContext(
            month=str(self.month),
            month_name=self._month_name(row.locale),
            items=self.rendered_items(row, context),
        )
        return context

    def rendered_items(
        self, row: ledger.Claimed, context: dict[str, Any]
    ) -> tuple[RenderedItem, ...]:
        """The alum's items, each rendered from its own template with ``context``."""
        rendered: list[RenderedItem] = []
        failures: list[RenderError] = []
        items = self.items.get(row.alumnus_id, [])
        for item in items:
            try:
                email = self.store.render_email(
                    item.template, row.locale, {**context, "campaign": {"name": item.name}}
                )
            except RenderError as exc:
                _log.warning(
                    "digest campaign %d, delivery %d: item campaign %d left out: %s",
                    self.campaign_id,
                    row.delivery_id,
                    item.campaign_id,
                    exc,
                )
                failures.append(exc)
                continue
            rendered.append(RenderedItem(item.name, email.subject, _body(email.text)))
        if not rendered:
            problem = f": {failures[0]}" if failures else ""
            raise RenderError(
                template=f"{self.family}/{self.template}",
                locale=row.locale,
                variable="digest.items",
                message=(
                    f"none of this alum's {len(items)} item(s) could be rendered{problem}; "
                    "correct that template (the item campaign's own)"
                ),
            )
        return tuple(rendered)

    def _month_name(self, locale: str | None) -> str:
        """The month as the email's language writes it: "November 2026", "novembre 2026"."""
        try:
            language = self.store.email_locale(self.template, locale, family=self.family)
        except RenderError:
            language = self.store.default_locale  # the render reports the missing template
        return format_month(self.month.start, language)


def _body(text: str) -> str:
    """An item email's text up to its signature line (``--``): the footer stays the digest's."""
    lines = text.splitlines()
    end = next((n for n, line in enumerate(lines) if line.rstrip() == "--"), len(lines))
    return "\n".join(lines[:end]).strip()
