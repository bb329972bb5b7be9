"""Scale-out benchmark: one campaign of N alumni (default 100,000) on PostgreSQL, sent by 1, 2
and 4 `alumni campaign run` processes at once against the same lean sink.

Each round gets a fresh database with the same class, one campaign, and P processes started
together, each the command an officer or a Prefect worker runs (its own flow run on one Prefect
server, its own send workers and SMTP connections); they plan once, preflight once and share
the batches (FOR UPDATE SKIP LOCKED). Every alum exactly one message is checked: the sink
counts exactly N new messages and the ledger holds N rows sent, none flagged as maybe sent
twice (a row is only marked sent once the sink accepted it). The ceiling, measured in the same
run against the same sink, is pre-built message bytes through plain smtplib. Run:

    .venv/bin/python bench/scale.py [--alumni 100000] [--processes 1 2 4] [--database-url URL]

Without --database-url a throwaway PostgreSQL server is started (Debian's binaries, as root).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from alumni.db import engine_for
from alumni.models import Delivery, table_of, utcnow
from bench.population import YEAR, daytime_zone, populate
from bench.smtp_ceiling import free_port, message, plain_smtplib, sink_count, start_sink

ROOT = Path(__file__).resolve().parent.parent
# The log lines that end each phase of a run (Prefect's console format: "HH:MM:SS.fff | INFO").
PHASES = {
    "plan": "Task run 'plan-deliveries",
    "preflight": "Task run 'preflight",
    "send": "this run sent",
    "report": "Finished in state",
}


def phases(output: str) -> str:
    """Where one run's time went: seconds from its flow's start to the end of each phase."""
    stamps = {}
    begun = None
    for line in output.splitlines():
        match = re.match(r"(\d\d):(\d\d):(\d\d\.\d+) \| INFO", line)
        if match is None:
            continue
        at = int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])
        if begun is None and "Beginning flow run" in line:
            begun = at
        for phase, marker in PHASES.items():
            if marker in line and (phase != "report" or "Flow run" in line):
                stamps[phase] = at
    if begun is None:
        return "no flow log"
    return ", ".join(f"{p} {stamps[p] - begun:.1f}" for p in PHASES if p in stamps)


def fresh_database(server_url: str) -> str:
    """A new empty database on the server of ``server_url``; its URL."""
    name = f"alumni_scale_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def ledger_counts(url: str, campaign_id: int) -> dict[tuple[str, bool], int]:
    """(status, maybe_duplicate) -> rows of the campaign."""
    d = table_of(Delivery)
    with engine_for(url).connect() as connection:
        rows = connection.execute(
            sa.select(d.c.status, d.c.maybe_duplicate, sa.func.count())
            .where(d.c.campaign_id == campaign_id)
            .group_by(d.c.status, d.c.maybe_duplicate)
        ).all()
    return {(str(status), bool(flag)): int(n) for status, flag, n in rows}


def one_round(
    server_url: str, processes: int, alumni: int, env: dict[str, str], port: int
) -> tuple[float, list[str]]:
    """Send one campaign with ``processes`` processes; (messages/s, their outputs)."""
    from alumni.delivery.campaigns import create
    from alumni.settings import get_settings

    url = fresh_database(server_url)
    populate(url, alumni, daytime_zone(utcnow()))
    ((campaign_id, _),) = create(
        engine_for(url),
        name=f"scale-{processes}",
        class_years=[YEAR],
        template="reunion",
        templates=get_settings().templates_dir,
    )
    before = sink_count(port)
    command = [sys.executable, "-m", "alumni.cli.main", "campaign", "run", str(campaign_id)]
    start = time.perf_counter()
    runs = [
        subprocess.Popen(
            [*command, "--no-wait"],
            cwd=ROOT,
            env={**env, "ALUMNI_DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(processes)
    ]
    outputs = [run.communicate()[0] for run in runs]
    elapsed = time.perf_counter() - start
    for run, output in zip(runs, outputs, strict=True):
        if run.returncode != 0:
            raise SystemExit(f"a campaign run failed:\n{output[-3000:]}")
    sent = sink_count(port) - before
    counts = ledger_counts(url, campaign_id)
    if sent != alumni or counts != {("sent", False): alumni}:
        raise SystemExit(f"not exactly one message each: sink {sent:,}, ledger {counts}")
    return sent / elapsed, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alumni", type=int, default=100_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections a process")
    parser.add_argument(
        "--send-workers", type=int, default=None, help="ALUMNI_SEND_WORKERS of each process"
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+psycopg://...)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="alumni-scale-bench-"))
    server = None
    if args.database_url is None:
        from tests.pg_server import start_postgres

        server = start_postgres()
    server_url = args.database_url or (server.url if server else "")
    port = free_port()
    sink = start_sink(port)
    os.environ.update(
        {
            "ALUMNI_SECRET_KEY_FILE": str(folder / "secret"),
            "ALUMNI_BASE_URL": "https://alumni.school.example",
            "PREFECT_HOME": str(folder / "prefect"),
        }
    )
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from alumni.settings import get_settings

    get_settings().signing_key()  # one key for every process, made before they start
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PREFECT_LOGGING_LEVEL": "INFO",
        "ALUMNI_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",
        "ALUMNI_SMTP_CONNECTIONS": str(args.connections),
    }
    if args.send_workers is not None:
        env["ALUMNI_SEND_WORKERS"] = str(args.send_workers)
    results: list[tuple[int, float, str]] = []
    try:
        ceiling = plain_smtplib(port, message(5200), min(args.alumni, 20_000), args.connections)
        with prefect_test_harness(server_startup_timeout=120):
            env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
            for processes in args.processes:
                rate, outputs = one_round(server_url, processes, args.alumni, env, port)
                sent = [
                    int(m.group(1))
                    for out in outputs
                    for m in re.finditer(r"this run sent (\d+);", out)
                ]
                share = "/".join(f"{n:,}" for n in sent)
                results.append((processes, rate, share))
                print(f"{processes} process(es): {rate:,.0f} messages/s (sent {share})", flush=True)
                for n, out in enumerate(outputs, 1):
                    print(f"  run {n}: s from its flow's start to the end of {phases(out)}")
        print(
            f"\n{args.alumni:,} alumni, one campaign on PostgreSQL, {args.connections} SMTP "
            "connections a process, every alum exactly one message (sink count and ledger)"
        )
        print(f"{'processes':>9}  {'messages/s':>10}  {'ceiling':>8}  {'ratio':>5}  sent by each")
        for processes, rate, share in results:
            print(
                f"{processes:>9}  {rate:>10,.0f}  {ceiling:>8,.0f}  {rate / ceiling:>5.2f}  {share}"
            )
        print(
            f"ceiling: plain smtplib, pre-built 5 KB messages, {args.connections} connections, "
            "same sink, same run"
        )
    finally:
        sink.terminate()
        sink.wait()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
