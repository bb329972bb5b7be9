"""``alumni worker``: a Prefect process worker that stops within seconds of SIGINT or SIGTERM.

Why not ``prefect worker start``: in Prefect 3.9.1 its handler
(``prefect.utilities.processutils.setup_signal_handlers_worker``) answers SIGTERM by sending
itself SIGINT, and that SIGINT ends in ``asyncio.run``'s handler, which cancels the main task
once (``Task.cancel()``) and relies on it to unwind. Measured here: five of six workers sent
SIGTERM or SIGINT kept polling ("Discovered 0 scheduled_flow_runs" every 10 s) for minutes and
stopped only when killed. The likely cause, seen with a traced ``Task``: anyio's cancel scopes
``uncancel()`` their host task when they exit (every API request goes through one, in
``anyio.connect_tcp``), so a single native cancellation landing there is lost. This worker is
the same ``ProcessWorker``, run in an anyio task group whose cancel scope the signal cancels;
anyio delivers a scope's cancellation again until every task has left it, so the worker stops
at once.

A flow run the worker started is a process of its own; it is not stopped with the worker
(as with ``prefect worker start``). ``alumni up`` stops those too, and a campaign's ledger
lets the next run take over what a stopped run left.
"""

from __future__ import annotations

import os
import signal
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
CHECKOUT = Path(__file__).resolve().parents[2]


def worker(
    pool: Annotated[str, typer.Option(help="The work pool to take flow runs from.")] = "alumni",
    name: Annotated[
        str | None, typer.Option(help="The worker's name in the Prefect UI (default: random).")
    ] = None,
) -> None:
    """Run a Prefect worker for the work pool (PREFECT_API_URL: the server); Ctrl-C stops it."""
    from prefect.settings import PREFECT_API_URL

    from alumni.cli.output import fail

    # The deployments' pull step moves each flow run into $ALUMNI_CHECKOUT: this checkout.
    os.environ.setdefault("ALUMNI_CHECKOUT", str(CHECKOUT))
    if not PREFECT_API_URL.value():
        raise fail(
            "PREFECT_API_URL is not set: a worker takes its flow runs from a Prefect server; "
            "set it to the server's API, e.g. export PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    try:
        anyio.run(run_worker, pool, name)
    except ValueError as exc:  # a worker name Prefect refuses
        raise fail(str(exc)) from None


async def run_worker(pool: str, name: str | None) -> None:
    """Poll ``pool`` and run its flow runs until SIGINT or SIGTERM arrives, then return.

    Raises:
        ValueError: PREFECT_API_URL is not set, or ``name`` holds '/' or '%'.
    """
    from prefect.workers.process import ProcessWorker

    process_worker = ProcessWorker(work_pool_name=pool, name=name)

    def say(*args: Any, **_style: Any) -> None:
        print(*args, flush=True)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_stop_on_signal, tasks.cancel_scope)
        tasks.start_soon(partial(process_worker.start, printer=say))
    print(f"worker {process_worker.name!r} stopped", flush=True)


async def _stop_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async for signum in signals:
            print(f"{signal.Signals(signum).name}: stopping the worker", flush=True)
            scope.cancel()
            return
