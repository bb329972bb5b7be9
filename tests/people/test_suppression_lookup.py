"""The suppression list looked up for few addresses (by hash) and for a whole class (read whole
when it is the shorter), with the same answers, on both databases."""

from __future__ import annotations

import pytest

from alumni.db import engine_for, upgrade, write_transaction
from alumni.people.suppression import suppress, suppressed_for, suppressed_scopes

KEY = b"k" * 32
LISTED = {
    ("email", "a@example.org"): {"all"},
    ("email", "b@example.org"): {"news", "events"},
    ("mastodon", "@c@social.example"): {"all"},
}


@pytest.mark.parametrize("asked", [3, 1200], ids=["few addresses", "a whole class"])
def test_the_same_answers_however_many_addresses_are_asked_about(db_url: str, asked: int) -> None:
    upgrade(db_url)
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        for (kind, value), scopes in LISTED.items():
            for scope in scopes:
                suppress(
                    connection,
                    kind=kind,
                    value=value.upper(),
                    reason="unsubscribed",
                    scope=scope,
                    signing_key=KEY,
                )
    addresses = [*LISTED, *(("email", f"other{n}@example.org") for n in range(asked - 3))]
    with engine.connect() as connection:
        found = suppressed_scopes(connection, addresses, signing_key=KEY)
        by_reason = suppressed_for(connection, addresses, reason="unsubscribed", signing_key=KEY)
    assert found == LISTED
    assert by_reason == set(LISTED)
