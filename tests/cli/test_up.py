"""``alumni up`` end to end: the stack starts on free ports, answers, and stops leaving nothing.

Each test starts the real stack in a subprocess (Prefect server and UI, worker, every
deployment of prefect.yaml, the alumni pages) with the shipped stop grace, as an officer would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.cli.stack import MARKER_NAME
from tests.office_stack import (
    EXIT_TIMEOUT,
    deployment_names,
    deployments,
    descendants,
    processes,
    start_stack,
)

pytestmark = pytest.mark.slow


def test_up_serves_ui_pages_and_deployments_and_ctrl_c_stops_every_process(
    tmp_path: Path,
) -> None:
    stack = start_stack(tmp_path)
    try:
        started = stack.text()
        assert f"export PREFECT_API_URL={stack.api_url}" in started
        assert stack.ui_url in started and stack.pages_url in started

        assert httpx.get(f"{stack.api_url}/health", timeout=30).status_code == 200
        ui = httpx.get(f"{stack.ui_url}/", timeout=30)
        assert ui.status_code == 200 and "<html" in ui.text.lower()
        pages = httpx.get(f"{stack.pages_url}/healthz", timeout=30)
        assert pages.json() == {"status": "ok"}

        registered = deployments(stack.api_url)
        assert set(registered) == deployment_names()
        assert {d["work_pool_name"] for d in registered.values()} == {"alumni"}
        pool = httpx.get(f"{stack.api_url}/work_pools/alumni", timeout=30).json()
        assert pool["type"] == "process"
        workers = httpx.post(
            f"{stack.api_url}/work_pools/alumni/workers/filter", json={}, timeout=30
        ).json()
        assert [w["status"] for w in workers] == ["ONLINE"]

        marker = json.loads((stack.home / MARKER_NAME).read_text())
        assert marker["api_url"] == stack.api_url

        sessions = stack.sessions()
        assert len(sessions) >= 4  # up, and server, worker and pages in sessions of their own
        code = stack.stop(signal.SIGINT)
    except BaseException:
        stack.kill()
        raise

    said = stack.text()
    assert code == 0, said
    # Nothing was killed: each part stopped on its own signal within up's shipped grace.
    assert "every part of the stack exited by itself" in said
    assert "killed" not in said
    assert not {pid for pid, (_, sid) in processes().items() if sid in sessions}
    assert not (stack.home / MARKER_NAME).exists()


def test_a_child_that_dies_is_named_and_the_rest_are_stopped(tmp_path: Path) -> None:
    stack = start_stack(tmp_path)
    try:
        sessions = stack.sessions()
        serve_pid = next(
            pid for pid in descendants(stack.process.pid) if " serve " in _command_line(pid)
        )
        os.kill(serve_pid, signal.SIGKILL)
        code = stack.process.wait(timeout=EXIT_TIMEOUT)
    except BaseException:
        stack.kill()
        raise

    said = stack.text()
    assert code == 1, said
    assert "alumni serve exited (code -9)" in said
    assert "every part of the stack exited by itself" in said
    assert not {pid for pid, (_, sid) in processes().items() if sid in sessions}


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_demo_runs_its_campaign_as_a_deployment_run_on_the_stack(tmp_path: Path) -> None:
    stack = start_stack(tmp_path)
    try:
        demo = subprocess.run(
            [sys.executable, "-m", "alumni.cli.main", "demo", "--alumni", "100"],
            env=stack.env,  # no PREFECT_API_URL: the demo finds the stack by up's marker
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=EXIT_TIMEOUT * 3,
        )
        campaigns = deployments(stack.api_url)["class-campaign"]["id"]
        runs = httpx.post(
            f"{stack.api_url}/flow_runs/filter",
            json={"flow_runs": {"deployment_id": {"any_": [campaigns]}}},
            timeout=30,
        ).json()
        code = stack.stop(signal.SIGINT)
    except BaseException:
        stack.kill()
        raise
    assert demo.returncode == 0, demo.stdout + demo.stderr
    said = demo.stdout
    assert f"on the stack ({stack.ui_url}), as a run of the class-campaign deployment" in said
    assert "temporary server" not in said
    (run,) = runs
    assert f"{stack.ui_url}/runs/flow-run/{run['id']}" in said
    assert run["state_type"] == "COMPLETED"
    assert re.search(r"campaign \d+ \(Class of \d+: 10-year reunion, class of \d+\)", said)
    assert list((tmp_path / "outbox" / "new").iterdir())  # the worker wrote the Maildir
    assert code == 0


def test_a_port_in_use_is_refused_before_anything_starts(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["up", "--port", str(port)])
    assert result.exit_code == 1
    assert f"127.0.0.1:{port} is in use" in result.output and "give another --port" in result.output
    assert not (tmp_path / "prefect").exists()  # nothing started, no logs, no marker
