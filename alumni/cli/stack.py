"""``alumni up``: the office's whole stack on one machine, as children of one process.

In order: the database named by ALUMNI_DATABASE_URL is created or upgraded (``alumni init``);
a Prefect server (``prefect server start``) and the alumni pages (``alumni serve``) start; once
the server's API answers, a worker (``alumni worker``) starts on the process work pool
``alumni`` (making it if the server lacks it), and every deployment of ``prefect.yaml`` is
registered (``prefect deploy --all``, with ALUMNI_CHECKOUT set to this checkout). Then ``up``
prints where the UI and the pages are and the ``export PREFECT_API_URL=...`` line for other
shells, and leaves a marker (``alumni-up.json`` in PREFECT_HOME) so that ``alumni demo``
finds the stack.

Stopping: Ctrl-C (SIGINT) or SIGTERM stops the worker first, then the pages and the server,
each with the signal it stops cleanly on; whatever has not exited ``STOP_GRACE_SECONDS`` after
the signal is killed, and ``up`` says so. Each child runs in a session of its own (a Ctrl-C in
the terminal reaches ``up`` only, which stops them in order), and ``up`` is the child subreaper
of what they start: a flow run whose worker has gone is still ``up``'s to stop. If a child
exits by itself, ``up`` says which, shows the end of its log, and stops the rest (exit 1).
Children's output goes to log files under ``PREFECT_HOME/logs/alumni-up/``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Annotated

import httpx
import sqlalchemy as sa
import typer

from alumni.cli.output import fail, out, safe_text
from alumni.cli.worker import CHECKOUT
from alumni.settings import get_settings

POOL = "alumni"
DEFAULT_PREFECT_PORT = 4200
DEFAULT_WEB_PORT = 8000
# From the stop signal to SIGKILL. Measured on a busy 2-core machine: the worker exits 3-4 s
# after its signal, the pages 2-3 s, the server 0.3 s; the whole stop took 5-7 s.
STOP_GRACE_SECONDS = 10.0
# A Prefect server on a busy 2-core machine took 8-25 s to answer; deploy --all about 30 s.
STARTUP_TIMEOUT_SECONDS = 300.0
MARKER_NAME = "alumni-up.json"
_PR_SET_CHILD_SUBREAPER = 36
_POLL_SECONDS = 0.2
_FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class StackError(Exception):
    """The stack could not start or a part of it died; the message says which and what to do."""


class _StopRequested(Exception):
    """SIGINT or SIGTERM arrived: stop everything."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)


