"""Campaign benchmark: one class of N alumni (default 100,000) through the real flow to a lean sink.

End to end means what an officer waits for once the Prefect server is up: planning, the preflight
render of every recipient, rendering, MIME assembly, SMTP and the ledger updates. The ceiling,
measured in the same run against the same sink with the same number of connections, is
pre-built message bytes through plain smtplib. The CPU time of the flow's process and its send
workers, per message, is printed too: on a shared machine it moves far less than the rates. Run:

    .venv/bin/python bench/campaign.py [--alumni 100000] [--connections 4] [--batch 5000]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")  # the phases are read from the run's log
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alumni.db import engine_for
from alumni.models import utcnow
from alumni.settings import Settings
from bench.population import YEAR, daytime_zone, populate
from bench.smtp_ceiling import free_port, message, plain_smtplib, sink_count, start_sink


def tree_rss_mb(root: int, *, exclude: int) -> float:
    """Resident memory of a process and its multiprocessing children (the send workers), MB.

    Reads only that process's children (``/proc/PID/task/*/children``), not every process on
    the machine: the watcher runs in the flow's own process and must not cost it CPU."""
    page = os.sysconf("SC_PAGE_SIZE")
    pids = {root}
    for children in Path(f"/proc/{root}/task").glob("*/children"):
        try:
            pids.update(int(pid) for pid in children.read_text().split())
        except (OSError, ValueError):
            continue
    total = 0
    for pid in pids - {exclude}:
        try:
            if pid != root and b"multiprocessing" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e6


def cpu_seconds() -> tuple[float, float]:
    """CPU time (user + system) of this process, and of its children that have ended: the
    send workers, once the flow's run has closed them (the Prefect server and the sink are
    still running then, so they are not counted)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


class PhaseClock(logging.Handler):
    """Keeps when each task run of the flow finished, from Prefect's run log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.finished: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        name = getattr(record, "task_run_name", None)
        if name and record.getMessage().startswith("Finished in state"):
            # "plan-deliveries-0a1" (Prefect's suffix), "send-batch campaign-1 #3" (ours)
            task = name.split(" ", 1)[0] if " " in name else name.rsplit("-", 1)[0]
            self.finished.append((record.created, task))

    def phases(self, started: float, ended: float) -> str:
        """Seconds in each phase: plan, preflight, sending (batches), and the report after."""
        ends = {name: at for at, name in self.finished if name != "send-batch"}
        batches = [at for at, name in self.finished if name == "send-batch"]
        if "plan-deliveries" not in ends or "preflight" not in ends or not batches:
            return "phases not found in the log"
        plan, preflight, last = ends["plan-deliveries"], ends["preflight"], max(batches)
        return (
            f"plan {plan - started:.1f} s, preflight {preflight - plan:.1f} s, sending "
            f"{last - preflight:.1f} s ({len(batches)} batches, "
            f"{(last - preflight) / len(batches):.2f} s each), report {ended - last:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alumni", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--batch",
        type=int,
        default=Settings.model_fields["send_batch_size"].default,
        help="deliveries per send task (default: ALUMNI_SEND_BATCH_SIZE's default)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="alumni-campaign-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    port = free_port()
    sink = start_sink(port)
    os.environ.update(
        {
            "ALUMNI_DATABASE_URL": url,
            "ALUMNI_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",
            "ALUMNI_SMTP_CONNECTIONS": str(args.connections),
            "ALUMNI_SEND_BATCH_SIZE": str(args.batch),
            "ALUMNI_SECRET_KEY_FILE": str(folder / "secret"),
            "ALUMNI_BASE_URL": "https://alumni.school.example",
            "PREFECT_HOME": str(folder / "prefect"),
        }
    )
    from prefect.testing.utilities import prefect_test_harness

    from alumni.delivery.campaigns import create
    from alumni.settings import get_settings
    from flows.campaign import class_campaign

    try:
        start = time.perf_counter()
        populate(url, args.alumni, daytime_zone(utcnow()))
        print(
            f"populated one class of {args.alumni:,} alumni in {time.perf_counter() - start:.1f} s"
        )
        ceiling = plain_smtplib(port, message(5200), min(args.alumni, 20_000), args.connections)
        before = sink_count(port)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak = [0.0]

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_mb(os.getpid(), exclude=sink.pid))
                time.sleep(0.5)

        done = threading.Event()
        with prefect_test_harness(server_startup_timeout=120):
            ((campaign_id, _),) = create(
                engine_for(url),
                name="bench",
                class_years=[YEAR],
                template="reunion",
                templates=get_settings().templates_dir,
            )
            threading.Thread(target=watch, daemon=True).start()
            clock = PhaseClock()
            logging.getLogger("prefect").addHandler(clock)
            started = time.time()
            start = time.perf_counter()
            cpu_before = cpu_seconds()
            report = class_campaign(campaign_id=campaign_id, wait=False)
            elapsed = time.perf_counter() - start
            own, workers = (b - a for a, b in zip(cpu_before, cpu_seconds(), strict=True))
            done.set()
        sent = sink_count(port) - before
        assert report["outcomes"] == {"sent": args.alumni}, report["outcomes"]
        assert sent == args.alumni, (sent, args.alumni)
        rate = sent / elapsed
        print(
            f"end to end: {sent:,} messages in {elapsed:.1f} s = {rate:,.0f} messages/s "
            "(plan, preflight, render, MIME, SMTP, ledger)"
        )
        print(
            f"ceiling: plain smtplib, pre-built 5 KB messages, {args.connections} connections, "
            f"same sink: {ceiling:,.0f} messages/s"
        )
        print(f"ratio end-to-end / ceiling: {rate / ceiling:.2f}")
        print(f"where the time went: {clock.phases(started, started + elapsed)}")
        print(
            f"CPU: {own + workers:.1f} s = {(own + workers) / sent * 1e6:.0f} us a message "
            f"({own:.1f} s in the flow's process, {workers:.1f} s in its send workers; what "
            "a busy machine changes least)"
        )
        print(
            f"resident memory: {rss_before:.0f} MB before the flow, peak {peak[0]:.0f} MB during it"
        )
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
