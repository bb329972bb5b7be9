"""The SMTP ceiling: how fast plain smtplib moves ~5 KB messages to a lean sink, and how close
`SmtpTransport` comes to it.

The sink (bench/smtp_sink.py) runs in its own process so it does not share the senders' GIL.
Prints messages/s for plain smtplib with 1 and 4 connections (threads), then the same through
`SmtpTransport`, and the ratio transport / smtplib.

    python bench/smtp_ceiling.py [--messages 5000] [--rounds 3]

Each figure is the best of `rounds` interleaved runs, so a neighbour's burst of CPU on a shared
machine skews the ratio less.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.mail import Outcome, OutgoingMail, Receipt
from connectors.smtp import SmtpTransport

SENDER = "officer+b-0123456789@alumni.test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def message(size: int = 5000) -> bytes:
    """A ~5 KB text message with CRLF line endings, like a rendered campaign email."""
    head = (
        b"From: Alumni Office <officer@alumni.test>\r\n"
        b"To: Ada Lovelace <ada@example.org>\r\n"
        b"Subject: Your class of 2015 reunion\r\n"
        b"Message-ID: <d-123456.c-42@alumni.test>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    line = b"Dear Ada, ten years already: join your classmates on campus this autumn.\r\n"
    return head + line * ((size - len(head)) // len(line))


def start_sink(port: int) -> subprocess.Popen[bytes]:
    sink = Path(__file__).resolve().parent / "smtp_sink.py"
    process = subprocess.Popen(
        [sys.executable, str(sink), "--port", str(port)],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.readline()  # "listening on ..."
    return process


def sink_count(port: int) -> int:
    with smtplib.SMTP("127.0.0.1", port) as probe:
        code, text = probe.docmd("XSTATS")
        assert code == 250, text
        return int(text.split()[0])


def plain_smtplib(port: int, data: bytes, total: int, connections: int) -> float:
    """Messages/s through `connections` threads, each one reused smtplib connection."""
    share = [total // connections + (i < total % connections) for i in range(connections)]
    clients = [smtplib.SMTP("127.0.0.1", port) for _ in range(connections)]
    for client in clients:
        client.ehlo()

    def run(client: smtplib.SMTP, count: int) -> None:
        for _ in range(count):
            client.sendmail(SENDER, ["ada@example.org"], data)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(clients, share, strict=True)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for client in clients:
        client.quit()
    return total / elapsed


def through_transport(port: int, data: bytes, total: int, connections: int) -> float:
    """Messages/s through `SmtpTransport.send` with `connections` connections."""
    transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{port}?tls=none", connections=connections)
    mails = [OutgoingMail(key, SENDER, "ada@example.org", data) for key in range(total)]
    sent = [0]
    lock = threading.Lock()

    def count(receipt: Receipt) -> None:
        if receipt.outcome is Outcome.SENT:
            with lock:
                sent[0] += 1

    transport.send(mails[:connections], count)  # open the connections outside the timing
    started = time.perf_counter()
    transport.send(mails, count)
    elapsed = time.perf_counter() - started
    transport.close()
    assert sent[0] == total + connections, f"only {sent[0]} of {total + connections} sent"
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    total: int = args.messages
    rounds: int = args.rounds
    data = message()
    port = free_port()
    sink = start_sink(port)
    try:
        plain_smtplib(port, data, 500, 1)  # warm up both processes
        before = sink_count(port)
        rows = []
        for connections in (1, 4):
            ceiling = ours = 0.0
            for _ in range(rounds):
                ceiling = max(ceiling, plain_smtplib(port, data, total, connections))
                ours = max(ours, through_transport(port, data, total, connections))
            rows.append((connections, ceiling, ours))
        arrived = sink_count(port) - before
        # per round: two plain runs, two transport runs and their 1 + 4 opening messages
        expected = rounds * (4 * total + 1 + 4)
        assert arrived == expected, f"sink counted {arrived} messages, expected {expected}"
    finally:
        sink.terminate()
        sink.wait()
    print(
        f"{total} messages of {len(data)} bytes to a lean sink in its own process, "
        f"best of {rounds} runs"
    )
    print("connections  smtplib msgs/s  SmtpTransport msgs/s  ratio")
    for connections, ceiling, ours in rows:
        print(f"{connections:>11}  {ceiling:>14,.0f}  {ours:>20,.0f}  {ours / ceiling:>5.2f}")


if __name__ == "__main__":
    main()
