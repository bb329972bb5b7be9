"""The web app served for real: uvicorn on a free loopback port, in a thread, for one test."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from alumni.settings import Settings
from alumni.web.app import make_server

# How long uvicorn may take to bind; reached only when it cannot start at all.
START_TIMEOUT = 30.0


class _Signalling(uvicorn.Server):
    """A uvicorn server that says when its start-up has ended, whether it worked or not."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.startup_done = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.startup_done.set()


@contextmanager
def serving(
    settings: Settings, *, routes: Callable[[FastAPI], None] | None = None, port: int = 0
) -> Iterator[httpx.Client]:
    """Serve the app and yield a client aimed at it; stop the server afterwards.

    ``routes`` may add test-only routes to the app before it starts; ``port`` (0: a free one)
    lets a test give ALUMNI_BASE_URL before the app starts.
    """
    server = _Signalling(make_server("127.0.0.1", port, settings).config)
    if routes is not None:
        routes(server.config.app)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    server.startup_done.wait(START_TIMEOUT)
    assert server.started, "uvicorn did not start (see its log above)"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)
