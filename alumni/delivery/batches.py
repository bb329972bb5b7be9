"""One run of an email campaign or event mailing, a batch at a time: how many send workers it
takes, the preflight that stops a campaign before anything goes out (once per campaign: runs
that join it, on other machines too, wait for it and do not repeat it), and ``send_batch``:
claim due rows, keep their lease while they go out (in this process or the send workers), give
back what had no answer.

A transport that cannot work at all (``SmtpConnectError``: refused, TLS, login) stops the run
at once: the batch's unsent rows go back pending without counting an attempt, the campaign
keeps the error's line as its note (the report shows it), and the error is raised for the
flow and the command line to show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alumni.db import write_transaction
from alumni.delivery import ledger
from alumni.delivery.campaigns import set_status, stop_run
from alumni.delivery.receipts import ReceiptBuffer
from alumni.delivery.request_kit import notice_of
from alumni.delivery.send_workers import SendPool
from alumni.delivery.sending import Composed, Throttle, send_claimed
from alumni.messages.rendering import template_digest
from alumni.models import Alumnus, Campaign, CampaignStatus, Delivery, table_of, utcnow
from alumni.settings import Settings
from connectors.mail import MailTransport, open_mail_transport
from connectors.smtp import SmtpConnectError

_A = table_of(Alumnus)
_C = table_of(Campaign)
_D = table_of(Delivery)
Compose = Callable[[Sequence[ledger.Claimed]], list[Composed]]
# Below this many alumni, starting send worker processes costs more than it saves.
POOL_THRESHOLD = 2000


def open_transport(settings: Settings) -> MailTransport:
    """The SMTP server of ALUMNI_SMTP_URL, or the Maildir outbox when it is unset."""
    url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
    return open_mail_transport(
        url, outbox_dir=settings.outbox_dir, connections=settings.smtp_connections
    )


def lease_of(settings: Settings) -> timedelta:
    """The claim lease of ``ALUMNI_CLAIM_LEASE_SECONDS``."""
    return timedelta(seconds=settings.claim_lease_seconds)


def send_workers_for(engine: Engine, campaign_id: int, settings: Settings) -> int:
    """How many send worker processes a run of the campaign starts: ``ALUMNI_SEND_WORKERS``
    for a class of ``POOL_THRESHOLD`` or more, else none (the flow's process sends); none for a
    notice about one alum's request, whatever the size of their class."""
    if not settings.send_workers:
        return 0
    with engine.connect() as connection:
        if notice_of(connection, campaign_id) is not None:
            return 0
        campaign = ledger.load_campaign(connection, campaign_id)
        size = connection.execute(
            sa.select(sa.func.count()).where(_A.c.class_year == campaign.class_year)
        ).scalar_one()
    return settings.send_workers if size >= POOL_THRESHOLD else 0


# The first key of the PostgreSQL advisory lock a campaign's preflight holds ("alum").
PREFLIGHT_LOCK = 0x616C756D


@contextmanager
def preflight_turn(engine: Engine, campaign_id: int) -> Iterator[None]:
    """Hold the campaign's preflight for this run: on PostgreSQL a session advisory lock, so a
    run that joins waits for a preflight in progress instead of repeating it (the server lets
    go when a crashed run's connection drops); on SQLite, where runs share one machine,
    nothing."""
    if engine.dialect.name != "postgresql":
        yield
        return
    # autocommit: the lock belongs to the session, and no transaction stays open meanwhile
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.select(sa.func.pg_advisory_lock(PREFLIGHT_LOCK, campaign_id)))
        try:
            yield
        finally:
            connection.execute(sa.select(sa.func.pg_advisory_unlock(PREFLIGHT_LOCK, campaign_id)))


