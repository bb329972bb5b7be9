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
preflight rendered is assembled there at once, all but its Date (``CampaignKit.prepare``), and
kept in that worker's ``Spool`` (a file in a temporary folder, not memory); sending then only
dates it. The spool is a cache: a row it lacks is rendered (a run that joins a campaign another
run preflighted renders only what it sends), and so is one whose address changed since.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import sys
import tempfile
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from itertools import islice
from pathlib import Path

from alumni.db import get_engine
from alumni.delivery import ledger
from alumni.delivery.receipts import MAX_HANDED, ReceiptBuffer
from alumni.delivery.sending import (
    CampaignKit,
    Composed,
    PreparedMail,
    Throttle,
    kit_for,
    send_claimed,
)
from alumni.messages.mime import PreparedMessage
from alumni.messages.rendering import PreflightError, RenderedEmail, RenderError
from alumni.models import utcnow
from alumni.settings import get_settings
from connectors.mail import MailTransport, open_mail_transport

# What one worker process keeps; the process lives as long as its SendPool (one flow run).
_kits: dict[int, CampaignKit] = {}
_transport: list[MailTransport] = []
_spool: list[Spool] = []


class Spool:
    """The messages a worker's preflight prepared (all but their Date), by delivery id.

    Appended to a file in the run's temporary folder, not kept in memory (a class of 100,000
    is about 700 MB of messages); only where each one lies is held. A second entry for an id
    replaces the first.
    """

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        self._end = 0
        # delivery id -> (offset, then the lengths of: envelope sender, recipient, the lines
        # before the Date, the rest)
        self._where: dict[int, tuple[int, int, int, int, int]] = {}

    def keep(self, mails: Iterable[PreparedMail]) -> None:
        """Append these messages (one write)."""
        pieces: list[bytes] = []
        for mail in mails:
            sender, recipient = mail.envelope_from.encode(), mail.recipient.encode()
            head, rest = mail.message.before_date, mail.message.after_date
            self._where[mail.delivery_id] = (
                self._end,
                len(sender),
                len(recipient),
                len(head),
                len(rest),
            )
            pieces += (sender, recipient, head, rest)
            self._end += len(sender) + len(recipient) + len(head) + len(rest)
        data = b"".join(pieces)
        written = 0
        while written < len(data):
            written += os.pwrite(self._fd, data[written:], self._end - len(data) + written)

    def get(self, delivery_id: int) -> PreparedMail | None:
        """The message kept for ``delivery_id``, or None."""
        where = self._where.get(delivery_id)
        if where is None:
            return None
        offset, sender, recipient, head, rest = where
        data = os.pread(self._fd, sender + recipient + head + rest, offset)
        at = sender + recipient
        return PreparedMail(
            delivery_id=delivery_id,
            envelope_from=data[:sender].decode(),
            recipient=data[sender:at].decode(),
            message=PreparedMessage(data[at : at + head], data[at + head :]),
        )


def _start_worker(spool: str) -> None:
    # Composing holds the GIL; the SMTP threads wait for it after every reply. Python's
    # default 5 ms switch interval left connections idle most of the time.
    sys.setswitchinterval(0.0005)
    _spool.append(Spool(Path(spool)))


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
    """(rendered, failures listed, failures counted) for one chunk; keeps each message that
    rendered, prepared but for its Date."""
    kit = _kit(campaign_id)
    by_id = {row.delivery_id: row for row in rows}
    now = utcnow()
    kept: list[PreparedMail] = []

    def keep(delivery_id: int, email: RenderedEmail) -> None:
        # one the MIME checks refuse is not kept: sending refuses it again and records why
        with contextlib.suppress(ValueError):
            kept.append(kit.prepare(by_id[delivery_id], now=now, rendered=email))

    try:
        return kit.preflight(rows, on_rendered=keep), [], 0
    except PreflightError as exc:
        return len(rows), list(exc.failures), exc.failed
    finally:
        _spool[0].keep(kept)


def _send_chunk(
    campaign_id: int, rows: list[ledger.Claimed], now: datetime, worker: str, connections: int
) -> dict[str, int]:
    kit = _kit(campaign_id)
    before = kit.renders
    spool = _spool[0]

    def compose(chunk: Sequence[ledger.Claimed]) -> list[Composed]:
        ready = {}
        for row in chunk:
            mail = spool.get(row.delivery_id)
            # a message prepared for an address the row no longer has is made again
            if mail is not None and mail.recipient == row.address:
                ready[row.delivery_id] = mail
        return kit.compose_many(chunk, now=now, prepared=ready)

    counts = send_claimed(
        compose,
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
                initargs=(str(Path(self._folder.name) / f"worker-{n}.spool"),),
            )
            for n in range(self.workers)
        ]
        for pool in self._pools:
            pool.submit(_warm)  # start the processes now, while the caller plans
        # rows claimed for the next batch while one went out, by (campaign, worker)
        self._ahead: dict[tuple[int, str], list[ledger.Claimed]] = {}

    def __enter__(self) -> SendPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers; give back rows claimed ahead that no batch took."""
        for (_, worker), rows in self._ahead.items():
            ledger.release(
                get_engine(), ledger.DELIVERIES, [r.delivery_id for r in rows], worker=worker
            )
        self._ahead.clear()
        # the workers stop (and say QUIT) side by side, not one after the other
        stopping = [
            threading.Thread(target=pool.shutdown, kwargs={"cancel_futures": True})
            for pool in self._pools
        ]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
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

    def take_ahead(self, campaign_id: int, worker: str) -> list[ledger.Claimed] | None:
        """The rows ``send``'s ``claim_ahead`` claimed for ``worker``'s next batch, or None
        when it claimed none (the caller claims)."""
        return self._ahead.pop((campaign_id, worker), None)

    def send(
        self,
        campaign_id: int,
        rows: list[ledger.Claimed],
        *,
        now: datetime,
        worker: str,
        throttle: Throttle | None = None,
        claim_ahead: Callable[[], list[ledger.Claimed]] | None = None,
    ) -> dict[str, int]:
        """Send claimed rows, each by the worker that preflighted it; counts by outcome, and
        ``rendered``: the rows a worker had to render (not in its spool: preflighted by
        another run, or planned after the preflight).

        With ``throttle`` the rows go to the workers a slice at a time, each slice only once
        ``throttle(len(slice))`` returns (the relay's rate limit), and at most two slices per
        worker wait to be sent.

        With ``claim_ahead``, the next batch is claimed (``claim_ahead()``) once every row is
        with the workers, while they send: ``take_ahead`` gives it to the next batch, and
        ``close`` gives back what no batch took.

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
        if claim_ahead is not None and not errors:
            try:
                if ahead := claim_ahead():
                    self._ahead[(campaign_id, worker)] = ahead
            except Exception as exc:  # raised once the workers have stopped, as theirs are
                errors.append(exc)
        while futures:
            collect(futures.popleft())
        if errors:
            raise errors[0]
        return dict(total)
