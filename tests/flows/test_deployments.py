"""prefect.yaml and the flows agree, with no server: every deployment's entrypoint loads as
``prefect deploy`` and a worker load it, its parameters (plus a value of the right type for each
one the run form asks for) pass ``flow.validate_parameters``, every schedule parses as Prefect
builds it (cron and time zone, the office's zone filled in from the environment as at deploy
time), and every flow under flows/ has a deployment. Generic: deployments added to prefect.yaml
are covered without changing this file."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import Flow
from prefect.client.schemas.schedules import CronSchedule
from prefect.flows import load_flow_from_entrypoint
from prefect.utilities.templating import apply_values

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
OFFICE_ZONE = "{{ $ALUMNI_OFFICE_TIMEZONE }}"  # the one templated zone prefect.yaml may use


def load_flow(entrypoint: str) -> Flow[Any, Any]:
    path, name = entrypoint.split(":")
    found = load_flow_from_entrypoint(f"{ROOT / path}:{name}")
    assert isinstance(found, Flow)
    return found


def sample(schema: dict[str, Any], definitions: dict[str, Any]) -> Any:
    """A value of the type a parameter's JSON schema asks for (what the UI's form would send)."""
    if "$ref" in schema:
        return sample(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions)
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        typed = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return sample(typed[0], definitions)
    kind = schema.get("type")
    if kind == "array":
        return [sample(schema.get("items", {}), definitions)] * max(1, schema.get("minItems", 1))
    if kind == "object":
        properties = schema.get("properties", {})
        return {k: sample(properties[k], definitions) for k in schema.get("required", [])}
    if kind == "string" and schema.get("format") == "date-time":
        return "2027-06-01T09:00:00+01:00"
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    return {"boolean": False, "string": "x"}.get(kind)


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_each_deployment_names_a_flow_and_valid_parameters(deployment: dict[str, Any]) -> None:
    flow = load_flow(deployment["entrypoint"])
    schema = flow.parameters.model_dump()
    parameters = dict(deployment.get("parameters") or {})
    for name in schema.get("required", []):
        # given per run, in the UI's form or the CLI
        parameters.setdefault(name, sample(schema["properties"][name], schema["definitions"]))
    flow.validate_parameters(parameters)
    assert deployment["work_pool"]["name"] == "alumni"
    assert deployment.get("description"), "the UI shows it: say what the deployment does"


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_each_schedule_parses_in_its_zone(
    deployment: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUMNI_OFFICE_TIMEZONE", "America/Sao_Paulo")
    for config in deployment.get("schedules") or []:
        assert config["timezone"] in ("UTC", OFFICE_ZONE), "UTC, or the office's zone"
        minute, hour = config["cron"].split()[:2]
        if minute.isdigit() and hour.isdigit():  # at a time of day: the office's day
            assert config["timezone"] == OFFICE_ZONE, "a time of day is the office's"
        resolved = apply_values(config, dict(os.environ), remove_notset=False)
        schedule = CronSchedule(cron=resolved["cron"], timezone=resolved["timezone"])
        assert schedule.timezone in ("UTC", "America/Sao_Paulo")


def test_a_zone_that_is_not_one_is_refused() -> None:
    # the check above can fail: CronSchedule refuses what is not an IANA zone or a cron
    with pytest.raises(ValueError):
        CronSchedule(cron="0 9 1 * *", timezone=OFFICE_ZONE)
    with pytest.raises(ValueError):
        CronSchedule(cron="0 9 1 13 *", timezone="UTC")


def test_every_flow_under_flows_has_a_deployment() -> None:
    deployed = {d["entrypoint"] for d in DEPLOYMENTS}
    flows = set()
    for path in sorted((ROOT / "flows").glob("*.py")):
        module = importlib.import_module(f"flows.{path.stem}")
        flows |= {
            f"flows/{path.name}:{name}"
            for name, value in vars(module).items()
            if isinstance(value, Flow) and value.fn.__module__ == module.__name__
        }
    assert flows, "no flow found: the scan is broken"
    assert flows - deployed == set(), "add a deployment to prefect.yaml for each of these"
    assert len({d["name"] for d in DEPLOYMENTS}) == len(DEPLOYMENTS), "names are unique"


def test_flow_files_do_not_shadow_the_standard_library() -> None:
    import sys

    names = {path.stem for path in (ROOT / "flows").glob("*.py")}
    assert not names & set(sys.stdlib_module_names)
