"""``alumni doctor`` against real peers: aiosmtpd with and without AUTH, Dovecot, mastodon-mock,
a real Prefect server, and real databases, key files and templates gone wrong."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import AuthResult, LoginPassword
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import alembic_config, head_revision, upgrade
from alumni.settings import get_settings
from tests.mail_servers import MailSystem
from tests.smtp_server import Recorder, Serve, free_port
from tests.social_servers import MastodonServer

runner = CliRunner()
PASSWORD = "s3cret-Pa55"
_LINE = re.compile(
    r"^(ok|warn|FAIL)\s+(database|templates|key|smtp|imap|social|base url|prefect)\s+(.*)$"
)


def check_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"officer",
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def doctor() -> tuple[int, dict[str, tuple[str, str]], str]:
    """Run ``alumni doctor``: exit code, {check: (status, detail)}, and the whole output."""
    get_settings.cache_clear()
    result = runner.invoke(app, ["doctor"])
    checks: dict[str, tuple[str, str]] = {}
    for line in result.output.splitlines():
        match = _LINE.match(line)
        if match:
            checks[match[2]] = (match[1], match[3])
    assert len(checks) == 8, result.output
    return result.exit_code, checks, result.output


@pytest.fixture
def configured(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A sound office: migrated database, private key file, https base URL, nothing else."""
    for name in ("ALUMNI_SMTP_URL", "ALUMNI_IMAP_URL", "PREFECT_API_URL", "ALUMNI_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("ALUMNI_MASTODON_URL", "ALUMNI_BLUESKY_URL", "ALUMNI_BLUESKY_HANDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALUMNI_BASE_URL", "https://alumni.school.example")
    get_settings.cache_clear()
    get_settings().signing_key()  # the key file, mode 600
    return sqlite_url


def test_a_sound_configuration_passes_every_check_and_shows_no_secret(
    configured: str, serve: Serve, monkeypatch: pytest.MonkeyPatch, mastodon: MastodonServer
) -> None:
    controller = serve(Recorder(), authenticator=check_login, auth_require_tls=False)
    monkeypatch.setenv(
        "ALUMNI_SMTP_URL", f"smtp://officer:{quote(PASSWORD)}@127.0.0.1:{controller.port}"
    )
    monkeypatch.setenv("ALUMNI_MASTODON_URL", mastodon.url)
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", mastodon.token)
    code, checks, output = doctor()
    assert code == 0, output
    assert checks["database"] == (
        "ok",
        f"{configured}, at the newest migration ({head_revision()})",
    )
    for name in ("templates", "key", "smtp", "social", "base url"):
        assert checks[name][0] == "ok", output
    assert "logged in as 'officer'" in checks["smtp"][1]
    assert "mastodon as" in checks["social"][1]
    assert checks["imap"][0] == "warn" and checks["prefect"][0] == "warn"
    assert PASSWORD not in output and quote(PASSWORD) not in output
    assert mastodon.token not in output


def test_an_smtp_relay_without_auth_passes(configured: str, serve: Serve, monkeypatch) -> None:
    controller = serve(Recorder())
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    code, checks, output = doctor()
    assert code == 0, output
    assert checks["smtp"][0] == "ok" and "logged in" not in checks["smtp"][1]
    assert f"127.0.0.1:{controller.port} (mx.test) answered, tls=none" in checks["smtp"][1]


def test_a_wrong_smtp_password_fails_saying_what_to_fix_and_sends_nothing(
    configured: str, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = Recorder()
    controller = serve(handler, authenticator=check_login, auth_require_tls=False)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://officer:wrong-Pa55@127.0.0.1:{controller.port}")
    code, checks, output = doctor()
    assert code == 1
    status, detail = checks["smtp"]
    assert status == "FAIL"
    assert "refused the login as 'officer'" in detail
    assert "check the user and password in the SMTP URL" in detail
    assert "wrong-Pa55" not in output
    assert handler.received == []


def test_an_smtp_server_that_does_not_answer_fails(configured: str, monkeypatch) -> None:
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    code, checks, _ = doctor()
    assert code == 1
    assert checks["smtp"][0] == "FAIL" and "that the server is running" in checks["smtp"][1]


def test_a_key_file_others_can_read_fails_with_the_chmod_to_run(configured: str) -> None:
    key_file = get_settings().key_file()
    key_file.chmod(0o644)
    code, checks, _ = doctor()
    assert code == 1
    status, detail = checks["key"]
    assert status == "FAIL" and f"chmod 600 {key_file.absolute()}" in detail


def test_a_missing_database_fails_and_is_not_created(
    configured: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.db"
    monkeypatch.setenv("ALUMNI_DATABASE_URL", f"sqlite:///{missing}")
    code, checks, _ = doctor()
    assert code == 1
    assert checks["database"] == (
        "FAIL",
        f"sqlite:///{missing}: no such file; run `alumni init` to create it",
    )
    assert not missing.exists()


def test_an_unmigrated_and_an_old_database_fail_saying_to_run_init(
    configured: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()  # a file with no tables
    monkeypatch.setenv("ALUMNI_DATABASE_URL", f"sqlite:///{empty}")
    code, checks, _ = doctor()
    assert code == 1
    assert checks["database"] == (
        "FAIL",
        f"sqlite:///{empty} is not initialised; run `alumni init`",
    )

    old = f"sqlite:///{tmp_path / 'old.db'}"
    scripts = ScriptDirectory.from_config(alembic_config(old))
    previous = scripts.get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    upgrade(old, previous)
    monkeypatch.setenv("ALUMNI_DATABASE_URL", old)
    code, checks, _ = doctor()
    assert code == 1
    status, detail = checks["database"]
    assert status == "FAIL" and f"is at migration {previous}" in detail
    assert "run `alumni init` to upgrade it" in detail


def test_a_template_with_a_syntax_error_fails_naming_the_file_and_line(
    configured: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(get_settings().templates_dir, templates)
    broken = templates / "email" / "reunion" / "en.html.j2"
    broken.write_text("<p>Dear {{ alum.first_name }}</p>\n<p>{% if alum.city %}</p>\n")
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(templates))
    code, checks, output = doctor()
    assert code == 1
    status, detail = checks["templates"]
    assert status == "FAIL" and detail.startswith("1 of ")
    assert "  template email/reunion/en.html.j2: syntax error on line 2" in output


@pytest.mark.parametrize(
    ("base_url", "status", "code"),
    [
        ("http://alumni.school.example", "FAIL", 1),
        ("http://localhost:8000", "warn", 0),
        ("alumni.school.example", "FAIL", 1),
    ],
)
def test_the_base_url_must_be_https_off_this_machine(
    configured: str, monkeypatch: pytest.MonkeyPatch, base_url: str, status: str, code: int
) -> None:
    monkeypatch.setenv("ALUMNI_BASE_URL", base_url)
    exit_code, checks, output = doctor()
    assert exit_code == code, output
    assert checks["base url"][0] == status


def test_the_office_mailbox_on_dovecot_passes_and_a_wrong_password_fails(
    configured: str, mail: MailSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(mail.certificate))
    monkeypatch.setenv("ALUMNI_IMAP_URL", mail.imap_url())
    code, checks, output = doctor()
    assert code == 0, output
    assert checks["imap"][0] == "ok" and "(encrypted)" in checks["imap"][1]

    password = quote(mail.office.password, safe="")
    monkeypatch.setenv("ALUMNI_IMAP_URL", mail.imap_url().replace(password, "Wrong-0ne"))
    code, checks, output = doctor()
    assert code == 1
    assert checks["imap"][0] == "FAIL" and "refused the login" in checks["imap"][1]
    assert "Wrong-0ne" not in output and mail.office.password not in output


def test_a_wrong_mastodon_token_fails(
    configured: str, monkeypatch: pytest.MonkeyPatch, mastodon: MastodonServer
) -> None:
    monkeypatch.setenv("ALUMNI_MASTODON_URL", mastodon.url)
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", "wrong-token-4711")
    code, checks, output = doctor()
    assert code == 1
    assert checks["social"][0] == "FAIL" and checks["social"][1].startswith("mastodon: ")
    assert "wrong-token-4711" not in output


def test_the_prefect_api_is_checked_when_configured(
    configured: str, monkeypatch: pytest.MonkeyPatch, prefect_api: str
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    code, checks, output = doctor()
    assert code == 0, output
    assert checks["prefect"] == ("ok", f"{prefect_api} answers")

    closed = f"http://127.0.0.1:{free_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", closed)
    code, checks, _ = doctor()
    assert code == 1
    assert (
        checks["prefect"][0] == "FAIL"
        and f"PREFECT_API_URL={closed} does not answer" in (checks["prefect"][1])
    )
