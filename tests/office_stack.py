"""``alumni up`` in a subprocess for tests: the whole stack on free ports, in a temporary folder.

The stack is started as an officer would (``python -m alumni.cli.main up``), with its own
PREFECT_HOME, SQLite database, key file and outbox under the test's folder, and its own session,
so that the test can list every process it started and check that none is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[1]
READY_LINE = "Ctrl-C stops it all."
# Generous: on this shared 2-core machine a Prefect server and `prefect deploy --all` took up
# to a few minutes together. Waiting longer only delays a failure.
START_TIMEOUT = 600.0
# Long enough for any clean stop; `up` itself kills what outlives its own grace, and says so.
EXIT_TIMEOUT = 180.0


def deployment_names() -> set[str]:
    """The deployments prefect.yaml declares."""
    declared = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return {deployment["name"] for deployment in declared["deployments"]}


def processes() -> dict[int, tuple[int, int]]:
    """Every process on the machine: pid -> (parent pid, session id), read with ``ps``."""
    listing = subprocess.run(
        ["ps", "-e", "-o", "pid=,ppid=,sid="], capture_output=True, text=True, check=True
    ).stdout
    table = {}
    for line in listing.splitlines():
        pid, ppid, sid = (int(field) for field in line.split())
        table[pid] = (ppid, sid)
    return table


def descendants(root: int) -> set[int]:
    """The processes below ``root`` now."""
    table = processes()
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, (ppid, _) in table.items() if ppid in frontier} - found
        found |= frontier
    return found


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    output: Path
    home: Path
    database_url: str
    api_url: str
    ui_url: str
    pages_url: str
    env: dict[str, str]

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def sessions(self) -> set[int]:
        """The sessions of ``up`` and of everything below it now."""
        table = processes()
        pids = descendants(self.process.pid) | {self.process.pid}
        return {table[pid][1] for pid in pids if pid in table}

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Send ``signum`` to ``up`` and wait for it to exit by itself; its exit code."""
        os.kill(self.process.pid, signum)
        try:
            return self.process.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"alumni up did not exit by itself:\n{self.text()}") from None

    def kill(self) -> None:
        """Kill whatever is left, for a test that already failed."""
        table = processes()
        for pid in descendants(self.process.pid) | {self.process.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        sessions = {self.process.pid}
        for pid, (_, sid) in table.items():
            if sid in sessions:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.process.wait()


def start_stack(folder: Path, **environment: str) -> RunningStack:
    """Start ``alumni up`` with its state under ``folder``; return once it says it is up."""
    folder.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{folder / 'alumni.db'}"
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.update(
        PYTHONPATH=str(ROOT),
        PREFECT_HOME=str(folder / "prefect"),
        PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(folder / "prefect" / "storage"),
        ALUMNI_DATABASE_URL=database_url,
        ALUMNI_SECRET_KEY_FILE=str(folder / "secret"),
        ALUMNI_OUTBOX_DIR=str(folder / "outbox"),
        **environment,
    )
    port, web_port = free_port(), free_port()
    output = folder / "up.out"
    command = [sys.executable, "-m", "alumni.cli.main", "up"]
    with output.open("wb") as handle:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--web-port", str(web_port)],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
            start_new_session=True,
        )
    stack = RunningStack(
        process=process,
        output=output,
        home=folder / "prefect",
        database_url=database_url,
        api_url=f"http://127.0.0.1:{port}/api",
        ui_url=f"http://127.0.0.1:{port}",
        pages_url=f"http://127.0.0.1:{web_port}",
        env=env,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while READY_LINE not in stack.text():
        if process.poll() is not None:
            raise AssertionError(f"alumni up ended while starting:\n{stack.text()}")
        if time.monotonic() > deadline:
            stack.kill()
            raise AssertionError(f"alumni up did not come up:\n{stack.text()}")
        time.sleep(0.5)
    return stack


def deployments(api_url: str) -> dict[str, dict[str, object]]:
    """The deployments the server holds, by name, read through its API."""
    answer = httpx.post(f"{api_url}/deployments/filter", json={}, timeout=30)
    answer.raise_for_status()
    return {deployment["name"]: deployment for deployment in answer.json()}
