"""Bluesky's rich-text facets with UTF-8 byte offsets, as its connector builds them."""

from __future__ import annotations

from itertools import pairwise

from connectors.richtext import bluesky_facets

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, seven code points, 25 UTF-8 bytes
FLAG = "🇵🇹"  # one grapheme, two code points


def _slice(text: str, facet: dict[str, object]) -> str:
    """The text a facet covers, cut by its byte offsets as a Bluesky client does."""
    index = facet["index"]
    assert isinstance(index, dict)
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


def test_link_facets_use_utf8_byte_offsets() -> None:
    text = f"Reunião {FAMILY} em São Paulo: https://example.org/reunião?ano=2015."
    [facet] = bluesky_facets(text)
    assert facet["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/reunião?ano=2015"}
    ]
    assert _slice(text, facet) == "https://example.org/reunião?ano=2015"
    assert facet["index"]["byteStart"] == len(f"Reunião {FAMILY} em São Paulo: ".encode())
    assert facet["index"]["byteStart"] != text.index("https")  # characters are not bytes


def test_link_facets_leave_sentence_punctuation_and_outer_brackets_out() -> None:
    text = "Photos (https://example.org/a_(b)) and https://x.org/y). Bye: https://z.org!"
    assert [_slice(text, f) for f in bluesky_facets(text)] == [
        "https://example.org/a_(b)",
        "https://x.org/y",
        "https://z.org",
    ]


def test_tag_facets_cover_the_hash_and_name_the_tag_without_it() -> None:
    text = f"{FLAG} Turma de 2015 #Reunião2015, #alumni! #2015 #café #1"
    facets = bluesky_facets(text)
    assert [_slice(text, f) for f in facets] == ["#Reunião2015", "#alumni", "#café"]
    assert [f["features"][0]["tag"] for f in facets] == ["Reunião2015", "alumni", "café"]
    assert {f["features"][0]["$type"] for f in facets} == {"app.bsky.richtext.facet#tag"}


def test_tags_inside_urls_and_words_are_not_tags() -> None:
    text = "See https://example.org/page#section and C# or issue#12"
    facets = bluesky_facets(text)
    assert [f["features"][0]["$type"] for f in facets] == ["app.bsky.richtext.facet#link"]
    assert _slice(text, facets[0]) == "https://example.org/page#section"


def test_overlong_tags_are_left_plain() -> None:
    assert bluesky_facets("#" + "a" * 65) == []
    assert len(bluesky_facets("#" + "a" * 64)) == 1


def test_mentions_need_a_resolver_and_a_known_handle() -> None:
    text = "Thanks @ada.bsky.social and @unknown.example and @nodot, (@grace.example.org)."
    assert bluesky_facets(text) == []
    dids = {"ada.bsky.social": "did:plc:ada", "grace.example.org": "did:plc:grace"}
    facets = bluesky_facets(text, resolve_handle=dids.get)
    assert [(_slice(text, f), f["features"][0]) for f in facets] == [
        ("@ada.bsky.social", {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:ada"}),
        (
            "@grace.example.org",
            {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:grace"},
        ),
    ]


def test_facets_are_sorted_and_never_overlap() -> None:
    text = "#alumni https://example.org/#alumni @ada.test"
    facets = bluesky_facets(text, resolve_handle=lambda handle: "did:plc:ada")
    starts = [f["index"]["byteStart"] for f in facets]
    assert starts == sorted(starts)
    assert all(a["index"]["byteEnd"] <= b["index"]["byteStart"] for a, b in pairwise(facets))
    assert [_slice(text, f) for f in facets] == [
        "#alumni",
        "https://example.org/#alumni",
        "@ada.test",
    ]
