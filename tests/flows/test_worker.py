"""A real Prefect server and worker: the ``class-campaign`` deployment run as the office runs it.

The stack is ``alumni up`` (server, process work pool, ``alumni worker``, every deployment of
prefect.yaml); the campaign goes to a real SMTP server (aiosmtpd); the run, its name, its state
and its report artifact are read back through the Prefect API, as the UI reads them. And the
worker stops on SIGTERM by itself (``prefect worker start`` of Prefect 3.9.1 did not).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.campaign import class_campaign
from tests.factories import add_alumnus, add_campaign, daytime_zone
from tests.office_stack import EXIT_TIMEOUT, ROOT, processes, start_stack
from tests.smtp_server import Recorder, Serve

pytestmark = pytest.mark.slow

# A flow run is started by the worker's next poll (every 10 s, shipped) in a process of its own.
RUN_TIMEOUT = 600.0
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def test_the_class_campaign_deployment_runs_on_the_worker_to_a_real_smtp_server(
    tmp_path: Path, serve: Serve
) -> None:
    handler = Recorder()
    smtp = serve(handler)
    stack = start_stack(tmp_path, ALUMNI_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}?tls=none")
    try:
        addresses = [f"worker{n}@example.org" for n in range(5)]
        for n, address in enumerate(addresses):
            add_alumnus(stack.database_url, f"W{n}", email=address, timezone=daytime_zone())
        campaign_id = add_campaign(stack.database_url)

        with httpx.Client(base_url=stack.api_url, timeout=30) as api:
            deployment = api.get("/deployments/name/class-campaign/class-campaign").json()
            created = api.post(
                f"/deployments/{deployment['id']}/create_flow_run",
                json={"parameters": {"campaign_id": campaign_id}},
            ).json()
            run = _wait_for_end(api, created["id"])
            assert run["state_type"] == "COMPLETED", run["state"]

            # Found as the UI lists them: the runs of the deployment.
            runs = api.post(
                "/flow_runs/filter",
                json={"flow_runs": {"deployment_id": {"any_": [deployment["id"]]}}},
            ).json()
            assert [r["id"] for r in runs] == [created["id"]]
            if class_campaign.flow_run_name is not None:  # run names came with issue 12.5
                assert run["name"].startswith(f"campaign-{campaign_id} "), run["name"]
            artifacts = api.post(
                "/artifacts/filter",
                json={"artifacts": {"key": {"any_": [f"campaign-{campaign_id}-report"]}}},
            ).json()
            assert [a["flow_run_id"] for a in artifacts] == [created["id"]]
            assert "sent" in artifacts[0]["data"]

        sent = Counter(rcpt for message in handler.received for rcpt in message.rcpt_tos)
        assert sent == Counter(addresses)
        code = stack.stop(signal.SIGTERM)
    except BaseException:
        stack.kill()
        raise
    assert code == 0, stack.text()


def test_alumni_worker_stops_on_sigterm_by_itself(prefect_api: str, tmp_path: Path) -> None:
    output = tmp_path / "worker.out"
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PYTHONPATH": str(ROOT)}
    with output.open("wb") as handle:
        worker = subprocess.Popen(
            [sys.executable, "-m", "alumni.cli.main", "worker", "--pool", "sigterm-test"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    try:
        _wait_for_text(output, "started!", worker)
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=EXIT_TIMEOUT)
    except BaseException:
        worker.kill()
        worker.wait()
        raise
    said = output.read_text()
    assert code == 0, said
    stopping = said.index("SIGTERM: stopping the worker")
    assert "' stopped" in said[stopping:]


def _wait_for_end(api: httpx.Client, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        run: dict[str, Any] = api.get(f"/flow_runs/{run_id}").json()
        if run["state_type"] in TERMINAL:
            return run
        assert time.monotonic() < deadline, f"the run is still {run['state_type']}"
        time.sleep(0.5)


def _wait_for_text(path: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + EXIT_TIMEOUT
    while text not in path.read_text(errors="replace"):
        assert process.poll() is None, path.read_text(errors="replace")
        assert time.monotonic() < deadline, path.read_text(errors="replace")
        time.sleep(0.2)


def test_ctrl_c_during_a_campaign_run_stops_the_run_too_and_leaves_no_process(
    tmp_path: Path, serve: Serve
) -> None:
    handler = Recorder()
    handler.delay = 0.5  # each message takes a while: the run is mid-send at Ctrl-C
    smtp = serve(handler)
    stack = start_stack(tmp_path, ALUMNI_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}?tls=none")
    try:
        for n in range(60):
            add_alumnus(
                stack.database_url, f"S{n}", email=f"slow{n}@example.org", timezone=daytime_zone()
            )
        campaign_id = add_campaign(stack.database_url)
        with httpx.Client(base_url=stack.api_url, timeout=30) as api:
            deployment = api.get("/deployments/name/class-campaign/class-campaign").json()
            api.post(
                f"/deployments/{deployment['id']}/create_flow_run",
                json={"parameters": {"campaign_id": campaign_id}},
            ).raise_for_status()
        deadline = time.monotonic() + RUN_TIMEOUT
        while not handler.received:
            assert time.monotonic() < deadline, stack.text()
            time.sleep(0.2)
        sessions = stack.sessions()
        assert len(sessions) >= 5  # up, server, pages, worker, and the flow run's own
        code = stack.stop(signal.SIGINT)
    except BaseException:
        stack.kill()
        raise
    said = stack.text()
    assert code == 0, said
    assert "every part of the stack exited by itself" in said
    assert len(handler.received) < 60  # stopped mid-campaign, not waited for
    assert not {pid for pid, (_, sid) in processes().items() if sid in sessions}
