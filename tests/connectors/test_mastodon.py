"""MastodonClient against mastodon-mock, a stateful Mastodon API served over real HTTP.

mastodon-mock lists favourites and boosts (`favourited_by`, `reblogged_by`) but in one page,
without a `Link` header; the pagination, its cap and the same-server check on the next link are
tested against a local `http.server` that sends Link headers as Mastodon does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.mastodon import (
    MastodonClient,
    account_address,
    engagement_from_json,
    reactions_from_accounts,
    text_from_html,
)
from connectors.social import (
    REACTION_CAP,
    Outcome,
    Reaction,
    SocialConnectError,
    SocialPost,
    retry_after_seconds,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.social_servers import (
        Answer,
        AnswerLosingProxy,
        MastodonServer,
        Script,
        ScriptedServer,
    )


def _post(text: str = "Class of 2015: reunion on 18 October") -> SocialPost:
    return SocialPost(f"delivery-{uuid.uuid4().hex}", f"{text} ({uuid.uuid4().hex[:6]})")


def _with_text(server: MastodonServer, text: str) -> list[str]:
    return [s["id"] for s in server.statuses() if text in s["content"]]


def test_verify_returns_the_account_and_refuses_a_wrong_token(mastodon: MastodonServer) -> None:
    with MastodonClient(mastodon.url, mastodon.token) as client:
        assert client.verify() == "testuser"
    with (
        MastodonClient(mastodon.url, "not-the-token-xyz") as client,
        pytest.raises(SocialConnectError, match=r"401.*check the access token") as refused,
    ):
        client.verify()
    assert "not-the-token-xyz" not in str(refused.value)
    assert not refused.value.transient


def test_post_is_public_with_language_and_url(mastodon: MastodonServer) -> None:
    post = SocialPost(
        f"delivery-{uuid.uuid4().hex}", "Reunión de la promoción 2015 🎉", language="es"
    )
    with MastodonClient(mastodon.url, mastodon.token) as client:
        receipt = client.post(post)
    assert receipt.outcome is Outcome.SENT, receipt.reply
    assert receipt.key == post.key
    assert receipt.remote_id is not None and receipt.url is not None
    assert receipt.url.endswith(receipt.remote_id)
    status = httpx.get(f"{mastodon.url}/api/v1/statuses/{receipt.remote_id}").json()
    assert status["visibility"] == "public"
    assert status["language"] == "es"
    assert text_from_html(status["content"]) == post.text


def test_same_key_twice_leaves_one_post(mastodon: MastodonServer) -> None:
    post = _post()
    with MastodonClient(mastodon.url, mastodon.token) as client:
        first = client.post(post)
        second = client.post(post)
    assert first.outcome is second.outcome is Outcome.SENT
    assert first.remote_id == second.remote_id
    assert _with_text(mastodon, post.text) == [first.remote_id]


def test_lost_answer_is_in_doubt_and_retry_with_same_key_leaves_one_post(
    mastodon: MastodonServer, losing_proxy: Callable[..., AnswerLosingProxy]
) -> None:
    # The proxy passes the post to the server, waits for its answer, then drops the connection.
    proxy = losing_proxy(mastodon.url)
    post = _post()
    with MastodonClient(proxy.url, mastodon.token) as client:
        lost = client.post(post)
        assert lost.outcome is Outcome.TRANSIENT
        assert lost.in_doubt
        assert "same key" in lost.reply
        assert len(_with_text(mastodon, post.text)) == 1  # it was posted all the same
        retry = client.post(post)
    assert retry.outcome is Outcome.SENT
    assert _with_text(mastodon, post.text) == [retry.remote_id]


def test_timeout_is_in_doubt_and_retry_with_same_key_leaves_one_post(
    mastodon: MastodonServer,
) -> None:
    # The server would answer after 3 s; the client gives up after 0.3 s.
    mastodon.add_fault(
        {
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {"type": "latency", "delay_ms": 3000},
            "count": 1,
        }
    )
    post = _post()
    with MastodonClient(mastodon.url, mastodon.token, timeout=0.3) as client:
        lost = client.post(post)
    assert lost.outcome is Outcome.TRANSIENT
    assert lost.in_doubt
    assert "ReadTimeout" in lost.reply
    with MastodonClient(mastodon.url, mastodon.token) as client:
        retry = client.post(post)
    assert retry.outcome is Outcome.SENT
    assert _with_text(mastodon, post.text) == [retry.remote_id]


def test_rate_limit_is_transient_with_retry_after(mastodon: MastodonServer) -> None:
    mastodon.add_fault(
        {
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {"type": "ratelimit", "headers": {"Retry-After": "120"}},
            "count": 1,
        }
    )
    with MastodonClient(mastodon.url, mastodon.token) as client:
        receipt = client.post(_post())
    assert receipt.outcome is Outcome.TRANSIENT
    assert receipt.reply.startswith("429")
    assert receipt.retry_after == 120
    assert not receipt.in_doubt


def test_rate_limit_reset_as_mastodon_sends_it(mastodon: MastodonServer) -> None:
    # Real Mastodon sends no Retry-After, only X-RateLimit-Reset as an ISO 8601 time.
    reset = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    mastodon.add_fault(
        {
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {"type": "status", "status": 429, "headers": {"X-RateLimit-Reset": reset}},
            "count": 1,
        }
    )
    with MastodonClient(mastodon.url, mastodon.token) as client:
        receipt = client.post(_post())
    assert receipt.outcome is Outcome.TRANSIENT
    assert receipt.retry_after is not None
    assert 200 < receipt.retry_after <= 300


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient_and_in_doubt(mastodon: MastodonServer, status: int) -> None:
    mastodon.add_fault(
        {
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {"type": "status", "status": status},
            "count": 1,
        }
    )
    post = _post()
    with MastodonClient(mastodon.url, mastodon.token) as client:
        receipt = client.post(post)
        assert receipt.outcome is Outcome.TRANSIENT
        assert receipt.in_doubt
        assert receipt.reply.startswith(str(status))
        assert client.post(post).outcome is Outcome.SENT  # the fault fired once
    assert len(_with_text(mastodon, post.text)) == 1


def test_unreadable_success_is_in_doubt_then_settled_by_the_same_key(
    mastodon: MastodonServer,
) -> None:
    mastodon.add_fault(
        {
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {"type": "malformed"},
            "count": 1,
        }
    )
    post = _post()
    with MastodonClient(mastodon.url, mastodon.token) as client:
        first = client.post(post)
        assert first.outcome is Outcome.TRANSIENT and first.in_doubt
        assert client.post(post).outcome is Outcome.SENT


def test_too_long_is_permanent_with_the_servers_reason(mastodon: MastodonServer) -> None:
    with MastodonClient(mastodon.url, mastodon.token) as client:
        receipt = client.post(SocialPost(f"delivery-{uuid.uuid4().hex}", "x" * 501))
    assert receipt.outcome is Outcome.PERMANENT
    assert receipt.reply.startswith("422")
    assert "too long" in receipt.reply


def test_wrong_token_is_permanent_and_never_shown(mastodon: MastodonServer) -> None:
    secret = "s3cret-token-that-must-not-leak"
    with MastodonClient(mastodon.url, secret) as client:
        receipt = client.post(_post())
        assert secret not in repr(client)
    assert receipt.outcome is Outcome.PERMANENT
    assert receipt.reply.startswith("401")
    assert "check the access token" in receipt.reply
    assert secret not in receipt.reply


def test_redirect_is_permanent_and_named(mastodon: MastodonServer) -> None:
    mastodon.add_fault(
        {
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {
                "type": "status",
                "status": 301,
                "headers": {"Location": "https://elsewhere.example/api/v1/statuses"},
            },
            "count": 1,
        }
    )
    with MastodonClient(mastodon.url, mastodon.token) as client:
        receipt = client.post(_post())
    assert receipt.outcome is Outcome.PERMANENT
    assert "https://elsewhere.example/api/v1/statuses" in receipt.reply


def test_unreachable_server_is_transient_and_not_in_doubt(unused_port: int) -> None:
    with MastodonClient(f"http://127.0.0.1:{unused_port}", "mock_token") as client:
        receipt = client.post(_post())
        with pytest.raises(SocialConnectError, match="cannot reach") as refused:
            client.verify()
    assert receipt.outcome is Outcome.TRANSIENT
    assert not receipt.in_doubt
    assert refused.value.transient


def test_engagement_counts_and_names_favourites_boosts_and_replies(
    mastodon: MastodonServer,
) -> None:
    ada_name = f"ada{uuid.uuid4().hex[:6]}"
    ada = mastodon.new_account(ada_name)
    grace_name = f"grace{uuid.uuid4().hex[:6]}"
    grace = mastodon.new_account(grace_name)
    # mastodon-mock's public name is the host it listens on as "localhost" (its profile URLs are
    # http://localhost:PORT/@user), which is the domain its local accounts' addresses get.
    domain = "localhost"
    with MastodonClient(mastodon.url, mastodon.token) as client:
        receipt = client.post(_post())
        status_id = receipt.remote_id
        assert status_id is not None
        nothing = client.engagement(status_id)
        assert (nothing.likes, nothing.reactions) == (0, ())

        def as_user(token: str, path: str, body: dict[str, str] | None = None) -> str:
            response = httpx.post(
                f"{mastodon.url}{path}",
                headers={"Authorization": f"Bearer {token}"},
                json=body or {},
            )
            response.raise_for_status()
            return str(response.json()["id"])

        as_user(ada, f"/api/v1/statuses/{status_id}/favourite")
        as_user(grace, f"/api/v1/statuses/{status_id}/favourite")
        as_user(ada, f"/api/v1/statuses/{status_id}/reblog")
        as_user(grace, f"/api/v1/statuses/{status_id}/reblog")
        reply = as_user(
            ada,
            "/api/v1/statuses",
            {"status": "I'll be there & so will Tom", "in_reply_to_id": status_id},
        )
        as_user(grace, "/api/v1/statuses", {"status": "Me too!", "in_reply_to_id": reply})
        engagement = client.engagement(status_id)
    assert (engagement.likes, engagement.reposts) == (2, 2)
    assert engagement.remote_id == status_id
    ada_at, grace_at = f"{ada_name}@{domain}", f"{grace_name}@{domain}"
    assert sorted((r.kind, r.author) for r in engagement.reactions) == [
        ("like", ada_at),
        ("like", grace_at),
        ("repost", ada_at),
        ("repost", grace_at),
    ]
    assert [r.kind for r in engagement.reactions] == ["like", "like", "repost", "repost"]
    assert all(r.created_at is None for r in engagement.reactions)  # Mastodon does not say when
    assert [(r.author, r.text) for r in engagement.replies] == [
        (ada_at, "I'll be there & so will Tom"),
        (grace_at, "Me too!"),
    ]
    assert engagement.replies[0].remote_id == reply
    assert all(r.created_at is not None and r.created_at.tzinfo for r in engagement.replies)


def test_engagement_of_a_deleted_status_names_it(mastodon: MastodonServer) -> None:
    with (
        MastodonClient(mastodon.url, mastodon.token) as client,
        pytest.raises(SocialConnectError, match=r"404.*status 999999999.*deleted"),
    ):
        client.engagement("999999999")


# A reply as real Mastodon (4.3) serialises it in /context descendants, from a remote account: the
# shape mastodon-mock does not produce (remote acct, invisible URL parts, mention markup).
REAL_CONTEXT = {
    "ancestors": [],
    "descendants": [
        {
            "id": "113456789012345678",
            "created_at": "2025-10-02T14:03:11.000Z",
            "in_reply_to_id": "113456700000000000",
            "visibility": "public",
            "language": "en",
            "uri": "https://other.example/users/ada/statuses/113456789012345678",
            "url": "https://other.example/@ada/113456789012345678",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 1,
            "content": (
                '<p><span class="h-card" translate="no"><a href="https://alumni.example/@office" '
                'class="u-url mention">@<span>office</span></a></span> Count me in!<br />See '
                '<a href="https://example.org/reunion/2015" target="_blank" '
                'rel="nofollow noopener" translate="no"><span class="invisible">https://</span>'
                '<span class="">example.org/reunion/2015</span><span class="invisible"></span></a>'
                "</p><p>Ada &amp; Tom</p>"
            ),
            "account": {
                "id": "109876",
                "username": "ada",
                "acct": "ada@other.example",
                "display_name": "Ada",
                "url": "https://other.example/@ada",
            },
        }
    ],
}
REAL_STATUS = {
    "id": "113456700000000000",
    "replies_count": 1,
    "reblogs_count": 3,
    "favourites_count": 5,
}


def test_engagement_parser_reads_real_mastodon_json() -> None:
    engagement = engagement_from_json(
        "113456700000000000", REAL_STATUS, REAL_CONTEXT, host="alumni.example"
    )
    assert (engagement.likes, engagement.reposts, engagement.reply_count) == (5, 3, 1)
    [reply] = engagement.replies
    assert reply.author == "ada@other.example"
    assert reply.text == "@office Count me in!\nSee https://example.org/reunion/2015\n\nAda & Tom"
    assert reply.url == "https://other.example/@ada/113456789012345678"
    assert reply.created_at == datetime(2025, 10, 2, 14, 3, 11, tzinfo=UTC)


def test_constructor_refuses_bad_urls_and_tokens_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="http"):
        MastodonClient("ftp://mastodon.example", "tok")
    with pytest.raises(ValueError, match="query"):
        MastodonClient("https://mastodon.example/?x=1", "tok")
    with pytest.raises(ValueError, match="control characters") as bad:
        MastodonClient("https://mastodon.example", "secret\r\nX-Evil: 1")
    assert "secret" not in str(bad.value)


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"Retry-After": format_datetime(NOW + timedelta(seconds=90), usegmt=True)}, 90.0),
        ({"X-RateLimit-Reset": "2026-03-01T12:05:00.000Z"}, 300.0),
        ({"X-RateLimit-Reset": str(int((NOW + timedelta(seconds=45)).timestamp()))}, 45.0),
        ({"RateLimit-Reset": str(int((NOW + timedelta(seconds=60)).timestamp()))}, 60.0),
        ({"X-RateLimit-Reset": "2026-03-01T11:00:00Z"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_reads_each_header_form(
    headers: dict[str, str], expected: float | None
) -> None:
    assert retry_after_seconds(httpx.Headers(headers), NOW) == expected


# Accounts as real Mastodon (4.3) lists them in favourited_by / reblogged_by: a local account on a
# server whose web domain is its API host, a remote account (acct with a domain, mixed case), and a
# local account without a `url` (some Mastodon-compatible servers leave it out).
REAL_ACCOUNTS: list[dict[str, Any]] = [
    {
        "id": "109876",
        "username": "grace",
        "acct": "grace",
        "display_name": "Grace",
        "url": "https://alumni.example/@grace",
        "uri": "https://alumni.example/users/grace",
    },
    {
        "id": "109877",
        "username": "Ada",
        "acct": "Ada@Other.Example",
        "display_name": "Ada",
        "url": "https://other.example/@Ada",
        "uri": "https://other.example/users/Ada",
    },
    {"id": "109878", "username": "tom", "acct": "tom", "display_name": "Tom"},
]


def test_reactions_parser_gives_full_addresses() -> None:
    reactions = reactions_from_accounts("repost", REAL_ACCOUNTS, "api.alumni.example")
    assert reactions == (
        Reaction("repost", "grace@alumni.example"),  # the profile URL's host wins
        Reaction("repost", "Ada@other.example"),
        Reaction("repost", "tom@api.alumni.example"),  # no URL: the server's host
    )
    # A profile URL that is not /@user (e.g. a Pixelfed-style path) is not taken as the domain.
    odd = {"acct": "ann", "url": "https://cdn.example/users/ann"}
    assert account_address(odd, "alumni.example") == "ann@alumni.example"
    with pytest.raises(ValueError, match="acct"):
        reactions_from_accounts("like", [{"acct": ""}], "alumni.example")
    with pytest.raises(KeyError):
        reactions_from_accounts("like", [{"username": "x"}], "alumni.example")
    with pytest.raises(ValueError, match="kind"):
        reactions_from_accounts("boost", REAL_ACCOUNTS, "alumni.example")


def _accounts(prefix: str, start: int, count: int) -> list[dict[str, Any]]:
    return [{"id": str(n), "acct": f"{prefix}{n}"} for n in range(start, start + count)]


def _paging_mastodon(elsewhere: str) -> Script:
    """A Mastodon status whose favourites page on forever (80 a page, by max_id, as Mastodon
    does) and whose boosts' next link points at `elsewhere`, another server."""

    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        if parts.path == "/api/v1/statuses/7":
            return 200, {}, {"id": "7", "favourites_count": 1000, "reblogs_count": 3}
        if parts.path == "/api/v1/statuses/7/context":
            return 200, {}, {"ancestors": [], "descendants": []}
        if parts.path == "/api/v1/statuses/7/favourited_by":
            start = int(query.get("max_id", ["0"])[0])
            link = f'</api/v1/statuses/7/favourited_by?limit=80&max_id={start + 80}>; rel="next"'
            return 200, {"Link": link}, _accounts("fan", start, 80)
        if parts.path == "/api/v1/statuses/7/reblogged_by":
            link = f'<{elsewhere}/api/v1/statuses/7/reblogged_by?max_id=2>; rel="next"'
            return 200, {"Link": link}, _accounts("booster", 0, 2)
        return 404, {}, {"error": "Record not found"}

    return answer


