"""Post lengths as Mastodon and Bluesky count them."""

from __future__ import annotations

import pytest

from alumni.social.text import check_length, graphemes, length

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, seven code points, 25 UTF-8 bytes
FLAG = "🇵🇹"  # one grapheme, two code points


def test_graphemes_count_what_a_reader_sees() -> None:
    assert graphemes(FAMILY) == 1
    assert graphemes(FLAG + FLAG) == 2
    assert graphemes("e\u0301") == 1  # e + combining acute
    assert graphemes("São Paulo") == 9


def test_mastodon_counts_each_url_as_23() -> None:
    url = "https://alumni.example.edu/events/2025/reunion-class-of-2015?utm_source=mastodon"
    assert length("mastodon", url) == 23
    assert length("mastodon", f"See {url}.") == 4 + 23 + 1
    assert length("mastodon", "see http://a.io (and https://b.io/x)") == 4 + 23 + 6 + 23 + 1
    # Only URLs with a scheme are shortened.
    assert length("mastodon", "example.org/a/very/long/path") == 28


def test_mastodon_counts_only_the_user_part_of_remote_mentions() -> None:
    assert length("mastodon", "Hi @ada@mathstodon.example!") == len("Hi @ada!")
    assert length("mastodon", "Hi @ada!") == 8
    assert length("mastodon", "mail ada@uni.example") == 20  # an email address is no mention


def test_mastodon_limit_allows_500_and_refuses_501_naming_count_and_limit() -> None:
    check_length("mastodon", "a" * 476 + " https://example.org/" + "x" * 200)  # 476+1+23
    check_length("mastodon", FAMILY * 500)
    with pytest.raises(ValueError, match=r"Mastodon post is 501 characters.*limit is 500.*by 1"):
        check_length("mastodon", "a" * 477 + " https://example.org/" + "x" * 200)
    with pytest.raises(ValueError, match=r"Mastodon post is 501 characters"):
        check_length("mastodon", "é" * 501)


def test_bluesky_counts_graphemes_and_urls_in_full() -> None:
    check_length("bluesky", FLAG * 300)  # 600 code points, 2,400 bytes, 300 to a reader
    check_length("bluesky", "ã" * 300)
    with pytest.raises(ValueError, match=r"Bluesky post is 301 characters.*limit is 300"):
        check_length("bluesky", FLAG * 301)
    url = "https://example.org/" + "p" * 280
    with pytest.raises(ValueError, match="Bluesky post is 309"):
        check_length("bluesky", f"See this {url}")


def test_bluesky_refuses_more_than_3000_bytes_even_under_300_graphemes() -> None:
    with pytest.raises(ValueError, match=r"Bluesky post is 3750 bytes.*3000"):
        check_length("bluesky", FAMILY * 150)


def test_unknown_network_is_named() -> None:
    with pytest.raises(ValueError, match="'friendster' is not one of mastodon, bluesky"):
        check_length("friendster", "hi")
