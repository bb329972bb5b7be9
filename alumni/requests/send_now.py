"""Send a request's notices that are due now, in this process: the acknowledgement "at once".

The web form (after its answer has gone to the browser) and ``alumni request open`` call
``send_notices_now`` right after opening a request, so the alum's acknowledgement leaves within
about a second (composing one message and one SMTP exchange) instead of at the next run of the
``due-campaigns`` flow (within 15 minutes). It is the flows' own path without Prefect: the
campaign's kit (``kit_for``), its preflight, ``alumni.delivery.batches.send_batch`` (the ledger's
claim, lease and record) and ``progress.finish``; so a flow run at the same moment sends each
message once, and whatever cannot go now (the SMTP server down, a temporary refusal) stays
pending for ``due-campaigns``. A broken template stops that notice's campaign with the problem as
its note, as the flow's preflight would.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alumni.delivery import batches, ledger, progress
from alumni.delivery.sending import kit_for
from alumni.messages.rendering import PreflightError, RenderError
from alumni.models import Campaign, CampaignStatus, RequestNotice, table_of, utcnow
from alumni.settings import Settings
from connectors.smtp import SmtpConnectError

__all__ = ["send_notices_now"]

_C = table_of(Campaign)
_N = table_of(RequestNotice)
_log = logging.getLogger(__name__)
_SAID = (SmtpConnectError, PreflightError, RenderError)


def send_notices_now(engine: Engine, request_id: int, *, settings: Settings) -> dict[str, int]:
    """Send what is due now of the request's notices; return counts by outcome (``sent``,
    ``transient``, ``permanent``; ``unsent`` for notices left to the flows).

    Never raises for a notice that cannot go: it is logged (by campaign and request id, never
    the request's content) and left to ``due-campaigns``.
    """
    with engine.connect() as connection:
        campaigns = list(
            connection.execute(
                sa.select(_N.c.campaign_id)
                .join(_C, _C.c.id == _N.c.campaign_id)
                .where(
                    _N.c.request_id == request_id,
                    _C.c.status.in_((CampaignStatus.planned, CampaignStatus.sending)),
                )
                .order_by(_N.c.id)
            ).scalars()
        )
    totals: dict[str, int] = {}
    for campaign_id in campaigns:
        try:
            counts = _send_campaign(engine, campaign_id, settings=settings)
        except Exception as error:  # whatever it is, the flows try again; the alum's page works
            # Messages that name a server, template or row, never a request's content; other
            # errors by their type only (a database error's text may quote row values).
            said = error if isinstance(error, _SAID) else type(error).__name__
            _log.warning(
                "request %d: notice campaign %d not sent now (%s); due-campaigns will send it",
                request_id,
                campaign_id,
                said,
            )
            totals["unsent"] = totals.get("unsent", 0) + 1
            continue
        for outcome, count in counts.items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals


def _send_campaign(engine: Engine, campaign_id: int, *, settings: Settings) -> dict[str, int]:
    """Preflight, then claim and send batches of the notice until nothing is due now."""
    with engine.connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
        kit = kit_for(connection, campaign, settings=settings, now=utcnow())
    batches.preflight(engine, campaign_id, kit.preflight)
    worker = f"now-{uuid.uuid4().hex[:12]}"
    totals: dict[str, int] = {}
    while True:
        counts = batches.send_batch(
            engine,
            campaign_id,
            worker=worker,
            settings=settings,
            compose=lambda now: lambda chunk: kit.compose_many(chunk, now=now),
        )
        if not counts.pop("claimed", 0):
            break
        for outcome, count in counts.items():
            totals[outcome] = totals.get(outcome, 0) + count
    progress.finish(
        engine, ledger.DELIVERIES, campaign_id, now=utcnow(), lease=batches.lease_of(settings)
    )
    return totals