def test_reactions_follow_link_pages_on_the_same_server_up_to_the_cap(
    scripted_server: Callable[[Script], ScriptedServer],
) -> None:
    # mastodon-mock sends no Link header for these lists, so this server pages as Mastodon does;
    # the "elsewhere" server stands for a next link to another host, which must never be asked
    # (the access token goes with each page).
    elsewhere = scripted_server(lambda method, path, headers: (200, {}, []))
    server = scripted_server(_paging_mastodon(elsewhere.url))
    with MastodonClient(server.url, "mock_token") as client:
        engagement = client.engagement("7")
    likes = [r for r in engagement.reactions if r.kind == "like"]
    reposts = [r for r in engagement.reactions if r.kind == "repost"]
    assert (engagement.likes, engagement.reposts) == (1000, 3)  # the counts stay the server's
    assert len(likes) == REACTION_CAP
    assert likes[0] == Reaction("like", "fan0@127.0.0.1")
    assert likes[-1].author == f"fan{REACTION_CAP - 1}@127.0.0.1"
    assert [r.author for r in reposts] == ["booster0@127.0.0.1", "booster1@127.0.0.1"]
    asked = server.paths("/api/v1/statuses/7/favourited_by")
    assert asked[0] == "/api/v1/statuses/7/favourited_by?limit=80"
    assert len(asked) == REACTION_CAP // 80  # stopped at the cap, not at the end of the list
    assert server.paths("/api/v1/statuses/7/reblogged_by") == [
        "/api/v1/statuses/7/reblogged_by?limit=80"
    ]
    assert elsewhere.received == []
    assert all(r.headers.get("Authorization") == "Bearer mock_token" for r in server.received)


