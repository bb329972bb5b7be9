"""The email of a notice about an alum's own request: a campaign email (``CampaignKit``) with the
request added.

A notice (``alumni.requests.notices.queue_notice``) is a campaign of its own, tied to its
request by a ``RequestNotice`` row, sent to one alum. Its templates are
``templates/request/<kind>/<locale>.{subject,txt,html}.j2`` (``ack``, ``update``, ``waiting``,
``resumed``, ``closed``, ``decision``) in the same ``TemplateStore`` as campaigns. It adds to the
recipient's context:

- ``request``: what the notice says, fixed when it was queued (``RequestNotice.context``: the
  type's name in the alum's language, the deadlines in their zone, the office's words), so a
  retry or a rerun sends the same words whatever happened since;
- ``links.request_status``: the signed link to the request's status page (180 days).

Everything else (headers, VERP, List-Unsubscribe, DKIM) is the campaign's compose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery import ledger
from alumni.delivery.sending import CampaignKit
from alumni.messages.page_links import request_status_link
from alumni.messages.rendering import REQUEST
from alumni.models import RequestNotice, table_of
from alumni.settings import Settings

__all__ = ["RequestKit", "notice_of"]

_N = table_of(RequestNotice)


def notice_of(connection: Connection, campaign_id: int) -> Any | None:
    """The ``RequestNotice`` row a campaign sends, or None for any other campaign."""
    return connection.execute(sa.select(_N).where(_N.c.campaign_id == campaign_id)).first()


@dataclass(kw_only=True)
class RequestKit(CampaignKit):
    """What one notice's message needs: the campaign's kit, the request and what to say.

    ``template`` is the notice's kind and ``family`` is ``request``.
    """

    request_id: int
    said: dict[str, Any]  # RequestNotice.context

    @classmethod
    def for_notice(
        cls,
        connection: Connection,
        campaign: Any,
        notice: Any,
        *,
        settings: Settings,
        now: datetime,
    ) -> RequestKit:
        """The kit of the notice ``notice`` (its ``RequestNotice`` row) sent by ``campaign``.

        Raises:
            ValueError: ALUMNI_FROM has no address.
        """
        return cls.build(
            connection,
            campaign,
            settings=settings,
            now=now,
            family=REQUEST,
            request_id=notice.request_id,
            said=dict(notice.context),
        )

    def context(self, row: ledger.Claimed, token: str | None = None) -> dict[str, Any]:
        """The campaign's context of one recipient plus ``request`` and the status link."""
        context = super().context(row, token)
        status = request_status_link(self.key, self.base_url, self.request_id, now=self.links_from)
        context["links"] = {**context["links"], "request_status": status}
        context["request"] = dict(self.said)
        return context
