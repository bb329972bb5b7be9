"""Every sample of the corpus is classified as its manifest says (pure: no database)."""

from __future__ import annotations

import pytest

from alumni.messages.signing import read_return_token
from alumni.tracking.classify import KINDS, classify
from tests.tracking.samples import CORPUS, EXPECTED, filling, is_template, sample

KEY = b"corpus-test-signing-key-32-bytes!"
DELIVERY = 4711
FILL = filling(
    KEY,
    DELIVERY,
    address="ana.lima@example.org",
    message_id="<k2q7x3corpus@school.example>",
    event_uid="summer-2026@school.example",
)


def test_the_manifest_names_every_sample_and_only_them() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)
    assert {entry["kind"] for entry in EXPECTED.values()} == set(KINDS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_is_classified_as_the_manifest_says(name: str) -> None:
    expected = EXPECTED[name]
    found = classify(
        sample(name, FILL), return_local="alumni-bounces", return_domain="school.example"
    )

    assert found.kind == expected["kind"], found
    assert (found.problem is not None) == expected.get("unparsed", False), found.problem
    if found.kind == "bounce":
        assert found.bounce is not None
        failed = expected["failed"].replace("{{ADDRESS}}", FILL.address)
        failure = found.bounce.failure_for(failed)
        assert failure.address == failed
        assert failure.hard == (expected["severity"] == "hard")
        assert failure.status == expected.get("status")
    for words in expected.get("text_has", []):
        assert words in (found.text or ""), found.text
    for words in expected.get("text_lacks", []):
        assert words not in (found.text or ""), found.text


# The real samples from other systems carry no return path or Message-ID of ours.
@pytest.mark.parametrize(
    "name",
    sorted(
        n for n, e in EXPECTED.items() if e["kind"] in ("bounce", "complaint") and is_template(n)
    ),
)
def test_reports_of_ours_carry_our_message_id_and_a_token_where_sent_back(name: str) -> None:
    found = classify(
        sample(name, FILL), return_local="alumni-bounces", return_domain="school.example"
    )

    assert [read_return_token(KEY, token) for token in found.return_tokens] == (
        [] if name == "arf-redacted-by-message-id.eml" else [DELIVERY]
    )
    assert FILL.message_id in found.returned_ids
