"""Compose and send a campaign's messages in worker processes, one per core.

Rendering (Jinja2), MIME assembly and smtplib are pure Python and hold the GIL, so one process
tops out well below what the wire takes. Each worker builds the campaign's ``CampaignKit`` once
from the database and the ``ALUMNI_*`` environment it inherited, opens its own share of the SMTP
connections, and takes chunks of claimed rows: it composes them, sends them, and records every
answer in the outbox itself. The in-flight bound after a crash is per worker (see
``alumni.outbox.ReceiptBuffer``), so it grows with the number of workers.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from itertools import islice

from alumni import outbox
from alumni.db import get_engine
from alumni.models import utcnow
from alumni.rendering import PreflightError, RenderError
from alumni.sending import CampaignKit, send_claimed
from alumni.settings import get_settings
from connectors.mail import MailTransport, open_mail_transport

_kits: dict[int, CampaignKit] = {}
_transport: list[MailTransport] = []


def _kit(campaign_id: int) -> CampaignKit:
    kit = _kits.get(campaign_id)
    if kit is None:
        with get_engine().connect() as connection:
            campaign = outbox.load_campaign(connection, campaign_id)
            kit = CampaignKit.build(connection, campaign, settings=get_settings(), now=utcnow())
        _kits[campaign_id] = kit
    return kit


def _start_worker() -> None:
    # Composing holds the GIL; the SMTP threads wait for it after every reply. Python's
    # default 5 ms switch interval left connections idle most of the time.
    sys.setswitchinterval(0.0005)


def _worker_transport(connections: int) -> MailTransport:
    if not _transport:
        settings = get_settings()
        url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
        _transport.append(
            open_mail_transport(url, outbox_dir=settings.outbox_dir, connections=connections)
        )
        atexit.register(_transport[0].close)
    return _transport[0]


def _preflight_chunk(
    campaign_id: int, rows: list[outbox.Claimed]
) -> tuple[int, list[tuple[str, RenderError]], int]:
    """(rendered, failures listed, failures counted) for one chunk."""
    try:
        return _kit(campaign_id).preflight(rows), [], 0
    except PreflightError as exc:
        return len(rows), list(exc.failures), exc.failed


def _send_chunk(
    campaign_id: int, rows: list[outbox.Claimed], now: datetime, worker: str, connections: int
) -> dict[str, int]:
    return send_claimed(
        _kit(campaign_id),
        rows,
        now=now,
        transport=_worker_transport(connections),
        buffer=outbox.ReceiptBuffer.for_settings(get_engine(), get_settings(), worker=worker),
    )


class SendPool:
    """Worker processes that preflight and send claimed deliveries; a context manager."""

    def __init__(self, workers: int | None = None, *, connections: int = 4) -> None:
        self.workers = workers or os.cpu_count() or 1
        # the office's SMTP connection budget is shared out, not multiplied
        self.connections = max(1, connections // self.workers)
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
        )

    def __enter__(self) -> SendPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)

    def preflight(self, campaign_id: int, rows: Iterable[outbox.Claimed]) -> int:
        """Render every row in the workers; raise PreflightError listing the failures."""
        source = iter(rows)
        pending: deque[Future[tuple[int, list[tuple[str, RenderError]], int]]] = deque()
        rendered = failed = 0
        failures: list[tuple[str, RenderError]] = []
        seen: set[tuple[str, str]] = set()
        while True:
            while len(pending) < self.workers * 2 and (part := list(islice(source, 500))):
                pending.append(self._pool.submit(_preflight_chunk, campaign_id, part))
            if not pending:
                break
            count, listed, counted = pending.popleft().result()
            rendered += count
            failed += counted
            # a problem of the template itself is reported by every chunk: keep it once
            failures.extend(f for f in listed if (f[0], str(f[1])) not in seen)
            seen.update((ref, str(error)) for ref, error in listed)
        if failures:
            raise PreflightError(failures[:20], failed=failed, checked=rendered)
        return rendered

    def send(
        self, campaign_id: int, rows: list[outbox.Claimed], *, now: datetime, worker: str
    ) -> dict[str, int]:
        """Send claimed rows, shared out between the workers; return counts by outcome."""
        share = -(-len(rows) // self.workers)
        futures = [
            self._pool.submit(
                _send_chunk, campaign_id, rows[i : i + share], now, worker, self.connections
            )
            for i in range(0, len(rows), share)
        ]
        total: Counter[str] = Counter()
        for future in futures:
            total.update(future.result())
        return dict(total)
