"""How a failed step is said in one line: the exception's own words, on the session's Prefect
test server."""

from __future__ import annotations

import pytest
from prefect import flow, task

from flows.outcome import cause_of


@task
def refuses() -> None:
    raise ValueError("Mastodon server http://x would get the token unencrypted: use https://x")


@flow
def runs_it() -> str:
    return cause_of(refuses(return_state=True))


def test_a_failed_task_is_said_in_its_exceptions_words(
    prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)

    said = runs_it()

    assert said == "Mastodon server http://x would get the token unencrypted: use https://x"
