"""A lean SMTP sink for benchmarks: accepts everything, counts messages and bytes, keeps nothing.

aiosmtpd tops out near 1,500 messages/s on a 2-core machine, below what smtplib can send, so a
throughput ceiling needs a sink that is not the bottleneck. This one speaks just enough ESMTP
(EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) on a bare asyncio Protocol.
`XSTATS` answers "250 <messages> <bytes> <connections>" so a client in another process can check
that everything arrived.

Run it in its own process (so it does not share the sender's GIL):
    python bench/smtp_sink.py --port 2525
or in-process:
    >>> sink = start_sink(2525)
    >>> sink.count, sink.bytes
    (0, 0)
    >>> sink.stop()
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading

_EHLO = b"250-smtp-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 HELP\r\n"
_END_OF_DATA = b"\r\n.\r\n"


class Stats:
    """Counters shared by every connection of one sink."""

    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0
        self.connections = 0
        self.transports: set[asyncio.Transport] = set()


class SinkProtocol(asyncio.Protocol):
    """One SMTP session."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.buffer = bytearray()
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.stats.connections += 1
        self.stats.transports.add(transport)
        transport.write(b"220 smtp-sink ESMTP\r\n")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.stats.transports.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        scan_from = max(len(buffer) - 4, 0)
        buffer += data
        transport = self.transport
        assert transport is not None
        while True:
            if self.in_data:
                # The buffer starts with the CRLF that ended the DATA line, so an empty
                # message is also found by the CRLF.CRLF search.
                end = buffer.find(_END_OF_DATA, scan_from)
                if end < 0:
                    return
                body = bytes(buffer[2 : end + 2])
                del buffer[: end + 5]
                unstuffed = len(body) - body.count(b"\r\n..") - body.startswith(b"..")
                self.stats.count += 1
                self.stats.bytes += unstuffed
                self.in_data = False
                transport.write(b"250 OK queued\r\n")
                scan_from = 0
                continue
            end = buffer.find(b"\r\n")
            if end < 0:
                return
            line = bytes(buffer[:end])
            del buffer[: end + 2]
            verb = line[:4].upper()
            if verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                transport.write(b"250 OK\r\n")
            elif verb == b"DATA":
                self.in_data = True
                buffer[:0] = b"\r\n"
                scan_from = 0
                transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"EHLO":
                transport.write(_EHLO)
            elif verb == b"HELO":
                transport.write(b"250 smtp-sink\r\n")
            elif verb == b"QUIT":
                transport.write(b"221 Bye\r\n")
                transport.close()
                return
            elif line.upper() == b"XSTATS":
                stats = self.stats
                transport.write(f"250 {stats.count} {stats.bytes} {stats.connections}\r\n".encode())
            else:
                transport.write(b"502 Command not implemented\r\n")


class SinkHandle:
    """A sink running on its own event loop in a background thread."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._stats = Stats()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="smtp-sink", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self._thread.join()
            raise self._failure

    @property
    def count(self) -> int:
        """Messages received so far."""
        return self._stats.count

    @property
    def bytes(self) -> int:
        """Message bytes received so far, after dot-unstuffing."""
        return self._stats.bytes

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        return self._stats.connections

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                self._loop.create_server(
                    lambda: SinkProtocol(self._stats), self.host, self.port, reuse_address=True
                )
            )
        except BaseException as exc:  # handed to the starting thread
            self._failure = exc
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        for transport in list(self._stats.transports):
            transport.close()
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.run_until_complete(asyncio.sleep(0))  # let connection_lost callbacks run
        self._loop.close()

    def stop(self) -> None:
        """Close the listener and every open connection; wait for the thread to end."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()


def start_sink(port: int, host: str = "127.0.0.1") -> SinkHandle:
    """Start a sink listening on host:port in a background thread; returns once it listens."""
    return SinkHandle(host, port)


async def _serve(host: str, port: int) -> None:
    stats = Stats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SinkProtocol(stats), host, port, reuse_address=True)
    print(f"smtp sink listening on {host}:{port}", flush=True)
    try:
        async with server:
            await server.serve_forever()
    finally:
        print(f"{stats.count} messages, {stats.bytes} bytes, {stats.connections} connections")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
