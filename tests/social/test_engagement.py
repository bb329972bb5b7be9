"""What comes back from social posts: likes, reposts and replies collected by the engagement flow
from mastodon-mock, tied to alumni by their handles; clicks on tracked links through the real web
app; and the `alumni social` commands.

Bluesky likes and reposts need an AppView, which the local PDS does not have: here the flow is
shown to report that PDS as unreachable and go on; the parsing of Bluesky's answers is tested on
recorded response shapes in tests/connectors/test_bluesky.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for
from alumni.models import ContactPoint, Response, table_of
from alumni.settings import get_settings
from alumni.social.engagement import asks_for_something
from alumni.social.report import social_report
from flows.engagement import social_engagement
from flows.social import social_campaign
from tests.factories import add_alumnus, add_handle
from tests.flows.test_social import (  # noqa: F401  (fixtures)
    office,
    office_db,
    posts,
    social,
    use_bluesky,
    use_mastodon,
)
from tests.web_server import serving

if TYPE_CHECKING:
    from tests.social_servers import BlueskyPds, MastodonServer

pytest_plugins = ("tests.social_servers",)
_R = table_of(Response)
_CP = table_of(ContactPoint)
runner = CliRunner()


def act(server: MastodonServer, token: str, path: str, **body: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    response.raise_for_status()
    return dict(response.json())


def responses(url: str) -> list[Any]:
    with engine_for(url).connect() as connection:
        return list(connection.execute(sa.select(_R).order_by(_R.c.id)))


def test_likes_boosts_and_replies_are_stored_once_and_tied_to_alumni(
    office: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    mastodon: MastodonServer,
) -> None:
    use_mastodon(monkeypatch, mastodon)
    campaign_id = social(office)
    social_campaign(campaign_id=campaign_id)
    (post,) = posts(office, campaign_id)
    suffix = str(post.id)
    ada = mastodon.new_account(f"ada{suffix}")
    grace = mastodon.new_account(f"grace{suffix}")
    act(mastodon, ada, f"/api/v1/statuses/{post.remote_id}/favourite")
    act(mastodon, ada, f"/api/v1/statuses/{post.remote_id}/reblog")
    act(mastodon, ada, "/api/v1/statuses", status="See you there!", in_reply_to_id=post.remote_id)
    act(
        mastodon,
        grace,
        "/api/v1/statuses",
        status="Could you send me my transcript for a job application?",
        in_reply_to_id=post.remote_id,
    )
    alum = add_alumnus(office, "ADA", class_year=2016)
    # as the import stores it: @user@server, however the alum capitalised it
    add_handle(office, alum, f"@Ada{suffix}@localhost")

    counts = social_engagement()

    assert counts == {"checked": 1, "like": 1, "repost": 1, "reply": 2, "from alumni": 3}
    stored = responses(office)
    assert sorted((r.kind, r.author) for r in stored) == [
        ("like", f"ada{suffix}@localhost"),
        ("reply", f"ada{suffix}@localhost"),
        ("reply", f"grace{suffix}@localhost"),
        ("repost", f"ada{suffix}@localhost"),
    ]
    assert {r.alumnus_id for r in stored if r.author.startswith("ada")} == {alum}
    assert [r.alumnus_id for r in stored if r.author.startswith("grace")] == [None]
    asking = [r for r in stored if r.needs_attention]
    assert [r.text for r in asking] == ["Could you send me my transcript for a job application?"]
    assert all(r.campaign_id == campaign_id and r.social_post_id == post.id for r in stored)
    with engine_for(office).connect() as connection:
        verified = connection.execute(
            sa.select(_CP.c.verified_at).where(_CP.c.alumnus_id == alum)
        ).scalar_one()
        report = social_report(connection, campaign_id).as_dict()
    assert verified is not None  # the alum was heard from that handle
    (line,) = report["posts"]
    assert (line["likes"], line["reposts"], line["replies"]) == (1, 1, 2)

    # collecting again stores nothing twice
    assert social_engagement() == {"checked": 1}
    assert len(responses(office)) == 4

    # officers see the reply that asks for something, and can mark it answered
    shown = runner.invoke(app, ["social", "replies"])
    assert shown.exit_code == 0, shown.output
    assert "transcript" in shown.output and "See you there" not in shown.output
    done = runner.invoke(app, ["social", "replies", "--handled", str(asking[0].id)])
    assert done.exit_code == 0, done.output
    assert "no replies waiting" in runner.invoke(app, ["social", "replies"]).output


def test_nothing_by_an_erased_alums_handle_is_stored(
    office_db: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    mastodon: MastodonServer,
) -> None:
    use_mastodon(monkeypatch, mastodon)
    campaign_id = social(office_db)
    social_campaign(campaign_id=campaign_id)
    (post,) = posts(office_db, campaign_id)
    suffix = uuid.uuid4().hex[:8]  # the mock server outlives this test's database
    ada = mastodon.new_account(f"ada{suffix}")
    grace = mastodon.new_account(f"grace{suffix}")
    alum = add_alumnus(office_db, "ADA", class_year=2016)
    add_handle(office_db, alum, f"@Ada{suffix}@localhost")
    erased = runner.invoke(app, ["erase", "ADA", "--yes"])
    assert erased.exit_code == 0, erased.output
    act(mastodon, ada, f"/api/v1/statuses/{post.remote_id}/favourite")
    act(mastodon, ada, f"/api/v1/statuses/{post.remote_id}/reblog")
    act(mastodon, ada, "/api/v1/statuses", status="Please call me", in_reply_to_id=post.remote_id)
    act(mastodon, grace, "/api/v1/statuses", status="Count me in", in_reply_to_id=post.remote_id)

    counts = social_engagement()

    assert counts == {"checked": 1, "reply": 1}
    assert [(r.kind, r.author, r.text) for r in responses(office_db)] == [
        ("reply", f"grace{suffix}@localhost", "Count me in")
    ]
    with engine_for(office_db).connect() as connection:
        report = social_report(connection, campaign_id).as_dict()
    (line,) = report["posts"]
    assert (line["likes"], line["reposts"], line["replies"]) == (1, 1, 2)  # the network's counts


def test_a_network_that_cannot_answer_is_counted_and_the_flow_goes_on(
    office: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    bluesky_pds: BlueskyPds,
) -> None:
    use_bluesky(monkeypatch, bluesky_pds)
    campaign_id = social(office)
    social_campaign(campaign_id=campaign_id)

    counts = social_engagement()

    assert counts == {"checked": 0, "unreachable": 1}
    assert responses(office) == []


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Can I get a recommendation letter?", True),
        ("¿Me pueden enviar el certificado?", True),
        ("Preciso do meu diploma, por favor", True),
        ("Great photos, thank you all!", False),
        ("See you there 🎉", False),
    ],
)
def test_replies_that_ask_for_something_are_flagged(text: str, asks: bool) -> None:
    assert asks_for_something(text) is asks


@pytest.fixture
def web(office: str) -> Iterator[httpx.Client]:  # noqa: F811
    with serving(get_settings()) as client:
        yield client


def test_a_tracked_link_counts_the_click_and_leads_only_where_the_office_said(
    office: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    mastodon: MastodonServer,
    web: httpx.Client,
) -> None:
    use_mastodon(monkeypatch, mastodon)
    campaign_id = social(office, link="https://school.example/reunion")
    social_campaign(campaign_id=campaign_id)
    (post,) = posts(office, campaign_id)
    path = "/l/" + post.text.split("https://alumni.school.example/l/", 1)[1].split()[0]

    followed = web.get(path)

    assert followed.status_code == 302
    assert followed.headers["location"] == "https://school.example/reunion"
    (click,) = responses(office)
    assert (click.kind, click.social_post_id, click.alumnus_id) == ("click", post.id, None)

    tampered = web.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 400
    assert "location" not in tampered.headers
    assert len(responses(office)) == 1
    with engine_for(office).connect() as connection:
        assert social_report(connection, campaign_id).posts[0].clicks == 1


def test_cli_creates_a_social_campaign_and_checks_accounts(
    office: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    mastodon: MastodonServer,
) -> None:
    created = runner.invoke(
        app,
        [
            "campaign", "create", "--name", "Reunion", "--class-year", "2016",
            "--template", "reunion", "--channel", "social", "--locale", "es",
        ],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    campaign_id = int(created.output.strip().splitlines()[-1])
    refused = runner.invoke(
        app,
        ["campaign", "create", "--name", "x", "--class-year", "2016", "--template", "reunion",
         "--channel", "social", "--network", "myspace"],
    )  # fmt: skip
    assert refused.exit_code == 1 and "--network 'myspace'" in refused.output

    nothing = runner.invoke(app, ["social", "check"])
    assert nothing.exit_code == 1 and "no social account is set up" in nothing.output
    use_mastodon(monkeypatch, mastodon)
    checked = runner.invoke(app, ["social", "check"])
    assert checked.exit_code == 0, checked.output
    assert "✓ mastodon: testuser" in checked.output
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", "wrong-token-4711")
    get_settings.cache_clear()
    wrong = runner.invoke(app, ["social", "check"])
    assert wrong.exit_code == 1 and "✗ mastodon" in wrong.output
    assert "wrong-token-4711" not in wrong.output
    use_mastodon(monkeypatch, mastodon)

    ran = runner.invoke(app, ["campaign", "run", str(campaign_id)])
    assert ran.exit_code == 0, ran.output
    assert "1 post(s)" in ran.output and "sent" in ran.output
    assert "Promoción 2016" in posts(office, campaign_id)[0].text
    status = runner.invoke(app, ["campaign", "status", str(campaign_id)])
    assert status.exit_code == 0 and mastodon.url.replace("127.0.0.1", "localhost") in (
        status.output.replace("127.0.0.1", "localhost")
    )


def test_cli_class_channels_are_added_listed_masked_and_removed(
    office: str,  # noqa: F811
) -> None:
    secret_path = "T000/B000/XXXXsecretXXXX"
    added = runner.invoke(
        app,
        ["social", "channel", "add", "--class-year", "2016", "--name", "class slack",
         "--url", f"https://hooks.slack.com/services/{secret_path}"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    channel_id = added.output.strip().splitlines()[-1]
    listed = runner.invoke(app, ["social", "channel", "list"])
    assert "class slack" in listed.output and "hooks.slack.com/…" in listed.output
    assert secret_path not in listed.output
    bad = runner.invoke(
        app,
        ["social", "channel", "add", "--class-year", "2016", "--name", "x", "--url",
         "ftp://example.org/hook"],
    )  # fmt: skip
    assert bad.exit_code == 1 and "--url" in bad.output
    removed = runner.invoke(app, ["social", "channel", "remove", channel_id])
    assert removed.exit_code == 0
    assert "class slack" not in runner.invoke(app, ["social", "channel", "list"]).output


def test_cli_checks_a_bluesky_account_and_names_a_wrong_password(
    office: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    bluesky_pds: BlueskyPds,
) -> None:
    use_bluesky(monkeypatch, bluesky_pds)
    checked = runner.invoke(app, ["social", "check"])
    assert checked.exit_code == 0, checked.output
    assert f"✓ bluesky: {bluesky_pds.did}" in checked.output or bluesky_pds.handle in checked.output
    monkeypatch.setenv("ALUMNI_BLUESKY_PASSWORD", "aaaa-bbbb-cccc-dddd")
    get_settings.cache_clear()
    wrong = runner.invoke(app, ["social", "check"])
    assert wrong.exit_code == 1 and "✗ bluesky" in wrong.output
    assert "aaaa-bbbb-cccc-dddd" not in wrong.output