def preflight(
    engine: Engine,
    campaign_id: int,
    check: Callable[[Iterable[ledger.Claimed]], int],
    *,
    again: bool = False,
    resuming: bool = False,
    templates: Path | None = None,
) -> int:
    """Render with ``check`` every unsent recipient that no passed preflight of the campaign
    covered (every one, with ``again``), record that the preflight passed, and return how many
    rendered: 0 for a run that joins a campaign another run preflighted. ``resuming``: the
    campaign is stopped and being resumed (``alumni.delivery.campaigns.resume``): every unsent
    recipient is rendered again, since the template was fixed after the failure. ``templates``:
    the template folder the run renders from; when its files changed since the last preflight
    that passed (``template_digest``), every unsent recipient is rendered again too, so an
    edit made while a campaign is under way is checked before anything rendered with it goes.

    A preflight of the campaign in progress in another run is waited for, not repeated (see
    ``preflight_turn``). A preflight covers the rows planned when it began
    (``Campaign.preflighted_through``): rows a later plan adds are rendered by the next run.

    Raises:
        RuntimeError: the campaign was stopped (e.g. another run's preflight failed).
        Exception: what ``check`` raised (``PreflightError``, or ``ValueError`` naming the
            delivery); the campaign is stopped with it as its note, and nothing is sent.
    """
    with preflight_turn(engine, campaign_id):
        with engine.connect() as connection:
            campaign = ledger.load_campaign(connection, campaign_id)
            top = connection.execute(
                sa.select(sa.func.max(_D.c.id)).where(_D.c.campaign_id == campaign_id)
            ).scalar_one()
        if campaign.status == CampaignStatus.stopped and not resuming:
            raise RuntimeError(f"campaign {campaign_id} was stopped: {campaign.note}")
        digest = None if templates is None else template_digest(templates)
        edited = campaign.preflight_templates not in (None, digest) and digest is not None
        after = 0 if again or resuming or edited else campaign.preflighted_through or 0
        if top is None or top <= after:
            return 0
        try:
            rendered = check(ledger.iter_unsent(engine, campaign_id, after=after, through=top))
        except Exception as exc:
            set_status(engine, campaign_id, CampaignStatus.stopped, f"preflight failed: {exc}")
            raise
        with write_transaction(engine) as connection:
            connection.execute(
                sa.update(_C)
                .where(_C.c.id == campaign_id)
                .values(
                    preflighted_at=utcnow(),
                    preflighted_through=top,
                    preflight_templates=digest or campaign.preflight_templates,
                )
            )
    return rendered


def send_batch(
    engine: Engine,
    campaign_id: int,
    *,
    worker: str,
    settings: Settings,
    compose: Callable[[datetime], Compose] | None = None,
    pool: SendPool | None = None,
    throttle: Throttle | None = None,
) -> dict[str, int]:
    """Claim one batch of due deliveries and send it; return counts (``claimed``, and the
    outcomes ``sent``, ``transient``, ``permanent``).

    With ``pool`` the send workers compose and send, and the next batch is claimed while this
    one goes out (``SendPool.send``'s ``claim_ahead``), so the workers do not wait for it;
    otherwise ``compose(now)`` gives the function that turns a chunk of claimed rows into
    messages, sent through ``open_transport(settings)``. The batch's lease is renewed while it
    goes out. ``throttle`` (the relay's rate limit) is asked before each group of messages
    goes.

    Raises:
        SmtpConnectError: no connection to the SMTP server could be opened; see the module
            docstring.
    """
    lease = lease_of(settings)

    def claim() -> list[ledger.Claimed]:
        return ledger.claim(
            engine,
            campaign_id,
            worker=worker,
            limit=settings.send_batch_size,
            now=utcnow(),
            lease=lease,
        )

    # with send workers, this batch was claimed while the last one went out (``claim_ahead``)
    rows = pool.take_ahead(campaign_id, worker) if pool is not None else None
    rows = claim() if rows is None else rows
    if not rows:
        return {"claimed": 0}
    ahead: list[ledger.Claimed] = []
    with ledger.Heartbeat(engine, ledger.DELIVERIES, campaign_id, worker=worker, lease=lease):
        try:
            if pool is not None:
                counts = pool.send(
                    campaign_id,
                    rows,
                    now=utcnow(),
                    worker=worker,
                    throttle=throttle,
                    claim_ahead=claim,
                )
            else:
                if compose is None:
                    raise ValueError("send_batch needs compose or a pool of send workers")
                counts = _send_here(
                    engine,
                    rows,
                    compose(utcnow()),
                    worker=worker,
                    settings=settings,
                    throttle=throttle,
                )
        except SmtpConnectError as exc:
            if pool is not None:
                ahead = pool.take_ahead(campaign_id, worker) or []
            ids = [r.delivery_id for r in [*rows, *ahead]]
            stop_run(engine, ledger.DELIVERIES, campaign_id, ids, worker=worker, cause=exc)
            raise
    return {"claimed": len(rows), **counts}


def _send_here(
    engine: Engine,
    rows: Sequence[ledger.Claimed],
    compose: Compose,
    *,
    worker: str,
    settings: Settings,
    throttle: Throttle | None,
) -> dict[str, int]:
    transport = open_transport(settings)
    try:
        return send_claimed(
            compose,
            rows,
            transport=transport,
            buffer=ReceiptBuffer.for_settings(engine, settings, worker=worker),
            throttle=throttle,
        )
    finally:
        transport.close()