@pytest.mark.parametrize("other", ["http://localhost:{port}", "https://127.0.0.1:{port}"])
def test_reactions_do_not_follow_a_next_link_to_another_host_name_or_scheme(
    scripted_server: Callable[[Script], ScriptedServer], other: str
) -> None:
    # The same port under another name or scheme: another server as far as the token goes.
    holder: list[ScriptedServer] = []

    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        if "favourited_by" in path or "reblogged_by" in path:
            link = f'<{other.format(port=holder[0].port)}{path}&max_id=1>; rel="next"'
            return 200, {"Link": link}, _accounts("fan", 0, 1)
        return _paging_mastodon("")(method, path, headers)

    holder.append(scripted_server(answer))
    with MastodonClient(holder[0].url, "mock_token") as client:
        engagement = client.engagement("7")
    assert [(r.kind, r.author) for r in engagement.reactions] == [
        ("like", "fan0@127.0.0.1"),
        ("repost", "fan0@127.0.0.1"),
    ]
    assert len(holder[0].received) == 4  # status, context, one page of each list


def test_reactions_of_a_server_answering_no_list_name_the_server(
    scripted_server: Callable[[Script], ScriptedServer],
) -> None:
    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        if "favourited_by" in path:
            return 200, {}, {"error": "not a list"}
        return _paging_mastodon("")(method, path, headers)

    server = scripted_server(answer)
    with (
        MastodonClient(server.url, "mock_token") as client,
        pytest.raises(SocialConnectError, match=r"127\.0\.0\.1.*favourites of status 7.*list"),
    ):
        client.engagement("7")
