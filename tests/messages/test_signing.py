"""Signed link tokens: what they carry, and every way a damaged or stale one is refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from alumni.messages.signing import (
    BadToken,
    ExpiredToken,
    TamperedToken,
    make_return_token,
    make_token,
    read_return_token,
    read_token,
    token_maker,
)

KEY = b"0123456789abcdef0123456789abcdef-office-key"
OTHER_KEY = b"fedcba9876543210fedcba9876543210-other-key"
NOW = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
DAMAGED = "this link is damaged or incomplete: copy the whole link from the email"


def test_round_trip_without_expiry() -> None:
    token = make_token(KEY, "unsubscribe", "123456")
    assert read_token(KEY, "unsubscribe", token, now=NOW) == "123456"
    assert read_token(KEY, "unsubscribe", token, now=NOW + timedelta(days=3650)) == "123456"


@pytest.mark.parametrize("payload", ["", "123456", "rsvp:42:yes", "Zoë 🎓 | . = +/", "x" * 500])
def test_round_trip_with_expiry(payload: str) -> None:
    token = make_token(KEY, "rsvp", payload, expires_at=LATER)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)
    assert read_token(KEY, "rsvp", token, now=NOW) == payload
    assert read_token(KEY, "rsvp", token, now=LATER - timedelta(seconds=1)) == payload


def test_a_delivery_id_gives_a_compact_token() -> None:
    assert 50 <= len(make_token(KEY, "unsubscribe", "123456", expires_at=LATER)) <= 60
    assert len(make_token(KEY, "unsubscribe", "123456")) <= 60


def test_tokens_are_deterministic_and_differ_by_every_input() -> None:
    token = make_token(KEY, "unsubscribe", "1", expires_at=LATER)
    assert token == make_token(KEY, "unsubscribe", "1", expires_at=LATER)
    others = {
        make_token(OTHER_KEY, "unsubscribe", "1", expires_at=LATER),
        make_token(KEY, "rsvp", "1", expires_at=LATER),
        make_token(KEY, "unsubscribe", "2", expires_at=LATER),
        make_token(KEY, "unsubscribe", "1", expires_at=LATER + timedelta(seconds=1)),
        make_token(KEY, "unsubscribe", "1"),
    }
    assert token not in others
    assert len(others) == 5


def test_a_token_maker_makes_what_make_token_makes_and_checks_its_inputs_at_once() -> None:
    make = token_maker(KEY, "unsubscribe", expires_at=LATER)
    assert [make(p) for p in ("1", "42", "Zoë")] == [
        make_token(KEY, "unsubscribe", p, expires_at=LATER) for p in ("1", "42", "Zoë")
    ]
    assert token_maker(KEY, "rsvp")("7") == make_token(KEY, "rsvp", "7")
    for bad, problem in (
        (lambda: token_maker(b"short", "rsvp"), "at least 32"),
        (lambda: token_maker(KEY, "un|subscribe"), "purpose"),
        (lambda: token_maker(KEY, "rsvp", expires_at=datetime(2025, 5, 1)), "time zone"),
    ):
        with pytest.raises(ValueError, match=problem):
            bad()
    assert KEY.decode()[:12] not in repr(make)


def test_every_flipped_character_is_caught() -> None:
    token = make_token(KEY, "unsubscribe", "123456", expires_at=LATER)
    for index, char in enumerate(token):
        flipped = "B" if char != "B" else "C"
        damaged = token[:index] + flipped + token[index + 1 :]
        with pytest.raises(TamperedToken) as caught:
            read_token(KEY, "unsubscribe", damaged, now=NOW)
        assert str(caught.value) == DAMAGED


def test_a_changed_payload_with_the_old_mac_is_caught() -> None:
    token = make_token(KEY, "unsubscribe", "123456", expires_at=LATER)
    forged = make_token(KEY, "unsubscribe", "123457", expires_at=LATER)
    spliced = forged.rsplit(".", 1)[0] + "." + token.rsplit(".", 1)[1]
    with pytest.raises(TamperedToken):
        read_token(KEY, "unsubscribe", spliced, now=NOW)


def test_a_later_expiry_with_the_old_mac_is_caught() -> None:
    token = make_token(KEY, "unsubscribe", "123456", expires_at=NOW)
    payload, _, mac = token.split(".")
    longer = make_token(KEY, "unsubscribe", "123456", expires_at=LATER).split(".")[1]
    for expiry in (longer, ""):
        with pytest.raises(TamperedToken):
            read_token(KEY, "unsubscribe", f"{payload}.{expiry}.{mac}", now=NOW)


def test_wrong_purpose_is_refused() -> None:
    token = make_token(KEY, "rsvp", "123456", expires_at=LATER)
    with pytest.raises(BadToken) as caught:
        read_token(KEY, "unsubscribe", token, now=NOW)
    assert isinstance(caught.value, TamperedToken)


def test_wrong_key_is_refused() -> None:
    token = make_token(OTHER_KEY, "unsubscribe", "123456")
    with pytest.raises(TamperedToken):
        read_token(KEY, "unsubscribe", token, now=NOW)


def test_truncated_and_garbage_tokens_are_refused() -> None:
    token = make_token(KEY, "unsubscribe", "123456", expires_at=LATER)
    candidates = [token[:cut] for cut in range(len(token))]
    candidates += [token + "x", token + ".", "..", "a.b.c", "é" * 60, token.replace(".", "")]
    candidates += ["A" * 10_000]
    for candidate in candidates:
        with pytest.raises(TamperedToken):
            read_token(KEY, "unsubscribe", candidate, now=NOW)


def test_surrounding_whitespace_from_a_pasted_link_is_ignored() -> None:
    token = make_token(KEY, "unsubscribe", "123456")
    assert read_token(KEY, "unsubscribe", f" {token}\n", now=NOW) == "123456"


def test_expired_tokens_say_when_and_still_carry_their_payload() -> None:
    expires = datetime(2025, 5, 31, 17, 45, tzinfo=timezone(timedelta(hours=2)))
    token = make_token(KEY, "rsvp", "42", expires_at=expires)
    assert read_token(KEY, "rsvp", token, now=expires - timedelta(seconds=1)) == "42"
    for now in (expires, expires + timedelta(days=400)):
        with pytest.raises(ExpiredToken) as caught:
            read_token(KEY, "rsvp", token, now=now)
        assert (
            str(caught.value) == "this link expired on 2025-05-31 at 15:45 UTC; ask for a new one"
        )
        assert caught.value.payload == "42"
        assert caught.value.expires_at == expires


def test_an_expired_token_that_was_tampered_with_is_reported_as_damaged() -> None:
    token = make_token(KEY, "rsvp", "42", expires_at=NOW)
    with pytest.raises(TamperedToken):
        read_token(KEY, "rsvp", token[:-1] + ("A" if token[-1] != "A" else "B"), now=LATER)


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        make_token(b"short", "unsubscribe", "1")
    token = make_token(KEY, "unsubscribe", "1")
    with pytest.raises(ValueError, match="at least 32"):
        read_token(KEY[:31], "unsubscribe", token, now=NOW)


@pytest.mark.parametrize(
    "purpose", ["", "un|subscribe", "un subscribe", "x" * 65, "désinscription"]
)
def test_malformed_purposes_are_refused(purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        make_token(KEY, purpose, "1")
    with pytest.raises(ValueError, match="purpose"):
        read_token(KEY, purpose, "a..b", now=NOW)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        make_token(KEY, "rsvp", "1", expires_at=datetime(2025, 5, 1))
    token = make_token(KEY, "rsvp", "1")
    with pytest.raises(ValueError, match="time zone"):
        read_token(KEY, "rsvp", token, now=datetime(2025, 5, 1))


def test_no_error_nor_its_repr_shows_the_key() -> None:
    short = b"0123456789-short-office-key"
    token = make_token(KEY, "rsvp", "42", expires_at=NOW)
    attempts = [
        (ValueError, lambda: make_token(short, "rsvp", "42")),
        (ValueError, lambda: read_token(short, "rsvp", token, now=NOW)),
        (ExpiredToken, lambda: read_token(KEY, "rsvp", token, now=LATER)),
        (TamperedToken, lambda: read_token(OTHER_KEY, "rsvp", token, now=NOW)),
        (TamperedToken, lambda: read_token(KEY, "unsubscribe", token, now=NOW)),
    ]
    for expected, attempt in attempts:
        with pytest.raises(expected) as caught:
            attempt()
        error = caught.value
        for shown in (str(error), repr(error), repr(vars(error))):
            for key in (KEY, OTHER_KEY, short):
                assert key.decode()[:12] not in shown


def test_a_return_token_reads_back_to_its_delivery_whatever_the_case() -> None:
    token = make_return_token(KEY, 4711)
    assert re.fullmatch(r"d4711-[a-z2-7]{16}", token)
    assert read_return_token(KEY, token) == 4711
    assert read_return_token(KEY, token.upper()) == 4711  # a server lower- or upper-cased it


@pytest.mark.parametrize(
    "forged",
    [
        "d4711",  # the bare delivery id older versions sent: anyone could write it
        "d4712-" + make_return_token(KEY, 4711).split("-")[1],  # another delivery, same MAC
        make_return_token(OTHER_KEY, 4711),
        make_return_token(KEY, 4711)[:-1],
        make_return_token(KEY, 4711) + "a",
        "",
    ],
)
def test_a_forged_return_token_is_refused(forged: str) -> None:
    with pytest.raises(TamperedToken):
        read_return_token(KEY, forged)


def test_return_tokens_need_a_real_key_and_a_delivery() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        make_return_token(b"short", 1)
    with pytest.raises(ValueError, match="negative"):
        make_return_token(KEY, -1)
