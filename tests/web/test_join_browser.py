"""The referral path in a real browser: Debian's Chromium driven by Playwright against the app
served by uvicorn, the confirmation email caught by a real SMTP server (aiosmtpd). An officer
makes an ambassador's share kit (`alumni share kit`); someone opens its link, signs up, gets the
confirmation email, follows it and confirms; they are then an alum of the class, credited to
the ambassador in `alumni share report`. Screenshots go to ``tests/artifacts/pages/``.

Skipped when ``/usr/bin/chromium`` is absent (CI installs it: ``.ci/run``).
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for
from alumni.models import Alumnus, Signup, table_of
from alumni.settings import get_settings
from tests.browser import CHROMIUM, chromium, keep, needs_chromium
from tests.factories import add_alumnus
from tests.mail_servers import wait_for
from tests.smtp_server import Recorder, Serve, free_port
from tests.web_server import serving

pytestmark = needs_chromium

if CHROMIUM.exists():
    from playwright.sync_api import Page


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        context = browser.new_context(locale="pt-BR", viewport={"width": 800, "height": 900})
        yield context.new_page()


def test_someone_signs_up_through_a_share_link_confirms_and_is_credited(
    sqlite_url: str, serve: Serve, monkeypatch: pytest.MonkeyPatch, page: Page
) -> None:
    smtp = Recorder()
    controller = serve(smtp)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("ALUMNI_BASE_URL", base)
    get_settings.cache_clear()
    add_alumnus(sqlite_url, "A1", class_year=2016, first_name="Ana", email="ana@example.org")
    runner = CliRunner()
    assert runner.invoke(app, ["ambassador", "add", "A1"]).exit_code == 0
    kit = runner.invoke(app, ["share", "kit", "--class-year", "2016"], env={"COLUMNS": "300"})
    assert kit.exit_code == 0, kit.output
    found = re.search(r"link: (\S+)", kit.output)
    assert found is not None and found[1].startswith(f"{base}/join/")

    with serving(get_settings(), port=port):
        page.goto(found[1])
        assert page.locator("html").get_attribute("lang") == "pt-BR"
        assert "Ana convidou você" in page.inner_text("main")
        assert page.input_value("#class_year") == "2016"
        page.get_by_label("Nome", exact=True).fill("Joana")
        page.get_by_label("Sobrenome").fill("Duarte")
        page.get_by_label("E-mail").fill("joana@example.org")
        page.get_by_label("Envie-me notícias").check()
        page.get_by_role("button", name="Inscrever-me").click()
        page.wait_for_url("**?saved=sent")
        assert "Enviamos um link para você" in page.locator('[role="status"]').inner_text()
        keep(page, "join-signed-up")

        wait_for(lambda: len(smtp.received) == 1, "the confirmation email")
        (received,) = smtp.received
        assert received.rcpt_tos == ("joana@example.org",)
        message = email.message_from_bytes(received.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        assert message["Subject"] == "Confirme seu endereço para entrar na turma de 2016"
        body: Any = message.get_body(("plain",))
        link = re.search(r"(http://\S+/join/confirm/\S+)", str(body.get_content()))
        assert link is not None
        with engine_for(sqlite_url).connect() as connection:
            assert (
                connection.execute(
                    sa.select(sa.func.count()).select_from(table_of(Alumnus))
                ).scalar_one()
                == 1
            )  # pending: not an alum, nothing else sent

        page.goto(link[1])
        assert "joana@example.org" in page.inner_text("main")
        page.get_by_role("button", name="Confirmar").click()
        page.wait_for_url("**?saved=confirmed")
        assert "está na lista da turma de 2016" in page.inner_text("main")
        keep(page, "join-confirmed")

    with engine_for(sqlite_url).connect() as connection:
        joana = connection.execute(
            sa.select(table_of(Alumnus)).where(table_of(Alumnus).c.first_name == "Joana")
        ).one()
        signup = connection.execute(sa.select(table_of(Signup))).one()
    assert (joana.class_year, joana.last_name, joana.locale) == (2016, "Duarte", "pt-BR")
    assert signup.alumnus_id == joana.id and signup.confirmed_at is not None
    report = runner.invoke(app, ["share", "report", "--class-year", "2016"])
    assert "1 shared, 1 signed up, 1 confirmed" in report.output
    assert "A1  Ana Lima: 1 signed up, 1 confirmed" in report.output
    assert len(smtp.received) == 1  # nothing but the confirmation