@dataclass
class Child:
    """One long-running part of the stack."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stop_signal: signal.Signals

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the child's log, for the officer when it died."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class StackAddresses:
    """Where the parts of a running stack answer."""

    api_url: str
    ui_url: str
    pages_url: str


def up(
    host: Annotated[str, typer.Option(help="Address the server and pages listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port of the Prefect server and its UI.")] = (
        DEFAULT_PREFECT_PORT
    ),
    web_port: Annotated[int, typer.Option(help="Port of the alumni pages (alumni serve).")] = (
        DEFAULT_WEB_PORT
    ),
) -> None:
    """Start the office's stack: Prefect server and UI, work pool, worker, every deployment of
    prefect.yaml, and the alumni pages. Ctrl-C stops it all."""
    try:
        code = run_stack(host=host, port=port, web_port=web_port)
    except StackError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


def run_stack(*, host: str, port: int, web_port: int) -> int:
    """Start the stack, keep it running until a stop signal or a child's death, stop it.

    Returns:
        0 when stopped by SIGINT or SIGTERM, 1 when a child died or had to be killed.

    Raises:
        StackError: before anything started (a port taken, the database refused).
    """
    for wanted, what in ((port, "--port"), (web_port, "--web-port")):
        if not _port_free(host, wanted):
            raise StackError(
                f"{host}:{wanted} is in use (another `alumni up` or Prefect server?): stop it, "
                f"or give another {what}"
            )
    env = _stack_environment(host, port)
    _init_database()
    home = Path(env["PREFECT_HOME"])
    logs = home / "logs" / "alumni-up"
    logs.mkdir(parents=True, exist_ok=True)
    addresses = StackAddresses(
        api_url=env["PREFECT_API_URL"],
        ui_url=f"http://{_url_host(host)}:{port}",
        pages_url=f"http://{_url_host(host)}:{web_port}",
    )
    _become_subreaper()
    children: list[Child] = []
    marker = home / MARKER_NAME
    with _stop_signals():
        try:
            _start_and_watch(children, env, logs, host, port, web_port, addresses, marker)
        except _StopRequested as stop:
            out.print(f"\n{stop}: stopping the stack...", highlight=False)
            return _stop_all(children)
        except StackError as exc:
            out.print(f"[red]error:[/] {safe_text(exc, lines=True)}", highlight=False)
            _stop_all(children)
            return 1
        finally:
            marker.unlink(missing_ok=True)
    return 1  # not reached: the watch loop ends only by one of the exceptions above


def _start_and_watch(
    children: list[Child],
    env: dict[str, str],
    logs: Path,
    host: str,
    port: int,
    web_port: int,
    addresses: StackAddresses,
    marker: Path,
) -> None:
    prefect = [sys.executable, "-m", "prefect"]
    alumni = [sys.executable, "-m", "alumni.cli.main"]
    started = time.monotonic()
    server = _start(
        children,
        "prefect server",
        [*prefect, "server", "start", "--host", host, "--port", str(port)],
        env,
        logs,
        signal.SIGTERM,
    )
    pages = _start(
        children,
        "alumni serve",
        [*alumni, "serve", "--host", host, "--port", str(web_port)],
        env,
        logs,
        signal.SIGINT,
    )
    out.print(f"starting the Prefect server on {addresses.ui_url} ...", highlight=False)
    _wait_until(children, f"{addresses.api_url}/health", server)
    worker = _start(
        children,
        "prefect worker",
        [*alumni, "worker", "--pool", POOL, "--name", f"alumni-up-{socket.gethostname()}"],
        env,
        logs,
        signal.SIGINT,
    )
    # The worker makes the process pool when the server lacks it; deploy needs it there.
    _wait_until(children, f"{addresses.api_url}/work_pools/{POOL}", worker)
    out.print("registering the deployments of prefect.yaml ...", highlight=False)
    deploy = _start(
        children,
        "prefect deploy",
        [*prefect, "--no-prompt", "deploy", "--all"],
        env,
        logs,
        signal.SIGTERM,
    )
    _wait_for_exit(children, deploy)
    _wait_until(children, f"{addresses.pages_url}/healthz", pages)
    marker.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                **addresses.__dict__,
                "database": shown_database(get_settings().database_url),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    elapsed = time.monotonic() - started
    out.print(
        f"\nthe office's stack is up ({elapsed:.0f} s):\n"
        f"  Prefect UI      {addresses.ui_url}\n"
        f"  alumni pages    {addresses.pages_url}   (ALUMNI_BASE_URL: "
        f"{safe_text(get_settings().base_url)})\n"
        f"  work pool       {POOL}, one worker; deployments from {CHECKOUT / 'prefect.yaml'}\n"
        f"  logs            {logs}\n"
        "in other shells, to use this server:\n"
        f"  export PREFECT_API_URL={addresses.api_url}\n"
        "Ctrl-C stops it all.",
        highlight=False,
    )
    while True:
        _check_alive(children)
        time.sleep(_POLL_SECONDS)


def stack_addresses(timeout: float = 3.0) -> StackAddresses | None:
    """The Prefect server the ``alumni`` commands should use, if one answers.

    PREFECT_API_URL when set, else the server of an ``alumni up`` of this PREFECT_HOME (its
    marker); None when neither is there or the server does not answer its health check.
    """
    api_url = os.environ.get("PREFECT_API_URL")
    addresses: StackAddresses | None = None
    if api_url:
        addresses = StackAddresses(api_url=api_url.rstrip("/"), ui_url="", pages_url="")
    else:
        marker = _prefect_home() / MARKER_NAME
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            data = json.loads(marker.read_text(encoding="utf-8"))
            addresses = StackAddresses(
                api_url=str(data["api_url"]),
                ui_url=str(data["ui_url"]),
                pages_url=str(data["pages_url"]),
            )
    if addresses is None:
        return None
    try:
        answer = httpx.get(f"{addresses.api_url}/health", timeout=timeout)
    except httpx.HTTPError:
        return None
    if answer.status_code != httpx.codes.OK:
        return None
    if not addresses.ui_url:
        ui = addresses.api_url.removesuffix("/api")
        addresses = StackAddresses(api_url=addresses.api_url, ui_url=ui, pages_url="")
    return addresses


def stack_database(addresses: StackAddresses) -> str | None:
    """The database (password hidden) the stack of ``alumni up`` was started on; None when
    the server is not one ``up`` started here (PREFECT_API_URL names another)."""
    marker = _prefect_home() / MARKER_NAME
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        data = json.loads(marker.read_text(encoding="utf-8"))
        if data["api_url"] == addresses.api_url:
            return str(data["database"])
    return None


def shown_database(database_url: str) -> str:
    """``database_url`` as the stack compares and shows it: SQLite paths absolute, no password."""
    return _absolute_sqlite(database_url).render_as_string(hide_password=True)


def _absolute_sqlite(database_url: str) -> sa.URL:
    """The URL with an SQLite file path made absolute (flow runs start in the checkout)."""
    url = sa.make_url(database_url)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file and not file.startswith(("file:", ":memory:")):
        url = url.set(database=str(Path(file).absolute()))
    return url


def online_workers(addresses: StackAddresses, pool: str = POOL) -> int:
    """How many workers of ``pool`` the server counts as online."""
    answer = httpx.post(
        f"{addresses.api_url}/work_pools/{pool}/workers/filter", json={}, timeout=30
    )
    if answer.status_code == httpx.codes.NOT_FOUND:
        return 0
    answer.raise_for_status()
    return sum(worker.get("status") == "ONLINE" for worker in answer.json())


def run_deployment(
    addresses: StackAddresses,
    deployment: str,
    parameters: dict[str, object],
    on_state: Callable[[dict[str, object]], None],
) -> dict[str, object]:
    """Start a run of ``deployment`` ("flow/deployment") and follow it to its end.

    ``on_state`` is given the run (as the API returns it) first when it is made and then at
    each change of state. Returns the run in its final state.

    Raises:
        LookupError: the server has no such deployment.
        httpx.HTTPError: the server stopped answering.
    """
    with httpx.Client(base_url=addresses.api_url, timeout=30) as api:
        found = api.get(f"/deployments/name/{deployment}")
        if found.status_code == httpx.codes.NOT_FOUND:
            raise LookupError(
                f"the Prefect server at {addresses.api_url} has no deployment {deployment}: "
                "start the stack with `alumni up` (it registers every deployment)"
            )
        found.raise_for_status()
        # the key makes a retry after a busy answer find the run the first try may have made
        key = f"alumni-{deployment}-{time.time_ns()}"
        created = _patiently(
            lambda: api.post(
                f"/deployments/{found.json()['id']}/create_flow_run",
                json={"parameters": parameters, "idempotency_key": key},
            )
        )
        created.raise_for_status()
        run: dict[str, object] = created.json()
        on_state(run)
        seen = run.get("state_type")
        while seen not in _FINAL_STATES:
            time.sleep(1)
            answer = _patiently(functools.partial(api.get, f"/flow_runs/{run['id']}"))
            answer.raise_for_status()
            run = answer.json()
            if run.get("state_type") != seen:
                seen = run.get("state_type")
                on_state(run)
        return run


def _patiently(ask: Callable[[], httpx.Response], *, tries: int = 30) -> httpx.Response:
    """``ask()`` again, once a second, while the server answers 503: a Prefect server busy
    with its own database says so for a moment (seen on a loaded machine); anything else is
    returned at once."""
    for _ in range(tries - 1):
        answer = ask()
        if answer.status_code != httpx.codes.SERVICE_UNAVAILABLE:
            return answer
        time.sleep(1)
    return ask()


def _stack_environment(host: str, port: int) -> dict[str, str]:
    """What every child sees: this environment, with the stack's server, this checkout, and
    relative SQLite and outbox paths made absolute (flow runs start in the checkout)."""
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(_prefect_home())
    env["PREFECT_API_URL"] = f"http://{_url_host(host)}:{port}/api"
    env["ALUMNI_CHECKOUT"] = str(CHECKOUT)
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PYTHONUNBUFFERED", "1")
    settings = get_settings()
    # prefect.yaml's desk schedules name the office's zone through this variable.
    env.setdefault("ALUMNI_OFFICE_TIMEZONE", settings.office_timezone)
    database = _absolute_sqlite(settings.database_url)
    env["ALUMNI_DATABASE_URL"] = database.render_as_string(hide_password=False)
    env["ALUMNI_OUTBOX_DIR"] = str(settings.outbox_dir.absolute())
    # This process initialises the database the children use.
    for name in ("ALUMNI_DATABASE_URL", "ALUMNI_OUTBOX_DIR"):
        os.environ[name] = env[name]
    get_settings.cache_clear()
    return env


def _init_database() -> None:
    from alumni.cli.main import init  # main registers this command: imported when run

    init()


def _prefect_home() -> Path:
    home = os.environ.get("PREFECT_HOME")
    return Path(home).expanduser().absolute() if home else Path.home() / ".prefect"


def _url_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104  (shown, not bound)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        # As the servers bind: a port in TIME_WAIT from a stack just stopped is free to them.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _become_subreaper() -> None:
    """Orphans of the children (a flow run whose worker stopped) become ours to stop."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    def stop(signum: int, _frame: FrameType | None) -> None:
        # Once: a second Ctrl-C while stopping must not cut the stop short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _StopRequested(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _start(
    children: list[Child],
    name: str,
    argv: list[str],
    env: dict[str, str],
    logs: Path,
    stop_signal: signal.Signals,
) -> Child:
    log = logs / f"{name.replace(' ', '-')}.log"
    with log.open("ab") as handle:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
            argv,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=CHECKOUT,
            start_new_session=True,
        )
    child = Child(name=name, process=process, log=log, stop_signal=stop_signal)
    children.append(child)
    return child


