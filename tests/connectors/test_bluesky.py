"""BlueskyClient against Bluesky's own PDS (`@atproto/dev-env`, no AppView), over real HTTP.

Engagement is the part the local PDS cannot answer: `app.bsky.feed.getPostThread`,
`app.bsky.feed.getLikes` and `app.bsky.feed.getRepostedBy` are AppView reads, and
`TestNetworkNoAppView` has none (against it `engagement()` must fail naming the AppView, which is
tested). So the parsers are tested on answers written by hand, field by field, from those
lexicons, not captured from bsky.app (this machine cannot reach it): the getPostThread answer
below (`REAL_THREAD`) and the getLikes / getRepostedBy answers in tests/recorded/
bluesky_get_likes.json and bluesky_get_reposted_by.json. Each is checked against the lexicon
schemas shipped in @atproto/api (node, in tests/bluesky_pds), so a field the lexicons require
cannot be missing. The cursor pagination and its cap are tested against a local `http.server`
standing in for a PDS with an AppView, answering with those shapes.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.bluesky import (
    POST_COLLECTION,
    BlueskyClient,
    BlueskySession,
    actor_address,
    engagement_from_thread,
    reactions_from_likes,
    reactions_from_reposted_by,
    record_key,
)
from connectors.social import REACTION_CAP, Outcome, Reaction, SocialConnectError, SocialPost

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.social_servers import (
        Answer,
        AnswerLosingProxy,
        BlueskyPds,
        Script,
        ScriptedServer,
    )

RECORDED = Path(__file__).parent / "recorded"


TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
S32 = "234567abcdefghijklmnopqrstuvwxyz"


def _client(pds: BlueskyPds, **kwargs: Any) -> BlueskyClient:
    return BlueskyClient(pds.url, pds.handle, pds.app_password, **kwargs)


def _post(text: str = "Class of 2015: reunion on 18 October", **kwargs: Any) -> SocialPost:
    return SocialPost(f"delivery-{uuid.uuid4().hex}", f"{text} {uuid.uuid4().hex[:6]}", **kwargs)


def _records_with_text(pds: BlueskyPds, text: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{pds.url}/xrpc/com.atproto.repo.listRecords",
        params={"repo": pds.did, "collection": POST_COLLECTION, "limit": 100},
    )
    response.raise_for_status()
    return [r for r in response.json()["records"] if r["value"]["text"] == text]


def test_login_gives_a_session_whose_tokens_repr_hides(bluesky_pds: BlueskyPds) -> None:
    with _client(bluesky_pds) as client:
        assert client.session is None
        assert client.verify() == bluesky_pds.handle
        session = client.session
        assert session is not None
        assert session.did == bluesky_pds.did
        assert session.access_jwt not in repr(session)
        assert session.refresh_jwt not in repr(session)
        assert bluesky_pds.app_password not in repr(client)


def test_wrong_app_password_is_permanent_and_never_shown(bluesky_pds: BlueskyPds) -> None:
    secret = "wxyz-wxyz-wxyz-wxyz"
    with BlueskyClient(bluesky_pds.url, bluesky_pds.handle, secret) as client:
        with pytest.raises(SocialConnectError, match=r"401.*check the handle and the app password"):
            client.login()
        receipt = client.post(_post())
    assert receipt.outcome is Outcome.PERMANENT
    assert "app password" in receipt.reply
    assert secret not in receipt.reply


def test_post_writes_text_language_its_own_facets_and_time_under_the_derived_key(
    bluesky_pds: BlueskyPds,
) -> None:
    text = (
        f"Reunião 2015 🎉 em São Paulo: https://example.org/reunião #alumni {uuid.uuid4().hex[:6]}"
    )
    written = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    post = SocialPost(
        f"delivery-{uuid.uuid4().hex}",
        text,
        language="pt-BR",
        created_at=written,
    )
    with _client(bluesky_pds) as client:
        receipt = client.post(post)
    assert receipt.outcome is Outcome.SENT, receipt.reply
    rkey = record_key(post)
    assert receipt.remote_id == f"at://{bluesky_pds.did}/{POST_COLLECTION}/{rkey}"
    assert receipt.url == f"https://bsky.app/profile/{bluesky_pds.did}/post/{rkey}"
    [record] = _records_with_text(bluesky_pds, text)
    assert record["uri"] == receipt.remote_id
    value = record["value"]
    assert value["langs"] == ["pt-BR"]
    assert value["createdAt"] == "2026-03-01T12:30:15.250Z"
    # The PDS checked the facets against the lexicon; the offsets still cut the right bytes.
    cut = [
        text.encode()[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode()
        for f in value["facets"]
    ]
    assert cut == ["https://example.org/reunião", "#alumni"]


def test_a_mention_the_pds_resolves_becomes_a_mention_facet_and_others_stay_text(
    bluesky_pds: BlueskyPds,
) -> None:
    text = f"Thanks @{bluesky_pds.spare_handle} and @nobody.invalid! {uuid.uuid4().hex[:6]}"
    with _client(bluesky_pds) as client:
        spare_did = client.resolve_handle(bluesky_pds.spare_handle)
        receipt = client.post(SocialPost(f"delivery-{uuid.uuid4().hex}", text))
    assert receipt.outcome is Outcome.SENT, receipt.reply
    assert spare_did is not None and spare_did.startswith("did:")
    [record] = _records_with_text(bluesky_pds, text)
    assert [f["features"] for f in record["value"]["facets"]] == [
        [{"$type": "app.bsky.richtext.facet#mention", "did": spare_did}]
    ]


def test_same_post_twice_leaves_one_record_and_both_are_sent(bluesky_pds: BlueskyPds) -> None:
    post = _post()
    with _client(bluesky_pds) as client:
        first = client.post(post)
        second = client.post(post)  # the PDS answers 500 for the taken key; getRecord settles it
    assert first.outcome is second.outcome is Outcome.SENT
    assert first.remote_id == second.remote_id
    assert "the post is there" in second.reply
    assert len(_records_with_text(bluesky_pds, post.text)) == 1


def test_lost_answer_is_settled_by_looking_and_a_retry_adds_nothing(
    bluesky_pds: BlueskyPds, losing_proxy: Callable[..., AnswerLosingProxy]
) -> None:
    post = _post()
    with _client(bluesky_pds) as client:
        client.login()  # directly, so the proxy loses the createRecord answer, not the login's
        session = client.session
    proxy = losing_proxy(bluesky_pds.url)
    with BlueskyClient(
        proxy.url, bluesky_pds.handle, bluesky_pds.app_password, session=session
    ) as client:
        receipt = client.post(post)
        assert proxy.lost == 1
        assert receipt.outcome is Outcome.SENT, receipt.reply
        assert "RemoteProtocolError" in receipt.reply
        assert client.post(post).remote_id == receipt.remote_id
    assert len(_records_with_text(bluesky_pds, post.text)) == 1


def test_a_key_already_holding_another_text_is_permanent(bluesky_pds: BlueskyPds) -> None:
    key = f"delivery-{uuid.uuid4().hex}"
    with _client(bluesky_pds) as client:
        first = client.post(SocialPost(key, f"First text {key}"))
        clash = client.post(SocialPost(key, f"Another text {key}"))
    assert first.outcome is Outcome.SENT
    assert clash.outcome is Outcome.PERMANENT
    assert first.remote_id is not None and first.remote_id in clash.reply
    assert key in clash.reply


def test_over_300_graphemes_is_permanent_with_the_servers_reason(bluesky_pds: BlueskyPds) -> None:
    with _client(bluesky_pds) as client:
        receipt = client.post(SocialPost(f"delivery-{uuid.uuid4().hex}", "🇵🇹" * 301))
    assert receipt.outcome is Outcome.PERMANENT
    assert receipt.reply.startswith("400")
    assert "grapheme" in receipt.reply


@pytest.mark.parametrize("access", ["expired", "unverifiable"])
def test_an_expired_or_unverifiable_access_token_is_refreshed(
    bluesky_pds: BlueskyPds, access: str
) -> None:
    with _client(bluesky_pds) as client:
        fresh = client.login()
    token = (
        bluesky_pds.expired_access_jwt if access == "expired" else fresh.access_jwt[:-4] + "AAAA"
    )
    expired = BlueskySession(fresh.did, fresh.handle, token, fresh.refresh_jwt)
    with _client(bluesky_pds, session=expired) as client:
        receipt = client.post(_post())
        renewed = client.session
    assert receipt.outcome is Outcome.SENT, receipt.reply
    assert renewed is not None
    assert renewed.access_jwt != token
    assert renewed.refresh_jwt != fresh.refresh_jwt  # refreshSession rotates it


def test_a_session_that_cannot_be_refreshed_logs_in_again(bluesky_pds: BlueskyPds) -> None:
    stale = BlueskySession(
        bluesky_pds.did, bluesky_pds.handle, bluesky_pds.expired_access_jwt, "not-a-jwt"
    )
    with _client(bluesky_pds, session=stale) as client:
        receipt = client.post(_post())
        assert receipt.outcome is Outcome.SENT, receipt.reply
        assert client.session is not None and client.session.refresh_jwt != "not-a-jwt"


def test_login_rate_limit_is_transient_with_retry_after(bluesky_pds: BlueskyPds) -> None:
    # The PDS allows 30 logins per account in 5 minutes; use up the spare account's. A password
    # over 512 characters is refused before any hashing, yet still counts, which keeps this quick.
    for _ in range(40):
        response = httpx.post(
            f"{bluesky_pds.url}/xrpc/com.atproto.server.createSession",
            json={"identifier": bluesky_pds.spare_handle, "password": "x" * 513},
        )
        if response.status_code == 429:
            break
    assert response.status_code == 429
    with BlueskyClient(
        bluesky_pds.url, bluesky_pds.spare_handle, bluesky_pds.spare_app_password
    ) as client:
        receipt = client.post(_post())
        with pytest.raises(SocialConnectError, match="429") as limited:
            client.login()
    assert receipt.outcome is Outcome.TRANSIENT
    assert receipt.reply.startswith("Bluesky PDS") and "429" in receipt.reply
    assert receipt.retry_after is not None and 0 < receipt.retry_after <= 300
    assert limited.value.transient
    assert limited.value.retry_after is not None


def test_unreachable_pds_is_transient_and_not_in_doubt(unused_port: int) -> None:
    with BlueskyClient(f"http://127.0.0.1:{unused_port}", "officer.test", "pw") as client:
        receipt = client.post(_post())
    assert receipt.outcome is Outcome.TRANSIENT
    assert not receipt.in_doubt
    assert "cannot reach" in receipt.reply


def test_engagement_needs_an_appview_which_a_bare_pds_lacks(bluesky_pds: BlueskyPds) -> None:
    with _client(bluesky_pds) as client:
        receipt = client.post(_post())
        assert receipt.remote_id is not None
        with pytest.raises(SocialConnectError, match=r"502.*AppView") as failed:
            client.engagement(receipt.remote_id)
    assert failed.value.transient


def test_record_keys_are_tids_fixed_by_the_key() -> None:
    at = datetime(2026, 3, 1, 12, 30, 15, 999999, tzinfo=UTC)
    keys = {record_key(SocialPost(f"delivery-{n}", "same text", created_at=at)) for n in range(500)}
    assert len(keys) == 500
    assert all(TID.fullmatch(key) for key in keys)
    again = record_key(SocialPost("delivery-7", "other text", created_at=at))
    assert again == record_key(SocialPost("delivery-7", "same text", created_at=at))
    # The TID's time is created_at's second (plus hashed microseconds).
    micros = int("".join(f"{S32.index(c):05b}" for c in again), 2) >> 10
    assert micros // 1_000_000 == int(at.timestamp())
    undated = record_key(SocialPost("delivery-7", "x"))
    micros = int("".join(f"{S32.index(c):05b}" for c in undated), 2) >> 10
    assert datetime(2023, 1, 1, tzinfo=UTC) <= datetime.fromtimestamp(micros / 1e6, UTC)
    assert datetime.fromtimestamp(micros / 1e6, UTC) < datetime(2024, 1, 1, tzinfo=UTC)


def test_created_at_must_have_a_time_zone() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        SocialPost("delivery-1", "hi", created_at=datetime(2026, 3, 1, 12, 0))


# An app.bsky.feed.getPostThread answer, written field by field from the lexicon
# (app.bsky.feed.defs#threadViewPost, #postView, #blockedPost, #notFoundPost) because the local PDS
# has no AppView to produce one; `test_thread_fixture_is_valid_for_the_lexicon` checks it against
# the lexicon schemas shipped in @atproto/api.
OFFICE = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
ROOT = f"at://{OFFICE}/app.bsky.feed.post/3l6oveex3ii2l"


def _view(did: str, handle: str, rkey: str, text: str, when: str, **counts: int) -> dict[str, Any]:
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": CID,
        "author": {
            "did": did,
            "handle": handle,
            "displayName": handle.split(".")[0].title(),
            "labels": [],
            "createdAt": "2023-04-01T10:00:00.000Z",
        },
        "record": {"$type": "app.bsky.feed.post", "createdAt": when, "langs": ["en"], "text": text},
        "replyCount": counts.get("replies", 0),
        "repostCount": counts.get("reposts", 0),
        "likeCount": counts.get("likes", 0),
        "quoteCount": counts.get("quotes", 0),
        "indexedAt": when,
        "viewer": {"threadMuted": False, "embeddingDisabled": False},
        "labels": [],
    }


ADA = "did:plc:vwzwgnygau7ed7b7wt5ux7y2"
GRACE = "did:plc:z72i7hdynmk6r22z27h6tvur"
REAL_THREAD: dict[str, Any] = {
    "thread": {
        "$type": "app.bsky.feed.defs#threadViewPost",
        "post": _view(
            OFFICE,
            "alumni.example.edu",
            "3l6oveex3ii2l",
            "Class of 2015: reunion on 18 October!",
            "2025-09-20T09:00:00.000Z",
            replies=3,
            reposts=4,
            likes=12,
            quotes=1,
        ),
        "replies": [
            {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": _view(
                    ADA,
                    "ada.bsky.social",
                    "3l6ovkn2xwk2b",
                    "Count me in! 🎉",
                    "2025-09-20T09:12:30.000Z",
                    replies=1,
                    likes=2,
                ),
                "replies": [
                    {
                        "$type": "app.bsky.feed.defs#threadViewPost",
                        "post": _view(
                            GRACE,
                            "grace.example.org",
                            "3l6ovq3ac2c2c",
                            "Me too",
                            "2025-09-20T10:00:00.000Z",
                        ),
                        "replies": [],
                    }
                ],
            },
            {
                "$type": "app.bsky.feed.defs#blockedPost",
                "uri": f"at://{GRACE}/app.bsky.feed.post/3l6ow2hctyk2d",
                "blocked": True,
                "author": {
                    "did": GRACE,
                    "viewer": {"blocking": f"at://{OFFICE}/app.bsky.graph.block/3l6ow3abcde2e"},
                },
            },
            {
                "$type": "app.bsky.feed.defs#notFoundPost",
                "uri": f"at://{ADA}/app.bsky.feed.post/3l6ow5ghijk2f",
                "notFound": True,
            },
        ],
    },
}


def test_engagement_parser_reads_a_get_post_thread_answer() -> None:
    engagement = engagement_from_thread(ROOT, REAL_THREAD)
    assert (engagement.likes, engagement.reposts, engagement.quotes) == (12, 4, 1)
    assert engagement.reply_count == 3  # Bluesky's count includes replies we cannot see
    assert [(r.author, r.text) for r in engagement.replies] == [
        ("ada.bsky.social", "Count me in! 🎉"),
        ("grace.example.org", "Me too"),
    ]
    first = engagement.replies[0]
    assert first.url == f"https://bsky.app/profile/{ADA}/post/3l6ovkn2xwk2b"
    assert first.created_at == datetime(2025, 9, 20, 9, 12, 30, tzinfo=UTC)


def test_engagement_parser_refuses_a_missing_post() -> None:
    gone = {"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": ROOT, "notFound": True}}
    with pytest.raises(ValueError, match="notFoundPost"):
        engagement_from_thread(ROOT, gone)


def _assert_valid_output(nsid: str, answer: dict[str, Any]) -> None:
    """Check `answer` against the lexicon of `nsid`, with the schemas in @atproto/api (node)."""
    from tests.social_servers import PDS_DIR

    script = (
        "import { lexicons } from '@atproto/api';"
        "let s = ''; process.stdin.on('data', d => s += d).on('end', () => {"
        f"lexicons.assertValidXrpcOutput('{nsid}', JSON.parse(s));"
        "console.log('valid') })"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=PDS_DIR,
        input=json.dumps(answer),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "valid", result.stderr


def _recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / name).read_text(encoding="utf-8"))
    return data


def test_thread_fixture_is_valid_for_the_lexicon(bluesky_pds: BlueskyPds) -> None:
    _assert_valid_output("app.bsky.feed.getPostThread", REAL_THREAD)


@pytest.mark.parametrize(
    ("nsid", "name"),
    [
        ("app.bsky.feed.getLikes", "bluesky_get_likes.json"),
        ("app.bsky.feed.getRepostedBy", "bluesky_get_reposted_by.json"),
    ],
)
def test_recorded_reaction_answers_are_valid_for_the_lexicon(
    bluesky_pds: BlueskyPds, nsid: str, name: str
) -> None:
    # bluesky_pds: so that tests/bluesky_pds has its node_modules (@atproto/api).
    _assert_valid_output(nsid, _recorded(name))


def test_likes_parser_reads_a_get_likes_answer() -> None:
    assert reactions_from_likes(_recorded("bluesky_get_likes.json")) == (
        Reaction("like", "grace.example.org", datetime(2025, 9, 20, 10, 2, 30, 587000, UTC)),
        Reaction("like", "ada.bsky.social", datetime(2025, 9, 20, 9, 31, 5, tzinfo=UTC)),
        # No verified handle: the DID, so two such accounts stay apart.
        Reaction(
            "like",
            "did:plc:4q2jmnlbwaqcygqqjvwzgdqm",
            datetime(2025, 9, 20, 9, 15, 11, 871000, UTC),
        ),
    )


def test_reposted_by_parser_reads_a_get_reposted_by_answer() -> None:
    assert reactions_from_reposted_by(_recorded("bluesky_get_reposted_by.json")) == (
        Reaction("repost", "ada.bsky.social"),
        Reaction("repost", "alumni.example.edu"),
    )


def test_reaction_parsers_lowercase_handles_and_refuse_other_shapes() -> None:
    assert actor_address({"did": ADA, "handle": "Ada.Example.ORG"}) == "ada.example.org"
    with pytest.raises(KeyError):
        reactions_from_likes({"uri": ROOT, "repostedBy": []})
    with pytest.raises(TypeError):
        reactions_from_reposted_by({"uri": ROOT, "repostedBy": {"handle": "ada.bsky.social"}})
    with pytest.raises(ValueError, match="handle"):
        reactions_from_reposted_by({"uri": ROOT, "repostedBy": [{"did": ADA, "handle": ""}]})


def _appview_pds(likes_pages: int | None) -> Script:
    """A PDS with an AppView behind it: a session, REAL_THREAD, likes 100 a page by cursor
    (`likes_pages` pages, None for without end) and reposts whose second page gives back the
    cursor it was asked with."""
    likes = _recorded("bluesky_get_likes.json")["likes"]
    reposted = _recorded("bluesky_get_reposted_by.json")

    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        nsid = parts.path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession":
            session = {"did": OFFICE, "handle": "alumni.example.edu"}
            return 200, {}, {**session, "accessJwt": "access", "refreshJwt": "refresh"}
        if nsid == "app.bsky.feed.getPostThread":
            return 200, {}, REAL_THREAD
        if nsid == "app.bsky.feed.getLikes":
            page = int(query.get("cursor", ["0"])[0])
            items = [
                {**likes[1], "actor": {**likes[1]["actor"], "handle": f"fan{page}-{n}.bsky.social"}}
                for n in range(int(query["limit"][0]))
            ]
            more = likes_pages is None or page + 1 < likes_pages
            return (
                200,
                {},
                {"uri": query["uri"][0], "likes": items}
                | ({"cursor": str(page + 1)} if more else {}),
            )
        if nsid == "app.bsky.feed.getRepostedBy":
            if "cursor" not in query:
                return 200, {}, {**reposted, "cursor": "again"}
            grace = {"did": GRACE, "handle": "grace.example.org"}
            return 200, {}, {"uri": query["uri"][0], "repostedBy": [grace], "cursor": "again"}
        return 501, {}, {"error": "MethodNotImplemented", "message": "no such method"}

    return answer


def test_engagement_pages_likes_by_cursor_up_to_the_cap(
    scripted_server: Callable[[Script], ScriptedServer],
) -> None:
    server = scripted_server(_appview_pds(likes_pages=None))
    with BlueskyClient(server.url, "alumni.example.edu", "app-pass-word") as client:
        engagement = client.engagement(ROOT)
    likes = [r for r in engagement.reactions if r.kind == "like"]
    reposts = [r for r in engagement.reactions if r.kind == "repost"]
    assert (engagement.likes, engagement.reposts) == (12, 4)  # the counts stay the AppView's
    assert len(likes) == REACTION_CAP
    assert likes[0].author == "fan0-0.bsky.social"
    assert likes[0].created_at == datetime(2025, 9, 20, 9, 31, 5, tzinfo=UTC)
    assert [r.author for r in reposts] == [
        "ada.bsky.social",
        "alumni.example.edu",
        "grace.example.org",
    ]
    asked = [urlsplit(p) for p in server.paths("/xrpc/app.bsky.feed.getLikes")]
    assert len(asked) == REACTION_CAP // 100
    first = parse_qs(asked[0].query)
    assert first == {"uri": [ROOT], "limit": ["100"]}
    assert parse_qs(asked[1].query)["cursor"] == ["1"]
    # A cursor that comes back unchanged would loop: its page is read once, then no further.
    assert len(server.paths("/xrpc/app.bsky.feed.getRepostedBy")) == 2
    assert all(
        r.headers.get("Authorization") == "Bearer access"
        for r in server.received
        if "createSession" not in r.path
    )


def test_engagement_reads_every_like_below_the_cap(
    scripted_server: Callable[[Script], ScriptedServer],
) -> None:
    server = scripted_server(_appview_pds(likes_pages=2))
    with BlueskyClient(server.url, "alumni.example.edu", "app-pass-word") as client:
        engagement = client.engagement(ROOT)
    assert len([r for r in engagement.reactions if r.kind == "like"]) == 200
    assert len(server.paths("/xrpc/app.bsky.feed.getLikes")) == 2


def test_engagement_names_the_appview_when_likes_cannot_be_read(
    scripted_server: Callable[[Script], ScriptedServer],
) -> None:
    script = _appview_pds(likes_pages=1)

    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        if "getLikes" in path:
            return 502, {}, {"error": "UpstreamFailure", "message": "AppView unavailable"}
        return script(method, path, headers)

    server = scripted_server(answer)
    with (
        BlueskyClient(server.url, "alumni.example.edu", "app-pass-word") as client,
        pytest.raises(SocialConnectError, match=r"502.*getLikes.*AppView") as failed,
    ):
        client.engagement(ROOT)
    assert failed.value.transient
    assert "app-pass-word" not in str(failed.value)
