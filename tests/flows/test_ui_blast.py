"""The blast as an officer starts it from the Prefect UI, in a real browser: a real
``prefect server start`` (its UI served from the installed package), the ``blast`` deployment
registered by ``prefect deploy`` from prefect.yaml, and Debian's Chromium driven by Playwright
through Run > Custom run: the form refuses an empty class list, takes the class year, the
template (from the form's own list) and dry run, and makes a flow run; ``prefect flow-run
execute`` runs it as a worker would; the run, its name, state message and report artifact are
then found through the Prefect API and shown in the UI. Screenshots are kept under
``tests/artifacts/prefect-ui/`` (printed).

Skipped when ``/usr/bin/chromium`` is absent (CI installs it: ``.ci/run``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import prefect
import pytest
import sqlalchemy as sa

from alumni.db import engine_for
from alumni.models import Campaign, Delivery, table_of
from tests.browser import CHROMIUM, chromium, keep, needs_chromium
from tests.factories import add_alumnus, daytime_zone
from tests.mail_servers import wait_for
from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "prefect-ui"
PREFECT = Path(sys.executable).parent / "prefect"
UI_FILES = Path(prefect.__file__).parent / "server" / "ui" / "index.html"

pytestmark = [
    pytest.mark.slow,
    needs_chromium,
]

if CHROMIUM.exists():
    from playwright.sync_api import Locator, Page


@dataclass
class PrefectUi:
    url: str  # the UI; the API is under /api
    env: dict[str, str]  # what a prefect command needs to reach it
    log: Path

    @property
    def api(self) -> str:
        return f"{self.url}/api"

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.api}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.api}{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def prefect(self, *args: str, extra: dict[str, str] | None = None) -> str:
        """Run a ``prefect`` command against this server from the checkout; its output."""
        done = subprocess.run(
            [str(PREFECT), "--no-prompt", *args],
            cwd=ROOT,
            env={**os.environ, **self.env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def prefect_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectUi]:
    """``prefect server start`` with its UI, on a free port and a home of its own."""
    assert UI_FILES.exists(), f"the installed prefect has no UI build at {UI_FILES.parent}"
    home = tmp_path_factory.mktemp("prefect-ui-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"{url}/api",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),  # the UI asks the API here
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    log = home / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(PREFECT), "server", "start"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopped with everything it started
        )
    try:
        wait_for(
            lambda: _healthy(url),
            "the Prefect server",
            seconds=180,
            detail=lambda: log.read_text(errors="replace")[-3000:],
        )
        yield PrefectUi(url=url, env=env, log=log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def form_field(page: Page, label: str) -> Locator:
    """The run form's field whose label reads ``label`` exactly."""
    title = page.locator(".schema-form-property__label", has_text=re.compile(f"^{label}$"))
    return page.locator(".schema-form-property").filter(has=title).first


def runs_of(ui: PrefectUi, deployment_id: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = ui.post(
        "/flow_runs/filter", {"deployments": {"id": {"any_": [deployment_id]}}}
    )
    return runs


def test_a_dry_run_blast_from_the_ui_form(
    sqlite_url: str, prefect_ui: PrefectUi, tmp_path: Path
) -> None:
    for n in range(3):
        add_alumnus(sqlite_url, f"U{n}", email=f"u{n}@example.org", timezone=daytime_zone())
    add_alumnus(sqlite_url, "U-nomail", timezone=daytime_zone())

    prefect_ui.prefect("work-pool", "create", "alumni", "--type", "process")
    deployed = prefect_ui.prefect("deploy", "--name", "blast", extra={"ALUMNI_CHECKOUT": str(ROOT)})
    assert "blast/blast" in deployed
    deployment = prefect_ui.get("/deployments/name/blast/blast")
    schema = deployment["parameter_openapi_schema"]
    assert schema["definitions"]["Template"]["enum"] == ["newsletter", "reunion"]
    assert all(p.get("description") for p in schema["properties"].values())

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(f"{prefect_ui.url}/deployments/deployment/{deployment['id']}")
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_role("button", name="Custom run").click()
        page.wait_for_url(re.compile(r"/run\b"))
        years = form_field(page, "class_years")
        years.wait_for()
        keep(page, "1-custom-run-form", ARTIFACTS)

        # an empty class list is refused by the form itself: no run is made
        page.get_by_role("button", name="Submit").click()
        refusal = page.get_by_text(re.compile("at least 1 item|required", re.IGNORECASE))
        refusal.first.wait_for()
        print("the form says:", [t.strip() for t in refusal.all_inner_texts()])
        refusal.first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "2-refused-without-a-class.png"))
        assert runs_of(prefect_ui, deployment["id"]) == []

        years.get_by_role("button", name="Add item").click()
        years.locator("input[type=number]").fill("2016")
        # the template's list opens from the keyboard (a click toggles it shut again)
        form_field(page, "template").locator("button.p-select-button__control").focus()
        page.keyboard.press("ArrowDown")
        page.get_by_role("option", name="reunion").wait_for()
        assert [o.inner_text() for o in page.get_by_role("option").all()] == [
            "newsletter",
            "reunion",
        ]
        page.get_by_role("option", name="reunion").click()
        form_field(page, "template").get_by_text("reunion").wait_for()
        dry_run = form_field(page, r"dry_run \(Optional\)").get_by_role("switch")
        dry_run.scroll_into_view_if_needed()
        dry_run.click()
        keep(page, "3-filled-form", ARTIFACTS)
        assert dry_run.get_attribute("aria-checked") == "true"
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url(re.compile(r"/deployments/deployment/[^/]+(\?.*)?$"))

        (run,) = runs_of(prefect_ui, deployment["id"])
        assert run["parameters"]["class_years"] == [2016]
        assert run["parameters"]["template"] == "reunion"
        assert run["parameters"]["dry_run"] is True

        # what a worker of the alumni pool does with it
        prefect_ui.prefect(
            "flow-run",
            "execute",
            run["id"],
            extra={"ALUMNI_CHECKOUT": str(ROOT), "PYTHONPATH": str(ROOT)},
        )
        done = prefect_ui.get(f"/flow_runs/{run['id']}")
        assert done["state"]["type"] == "COMPLETED", done["state"]
        assert done["name"] == "dry-run-blast-reunion-2016"
        assert done["state"]["message"] == (
            "dry run, nothing sent: class of 2016: 3 would get it, 1 skipped (no_email 1)"
        )
        artifacts = prefect_ui.post(
            "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}
        )
        report = {a["key"]: a for a in artifacts}["blast-dry-run-2016"]
        assert "Dry run: nothing was sent" in report["data"]
        assert "3 alumni would get this message" in report["description"]

        page.goto(f"{prefect_ui.url}/runs/flow-run/{run['id']}")
        page.get_by_text("dry-run-blast-reunion-2016").first.wait_for()
        page.get_by_text(re.compile("Finished in state Completed")).first.wait_for()
        keep(page, "4-flow-run-logs", ARTIFACTS)
        page.get_by_text("Artifacts", exact=True).first.click()
        page.get_by_text("blast-dry-run-2016").first.wait_for()
        keep(page, "5-flow-run-artifacts", ARTIFACTS)
        page.goto(f"{prefect_ui.url}/artifacts/artifact/{report['id']}")
        page.get_by_text("Dry run: nothing was sent").first.wait_for()
        keep(page, "6-report-artifact", ARTIFACTS)

    with engine_for(sqlite_url).connect() as connection:
        for table in (Campaign, Delivery):
            count = sa.select(sa.func.count()).select_from(table_of(table))
            assert connection.execute(count).scalar_one() == 0
