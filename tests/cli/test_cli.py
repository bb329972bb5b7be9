"""The `alumni` command as an officer types it (typer's runner; no Prefect run here)."""

from __future__ import annotations

import base64
import email
import json
from email import policy
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.settings import get_settings
from tests.factories import add_alumnus

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_init_is_safe_to_run_twice(sqlite_url: str) -> None:
    assert "database ready" in invoke("init")
    assert "database ready" in invoke("init")


def test_seed_and_report(sqlite_url: str) -> None:
    assert "seeded 300 new alumni" in invoke("seed", "--alumni", "300")
    rows = json.loads(invoke("report", "classes", "--format", "json"))
    assert sum(r["alumni"] for r in rows if r["class_year"] is not None) > 250
    assert invoke("report", "classes", "--format", "csv").startswith("class_year,")


def test_campaign_create_prints_the_id_last_and_one_per_class(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "A1", class_year=2016, email="a1@example.com")
    add_alumnus(sqlite_url, "A2", class_year=2017, email="a2@example.com")
    output = invoke(
        "campaign",
        "create",
        "--name",
        "Reunion",
        "--class-year",
        "2016",
        "--class-year",
        "2017",
        "--template",
        "reunion",
        "--send-at",
        "09:30",
    )
    lines = output.strip().splitlines()
    assert lines[-1] == "2" and "campaign 1: class of 2016" in lines[0]
    listing = invoke("campaign", "list")
    assert "class of 2016" in listing and "class of 2017" in listing


def test_campaign_create_refuses_bad_options_and_writes_nothing(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "A1", class_year=2016, email="a1@example.com")
    for args, message in [
        (["--template", "nosuch"], "no templates/email/nosuch"),
        (["--template", "reunion", "--send-at", "23:30"], "night"),
        (["--template", "reunion", "--not-before", "2027-06-01T09:00"], "UTC offset"),
        (["--template", "reunion", "--class-year", "1950"], "no alumni of that class"),
    ]:
        result = runner.invoke(
            app, ["campaign", "create", "--name", "x", "--class-year", "2016", *args]
        )
        assert result.exit_code == 1 and message in result.output, result.output
    assert invoke("campaign", "list").strip() == ""


def test_preview_renders_one_alum_in_their_language_with_dkim(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("ALUMNI_DKIM_SELECTOR", "s1")
    monkeypatch.setenv("ALUMNI_DKIM_KEY_FILE", str(tmp_path / "dkim.pem"))
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    get_settings.cache_clear()
    add_alumnus(
        sqlite_url, "A1", class_year=2016, email="ana@example.com", locale="pt-BR", first_name="Ana"
    )
    invoke("campaign", "create", "--name", "R", "--class-year", "2016", "--template", "reunion")
    text = invoke("campaign", "preview", "1", "--alumnus", "A1")
    assert "Locale: pt-BR" in text and "Ana" in text
    out = runner.invoke(app, ["campaign", "preview", "1", "--part", "raw"]).stdout_bytes
    raw = out.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "ana@example.com"
    assert "list-unsubscribe-post" in message["DKIM-Signature"].lower()
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: record)
    get_settings.cache_clear()


def test_status_of_an_unknown_campaign_is_a_clear_error(sqlite_url: str) -> None:
    result = runner.invoke(app, ["campaign", "status", "99"])
    assert result.exit_code == 1 and "no campaign with id 99" in result.output


def test_export_and_erase(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "A1", email="ana@example.com", first_name="Ana")
    exported = json.loads(invoke("export", "A1"))
    assert exported["tables"]["contactpoint"][0]["value"] == "ana@example.com"
    assert "erased A1" in invoke("erase", "A1", "--yes")
    assert "ana@example.com" not in invoke("export", "erased-1")


def test_an_event_invite_is_a_campaign_of_its_own(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "A1", class_year=2016, email="a1@example.com")
    created = invoke(
        "event",
        "create",
        "--class-year",
        "2016",
        "--title",
        "Reunion",
        "--starts",
        "2027-06-12 18:00",
        "--tz",
        "Europe/London",
    )
    event_id = created.strip().splitlines()[-1]
    output = invoke("campaign", "create", "--event", event_id)
    campaign_id = output.strip().splitlines()[-1]
    assert campaign_id.isdigit()
    assert invoke("campaign", "create", "--event", event_id).strip().splitlines()[-1] == (
        campaign_id
    )  # the same invite, not a second one
    result = runner.invoke(app, ["campaign", "create", "--name", "x"])
    assert result.exit_code == 1 and "--event ID" in result.output


def test_a_key_file_open_to_others_stops_every_command_with_the_chmod(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "open-secret"
    key_file.write_text("k" * 48)
    key_file.chmod(0o644)
    monkeypatch.setenv("ALUMNI_SECRET_KEY_FILE", str(key_file))
    monkeypatch.delenv("ALUMNI_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    for args in (["init"], ["report", "classes"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        assert f"chmod 600 {key_file}" in result.output
        assert "Traceback" not in result.output
