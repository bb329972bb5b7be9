"""The sending side's pen on the ledger: rows marked handed over before they go, answers
recorded by a writer thread while sending goes on.

The in-flight bound: a sending process hands rows to its transport ``MAX_HANDED`` at a time,
each group marked handed in one UPDATE just before, and its ``ReceiptBuffer`` keeps at most
``2 * MAX_UNWRITTEN`` answers unrecorded (one group being written, one waiting). So after a
crash at most ``IN_FLIGHT_BOUND`` rows per sending process were handed over and not recorded:
those are the rows the rerun flags "may have gone twice", and the messages that really went
twice are among them (at most ``2 * MAX_UNWRITTEN`` plus one per open SMTP connection: only an
answered message can have been accepted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from alumni.delivery import ledger
from alumni.models import utcnow
from alumni.settings import Settings

# How many answered results a ReceiptBuffer lets wait for its writer before the senders wait.
MAX_UNWRITTEN = 50
# How long the writer waits for half that many before writing fewer (seconds).
GROUP_WAIT = 0.05
# How many rows go to the transport at a time, marked handed in one UPDATE just before.
MAX_HANDED = 50
# The most rows a sending process can have handed over and not recorded at a crash.
IN_FLIGHT_BOUND = MAX_HANDED + 2 * MAX_UNWRITTEN


class ReceiptBuffer:
    """Marks rows handed over, and collects answers from sending threads that a writer thread
    of its own records.

    Thread-safe. The writer takes everything collected so far (once half of ``max_unwritten``
    have gathered, or ``GROUP_WAIT`` has passed) and records it in one transaction while the
    senders go on; the order of answers is kept. A sender that would leave more than
    ``max_unwritten`` answers waiting blocks until the writer has taken them (see the module
    docstring for the bound this keeps). ``flush`` writes the rest and stops the writer; a
    failed write is raised by the next ``add``, ``hand_over`` or ``flush``, so sending stops.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        worker: str,
        channel: ledger.Channel = ledger.DELIVERIES,
        max_unwritten: int = MAX_UNWRITTEN,
        clock: Callable[[], datetime] = utcnow,
        retry_delays: Sequence[timedelta] = ledger.RETRY_DELAYS,
    ) -> None:
        if max_unwritten < 1:
            raise ValueError(f"max_unwritten must be at least 1, not {max_unwritten}")
        self.engine = engine
        self.channel = channel
        self.retry_delays = retry_delays
        self.worker = worker
        self.max_unwritten = max_unwritten
        self._group = max(1, max_unwritten // 2)
        self._clock = clock
        self._changed = threading.Condition()
        self._pending: list[ledger.Result] = []
        self._writing = 0  # answers the writer has taken and not yet recorded
        self._stopping = False
        self._error: BaseException | None = None
        self._writer: threading.Thread | None = None
        self.counts: dict[str, int] = {"sent": 0, "transient": 0, "permanent": 0}

    @classmethod
    def for_settings(cls, engine: Engine, settings: Settings, *, worker: str) -> ReceiptBuffer:
        """A buffer for deliveries with the retry delays of ``ALUMNI_RETRY_DELAYS_SECONDS``."""
        delays = [timedelta(seconds=s) for s in settings.retry_delays_seconds]
        return cls(engine, worker=worker, retry_delays=delays)

    @property
    def unwritten(self) -> int:
        """Answers added and not yet recorded (waiting, or being written)."""
        with self._changed:
            return len(self._pending) + self._writing

    @property
    def full(self) -> bool:
        """Whether a sender's ``add`` would wait for the writer now."""
        with self._changed:
            return len(self._pending) >= self.max_unwritten

    def hand_over(self, row_ids: Sequence[int]) -> set[int]:
        """Mark rows as handed to the transport, now, in one UPDATE; return those this worker
        still holds (send only those)."""
        with self._changed:
            self._raise_error()
        return ledger.mark_handed(
            self.engine, self.channel, row_ids, worker=self.worker, now=self._clock()
        )

    def add(self, result: ledger.Result) -> None:
        """Hand over one answer; waits while ``max_unwritten`` are already waiting."""
        with self._changed:
            while len(self._pending) >= self.max_unwritten and self._error is None:
                self._changed.wait()
            self._raise_error()
            self._pending.append(result)
            self.counts[result.outcome] += 1
            if self._writer is None:
                self._start_writer()
            elif len(self._pending) in (1, self._group):
                self._changed.notify_all()

    def _start_writer(self) -> None:
        self._stopping = False
        self._writer = threading.Thread(target=self._write_all, name="receipt-writer", daemon=True)
        self._writer.start()

    def flush(self) -> None:
        """Write everything collected so far and stop the writer (``add`` starts it again)."""
        while True:
            with self._changed:
                writer = self._writer
                if writer is None:
                    self._raise_error()
                    return
                self._stopping = True
                self._changed.notify_all()
            writer.join()
            with self._changed:
                self._writer = None
                if self._pending and self._error is None:  # added while the writer stopped
                    self._start_writer()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _write_all(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._stopping:
                    self._changed.wait()
                # fewer, larger transactions: wait a moment for a group to gather
                self._changed.wait_for(
                    lambda: self._stopping or len(self._pending) >= self._group, GROUP_WAIT
                )
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
                self._writing = len(batch)
                self._changed.notify_all()  # room for the senders again
            try:
                ledger.record(
                    self.engine,
                    self.channel,
                    batch,
                    now=self._clock(),
                    worker=self.worker,
                    retry_delays=self.retry_delays,
                )
            except BaseException as exc:  # raised to the senders by add() and flush()
                with self._changed:
                    self._error = exc
                    self._changed.notify_all()
                return
            with self._changed:
                self._writing = 0
