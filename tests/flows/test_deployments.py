"""prefect.yaml and the flows agree (no server needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import Flow

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]


def load_flow(entrypoint: str) -> Flow[Any, Any]:
    path, name = entrypoint.split(":")
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = getattr(module, name)
    assert isinstance(found, Flow)
    return found


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_each_deployment_names_a_flow_and_valid_parameters(deployment: dict[str, Any]) -> None:
    flow = load_flow(deployment["entrypoint"])
    parameters = dict(deployment.get("parameters") or {})
    if "campaign_id" in flow.parameters.required:
        parameters["campaign_id"] = 1  # given per run, in the UI's form or the CLI
    flow.validate_parameters(parameters)
    for schedule in deployment.get("schedules") or []:
        assert schedule["cron"] and schedule["timezone"]
    assert deployment["work_pool"]["name"] == "alumni"


def test_flow_files_do_not_shadow_the_standard_library() -> None:
    import sys

    names = {path.stem for path in (ROOT / "flows").glob("*.py")}
    assert not names & set(sys.stdlib_module_names)