def _check_alive(children: list[Child]) -> None:
    for child in children:
        code = child.process.poll()
        if code is not None and child.name != "prefect deploy":
            raise StackError(
                f"{child.name} exited (code {code}); the end of its log "
                f"({child.log}):\n{child.log_tail()}"
            )


def _wait_until(children: list[Child], url: str, child: Child) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        _check_alive(children)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == httpx.codes.OK:
                return
        time.sleep(_POLL_SECONDS)
    raise StackError(
        f"{child.name} did not answer at {url} within {STARTUP_TIMEOUT_SECONDS:.0f} s; "
        f"its log: {child.log}"
    )


def _wait_for_exit(children: list[Child], child: Child) -> None:
    while child.process.poll() is None:
        _check_alive(children)
        time.sleep(_POLL_SECONDS)
    children.remove(child)
    if child.process.returncode != 0:
        raise StackError(
            f"{child.name} failed (code {child.process.returncode}); the end of its log "
            f"({child.log}):\n{child.log_tail()}"
        )


def _stop_all(children: list[Child]) -> int:
    """Stop the worker, then the rest, then any process they left; kill what outlives the
    grace. Returns 0 if everything exited by itself, 1 if something had to be killed."""
    begun = time.monotonic()
    deadline = begun + STOP_GRACE_SECONDS
    workers = [c for c in children if c.name == "prefect worker"]
    others = [c for c in children if c.name != "prefect worker"]
    for group in (workers, others):
        _stop_group(group, deadline)
    killed = [c.name for c in children if c.process.poll() is None]
    for child in children:
        if child.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
    left = _descendants(os.getpid())
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    _wait_all(lambda: not _reap(left), deadline)
    for pid in _reap(left):
        killed.append(f"process {pid}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _wait_all(lambda: not _reap(left), time.monotonic() + STOP_GRACE_SECONDS)
    if killed:
        out.print(
            f"killed after {STOP_GRACE_SECONDS:.0f} s: {', '.join(killed)} (did not stop on "
            "its signal)",
            highlight=False,
        )
        return 1
    out.print(
        f"stopped in {time.monotonic() - begun:.1f} s: every part of the stack exited by itself",
        highlight=False,
    )
    return 0


def _stop_group(group: list[Child], deadline: float) -> None:
    """Signal each child of ``group`` and wait, until the deadline, saying when each exits."""
    signalled = time.monotonic()
    pending = [child for child in group if child.process.poll() is None]
    for child in pending:
        with contextlib.suppress(ProcessLookupError):
            child.process.send_signal(child.stop_signal)
    while pending and time.monotonic() < deadline:
        for child in [child for child in pending if child.process.poll() is not None]:
            pending.remove(child)
            seconds = time.monotonic() - signalled
            out.print(f"  {child.name} stopped ({seconds:.1f} s)", highlight=False)
        time.sleep(0.05)


def _wait_all(done: Callable[[], bool], deadline: float) -> None:
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)


def _reap(pids: set[int]) -> set[int]:
    """Collect the exit of those of ``pids`` that have ended; return those still running."""
    running = set()
    for pid in pids:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not ours to wait for: see whether it still exists
            if _exists(pid):
                running.add(pid)
            continue
        if done == 0:
            running.add(pid)
    return running


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _descendants(root: int) -> set[int]:
    """Every process below ``root`` (Linux: read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
