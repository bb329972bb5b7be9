"""The settings of the web app's tests, read as `alumni serve` reads them, for each database,
and a client aimed at the app served for real by uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from alumni.settings import Settings, get_settings
from tests.web_server import serving


@pytest.fixture
def settings(db_url: str) -> Settings:
    return get_settings()


@pytest.fixture
def sqlite_settings(sqlite_url: str) -> Settings:
    return get_settings()


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with serving(settings) as served:
        yield served


@pytest.fixture
def sqlite_client(sqlite_settings: Settings) -> Iterator[httpx.Client]:
    with serving(sqlite_settings) as served:
        yield served
