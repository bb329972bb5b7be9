"""The reach flows on the session's Prefect test server: the weekly reach-report artifact, and
hear-from-you sending its one message through a real SMTP server (aiosmtpd), once."""

from __future__ import annotations

import email
import json
from datetime import timedelta
from email import policy

import pytest

from alumni.models import utcnow
from alumni.settings import get_settings
from flows.hear_from_you import hear_from_you
from flows.reach_report import reach_report
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, daytime_zone
from tests.prefect_reads import latest_artifact
from tests.smtp_server import Recorder, Serve


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def test_hear_from_you_sends_once_and_the_report_then_counts_them(
    sqlite_url: str, smtp: Recorder
) -> None:
    zone = daytime_zone()
    quiet = [
        add_alumnus(sqlite_url, f"W{n}", email=f"w{n}@example.org", timezone=zone, locale=locale)
        for n, locale in enumerate(("en", "fr", "pt-BR"))
    ]
    recent = add_alumnus(sqlite_url, "W9", email="w9@example.org", timezone=zone)
    add_sent_delivery(
        sqlite_url, add_campaign(sqlite_url), recent, sent_at=utcnow() - timedelta(days=3)
    )

    before = reach_report()
    assert before[0]["group"] == "2016" and before[0]["reached"] == 1

    result = hear_from_you()

    (report,) = result["campaigns"].values()
    assert report["outcomes"] == {"sent": 3}
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == [f"w{n}@example.org" for n in range(3)]
    subjects = {
        str(email.message_from_bytes(m.content, policy=policy.default)["Subject"])
        for m in smtp.received
    }
    assert "Class of 2016: we would like to hear from you" in subjects
    assert "Promotion 2016 : nous aimerions avoir de vos nouvelles" in subjects

    again = hear_from_you()  # the same month, or the next: nobody unreached, nothing sent
    assert again["campaigns"] == {} and len(smtp.received) == 3

    after = reach_report()
    assert after[0]["reached"] == len(quiet) + 1
    table = json.loads(latest_artifact("reach-report"))
    assert table[0]["group"] == "2016" and table[0]["reached"] == 4
    assert "Reach in the 12 months" in latest_artifact("reach-report-summary")
