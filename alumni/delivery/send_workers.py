"""Compose and send a campaign's messages in worker processes, one per core.

Rendering (Jinja2), MIME assembly and smtplib are pure Python and hold the GIL, so one process
tops out well below what the wire takes. Each worker builds the campaign's ``CampaignKit`` once
from the database and the ``ALUMNI_*`` environment it inherited, opens its own share of the SMTP
connections, and takes chunks of claimed rows: it composes them, marks them handed and sends
them a group at a time, and records every answer on the ledger itself. The in-flight bound after
a crash is per worker (see ``alumni.delivery.receipts``), so it grows with the number of
workers. The process that claimed the rows keeps their lease (``ledger.Heartbeat``) while the
workers send.

A delivery always goes to the same worker (its id modulo the number of workers), so what the
preflight rendered is kept in that worker's spool (an SQLite file in a temporary folder, not
memory) and sent without rendering it twice. The spool is a cache: a row it lacks is rendered
(a run that joins a campaign another run preflighted renders only what it sends).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sqlite3
import sys
import tempfile
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from itertools import islice
from pathlib import Path

from alumni.db import get_engine
from alumni.delivery import ledger
from alumni.delivery.receipts import MAX_HANDED, ReceiptBuffer
from alumni.delivery.sending import CampaignKit, Throttle, kit_for, send_claimed
from alumni.messages.rendering import PreflightError, RenderedEmail, RenderError
from alumni.models import utcnow
from alumni.settings import get_settings
from connectors.mail import MailTransport, open_mail_transport

# What one worker process keeps; the process lives as long as its SendPool (one flow run).
_kits: dict[int, CampaignKit] = {}
_transport: list[MailTransport] = []
_spool: list[sqlite3.Connection] = []


def _start_worker(spool: str) -> None:
    # Composing holds the GIL; the SMTP threads wait for it after every reply. Python's
    # default 5 ms switch interval left connections idle most of the time.
    sys.setswitchinterval(0.0005)
    connection = sqlite3.connect(spool, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute(
        "CREATE TABLE rendered (id INTEGER PRIMARY KEY, subject TEXT, text TEXT, html TEXT, "
        "locale TEXT)"
    )
    _spool.append(connection)


def _warm() -> None:
    """Nothing: submitting it starts the worker process and its imports early."""


def _kit(campaign_id: int) -> CampaignKit:
    kit = _kits.get(campaign_id)
    if kit is None:
        with get_engine().connect() as connection:
            campaign = ledger.load_campaign(connection, campaign_id)
            kit = kit_for(connection, campaign, settings=get_settings(), now=utcnow())
        _kits[campaign_id] = kit
    return kit


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
    campaign_id: int, rows: list[ledger.Claimed]
) -> tuple[int, list[tuple[str, RenderError]], int]:
    """(rendered, failures listed, failures counted) for one chunk; keeps what rendered."""
    kept: list[tuple[int, str, str, str, str]] = []

    def keep(delivery_id: int, email: RenderedEmail) -> None:
        kept.append((delivery_id, email.subject, email.text, email.html, email.locale))

    try:
        return _kit(campaign_id).preflight(rows, on_rendered=keep), [], 0
    except PreflightError as exc:
        return len(rows), list(exc.failures), exc.failed
    finally:
        _spool[0].executemany("INSERT OR REPLACE INTO rendered VALUES (?, ?, ?, ?, ?)", kept)


def _spooled(ids: list[int]) -> dict[int, RenderedEmail]:
    marks = ",".join("?" * len(ids))
    rows = _spool[0].execute(
        f"SELECT id, subject, text, html, locale FROM rendered WHERE id IN ({marks})", ids
    )
    return {r[0]: RenderedEmail(subject=r[1], text=r[2], html=r[3], locale=r[4]) for r in rows}


def _send_chunk(
    campaign_id: int, rows: list[ledger.Claimed], now: datetime, worker: str, connections: int
) -> dict[str, int]:
    kit = _kit(campaign_id)
    before = kit.renders
    counts = send_claimed(
        lambda chunk: kit.compose_many(
            chunk, now=now, rendered=_spooled([row.delivery_id for row in chunk])
        ),
        rows,
        transport=_worker_transport(connections),
        buffer=ReceiptBuffer.for_settings(get_engine(), get_settings(), worker=worker),
    )
    return {**counts, "rendered": kit.renders - before}


class SendPool:
    """Worker processes that preflight and send claimed deliveries; a context manager."""

    def __init__(self, workers: int | None = None, *, connections: int = 4) -> None:
        self.workers = workers or os.cpu_count() or 1
        # the office's SMTP connection budget is shared out, not multiplied
        self.connections = max(1, connections // self.workers)
        self._folder = tempfile.TemporaryDirectory(prefix="alumni-spool-")
        context = multiprocessing.get_context("spawn")
        # one single-process pool per worker, so a delivery always meets its own spool
        self._pools = [
            ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_start_worker,
                initargs=(str(Path(self._folder.name) / f"worker-{n}.db"),),
            )
            for n in range(self.workers)
        ]
        for pool in self._pools:
            pool.submit(_warm)  # start the processes now, while the caller plans

    def __enter__(self) -> SendPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(cancel_futures=True)
        self._folder.cleanup()

    def _shares(self, rows: Iterable[ledger.Claimed]) -> list[list[ledger.Claimed]]:
        shares: list[list[ledger.Claimed]] = [[] for _ in self._pools]
        for row in rows:
            shares[row.delivery_id % self.workers].append(row)
        return shares

    def preflight(self, campaign_id: int, rows: Iterable[ledger.Claimed]) -> int:
        """Render every row in the workers; raise PreflightError listing the failures."""
        source = iter(rows)
        pending: deque[Future[tuple[int, list[tuple[str, RenderError]], int]]] = deque()
        rendered = failed = 0
        failures: list[tuple[str, RenderError]] = []
        seen: set[tuple[str, str]] = set()
        while True:
            while len(pending) < self.workers * 3 and (part := list(islice(source, 500))):
                for pool, share in zip(self._pools, self._shares(part), strict=True):
                    if share:
                        pending.append(pool.submit(_preflight_chunk, campaign_id, share))
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
        self,
        campaign_id: int,
        rows: list[ledger.Claimed],
        *,
        now: datetime,
        worker: str,
        throttle: Throttle | None = None,
    ) -> dict[str, int]:
        """Send claimed rows, each by the worker that preflighted it; counts by outcome, and
        ``rendered``: the rows a worker had to render (not in its spool: preflighted by
        another run, or planned after the preflight).

        With ``throttle`` the rows go to the workers a slice at a time, each slice only once
        ``throttle(len(slice))`` returns (the relay's rate limit), and at most two slices per
        worker wait to be sent.

        Raises:
            The first error of a worker (e.g. ``SmtpConnectError``), once every worker has
            stopped, so what the others sent is recorded before the caller gives rows back.
        """
        step = len(rows) if throttle is None else MAX_HANDED * self.workers
        futures: deque[Future[dict[str, int]]] = deque()
        total: Counter[str] = Counter()
        errors: list[BaseException] = []

        def collect(future: Future[dict[str, int]]) -> None:
            try:
                total.update(future.result())
            except Exception as exc:
                errors.append(exc)

        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            if throttle is not None:
                while len(futures) >= 2 * self.workers:
                    collect(futures.popleft())
                if errors:
                    break
                throttle(len(part))
            futures.extend(
                pool.submit(_send_chunk, campaign_id, share, now, worker, self.connections)
                for pool, share in zip(self._pools, self._shares(part), strict=True)
                if share
            )
        while futures:
            collect(futures.popleft())
        if errors:
            raise errors[0]
        return dict(total)
