"""A real SMTP server for tests: aiosmtpd in-process on a free port, with refusals on cue."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Received:
    peer: Any
    mail_from: str
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...]
    content: bytes
    login: bytes | None
    tls: bool


class Recorder:
    """An aiosmtpd handler that keeps what it accepts and can refuse or drop on cue."""

    pipelining = True  # offer RFC 2920 PIPELINING, as Postfix and most servers do

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.peers: set[Any] = set()
        self.quits = 0
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: dict[str, str] = {}
        # (recipient, "rcpt" or "data") -> how many more times to drop the connection there
        self.drops: Counter[tuple[str, str]] = Counter()
        self.closing: Counter[str] = Counter()  # recipient -> how many more 421s at RCPT
        self.delay = 0.0  # seconds to wait before answering each DATA
        self.hold_until_connections = 0  # hold each MAIL until this many connections sent one
        self._enough: asyncio.Event | None = None

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")  # before the last line, "250 HELP"
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        self.peers.add(session.peer)
        if self.hold_until_connections:
            if self._enough is None:
                self._enough = asyncio.Event()
            if len(self.peers) >= self.hold_until_connections:
                self._enough.set()
            try:
                # Well under the client's timeout, so a lone connection is not mistaken for
                # a dead one and reopened.
                await asyncio.wait_for(self._enough.wait(), 2)
            except TimeoutError:
                self._enough.set()  # hold no further messages: the test will fail on its count
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.drops[address, "rcpt"] > 0:
            self.drops[address, "rcpt"] -= 1
            server.transport.close()
            return "250 OK"  # never reaches the client
        if self.closing[address] > 0:
            self.closing[address] -= 1
            return "421 4.3.2 Service shutting down"
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        recipient = envelope.rcpt_tos[0]
        if recipient in self.data_replies:
            return self.data_replies[recipient]
        self.received.append(
            Received(
                peer=session.peer,
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                mail_options=tuple(envelope.mail_options),
                content=envelope.original_content,
                login=session.auth_data.login if session.auth_data else None,
                tls=server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        if self.drops[recipient, "data"] > 0:
            self.drops[recipient, "data"] -= 1
            server.transport.close()  # the message is taken but the 250 never reaches the client
        return "250 OK: queued"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 Bye"

    def count(self, recipient: str) -> int:
        return sum(recipient in message.rcpt_tos for message in self.received)


Serve = Callable[..., Controller]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start aiosmtpd servers on free ports; all are stopped after the test."""
    started: list[Controller] = []

    def start(handler: Recorder, port: int | None = None, **kwargs: Any) -> Controller:
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port or free_port(),
            server_hostname="mx.test",
            **kwargs,
        )
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        with contextlib.suppress(AssertionError):  # stopped by the test already
            controller.stop()


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """One recording SMTP server that ALUMNI_SMTP_URL points at (plain, on loopback). A test
    module needing more (a From, a Prefect API) defines its own ``smtp``, which wins."""
    from alumni.settings import get_settings

    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    get_settings.cache_clear()
    return handler
