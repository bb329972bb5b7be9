"""Real local peers for the social connectors, started once per test session.

- `mastodon_server`: mastodon-mock (PyPI), an in-memory Mastodon API with fault injection.
- `mastodon_alumni`: a second mastodon-mock seeded with the office's account and alumni's
  accounts on another server (its `home`), each with a token to read what reached it: the
  mock resolves a mention of `@user@domain` only to an account it knows under that domain
  (real Mastodon asks the other server by WebFinger), so the alumni are seeded as such.
- `bluesky_pds`: Bluesky's own PDS from `@atproto/dev-env` (npm), run by `tests/bluesky_pds/
  start.mjs`; `npm ci` runs there first if its node_modules is missing (about 4 minutes).
- `webhook_receiver` / `https_webhook_receiver`: a threaded `http.server` that records every POST.
- `scripted_server`: a threaded `http.server` answering as the test says, for what no real peer
  here does (Mastodon's Link pagination, a Bluesky AppView); it records every request.

Test modules use them with `pytest_plugins = ("tests.social_servers",)` and import from here only
under `TYPE_CHECKING` (an earlier import would keep pytest from rewriting this module's asserts).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import selectors
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

PDS_DIR = Path(__file__).parent / "bluesky_pds"
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    return free_port()


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.stdin is not None:
        process.stdin.close()  # start.mjs exits when its stdin closes
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:]


# --- A proxy that loses answers ------------------------------------------------------------


class AnswerLosingProxy:
    """A loopback HTTP proxy to `upstream` that loses the first `lose` answers.

    It passes each request on and waits for the server's whole answer (so the server has done the
    work), then, while `lose` is above 0, closes the client's connection instead of passing the
    answer back: the request landed but the client never hears. Later answers pass through.
    Handles requests and answers with Content-Length bodies (what httpx, uvicorn and express send).
    """

    def __init__(self, upstream_port: int, lose: int = 1) -> None:
        self.upstream_port = upstream_port
        self.lose = lose
        self.lost = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # so the accept loop sees `_closing`
        self._closing = threading.Event()
        self.port = int(self._listener.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closing.set()
        self._thread.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        try:
            while True:
                request = _read_message(client)
                if request is None:
                    return
                upstream.sendall(request)
                answer = _read_message(upstream)
                if answer is None:
                    return
                with self._lock:
                    losing = self.lost < self.lose
                    self.lost += losing
                if losing:
                    return
                client.sendall(answer)
        finally:
            client.close()
            upstream.close()


def _read_message(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 message (head and Content-Length body), or None when the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("AnswerLosingProxy handles only Content-Length bodies")
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def losing_proxy() -> Iterator[Callable[..., AnswerLosingProxy]]:
    """Makes `AnswerLosingProxy(upstream_url, lose=1)`s, closed after the test."""
    proxies: list[AnswerLosingProxy] = []

    def make(upstream_url: str, lose: int = 1) -> AnswerLosingProxy:
        port = httpx.URL(upstream_url).port
        assert port is not None
        proxies.append(AnswerLosingProxy(port, lose))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.close()


# --- Mastodon -------------------------------------------------------------------------------


@dataclass
class MastodonServer:
    url: str
    token: str = "mock_token"
    home: str = ""  # the server of the alumni accounts it knows (`mastodon_alumni`)

    def add_fault(self, rule: dict[str, Any]) -> None:
        """Add a mastodon-mock fault rule (see mastodon_mock/faults.py)."""
        httpx.post(f"{self.url}/api/v1/_mock/faults", json=rule, timeout=5).raise_for_status()

    def clear_faults(self) -> None:
        httpx.delete(f"{self.url}/api/v1/_mock/faults", timeout=5).raise_for_status()

    def new_account(self, username: str) -> str:
        """Create a local account; returns its access token."""
        response = httpx.post(
            f"{self.url}/api/v1/_mock/dev_user", json={"username": username}, timeout=5
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def statuses(self, token: str | None = None) -> list[dict[str, Any]]:
        """The statuses of the account behind `token` (default: the officer's), newest first."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        me = httpx.get(
            f"{self.url}/api/v1/accounts/verify_credentials", headers=headers, timeout=5
        ).json()
        response = httpx.get(
            f"{self.url}/api/v1/accounts/{me['id']}/statuses",
            params={"limit": 40},
            headers=headers,
            timeout=5,
        )
        response.raise_for_status()
        return list(response.json())

    def conversations(self, token: str) -> list[dict[str, Any]]:
        """The direct-message conversations the account behind `token` takes part in."""
        response = httpx.get(
            f"{self.url}/api/v1/conversations",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        response.raise_for_status()
        return list(response.json())


# The server of the alumni accounts `mastodon_alumni` knows, and their user names (each one's
# token is `<name>_token`).
ALUMNI_HOME = "alumni-home.example"
ALUMNI_ACCOUNTS = ("ana", "bea", "carla", "dana", "eli", "farid")


@pytest.fixture(scope="session")
def mastodon_server() -> Iterator[MastodonServer]:
    with _mastodon_mock(None) as server:
        yield server


@pytest.fixture(scope="session")
def mastodon_alumni(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MastodonServer]:
    """A mastodon-mock whose officer (`mock_token`) can send direct messages that reach the
    alumni accounts `@<name>@ALUMNI_HOME` of `ALUMNI_ACCOUNTS` (tokens `<name>_token`)."""
    config = tmp_path_factory.mktemp("mastodon-alumni") / "mastodon_mock.toml"
    accounts = ['{username = "testuser", access_token = "mock_token"}'] + [
        f'{{username = "{name}", domain = "{ALUMNI_HOME}", access_token = "{name}_token"}}'
        for name in ALUMNI_ACCOUNTS
    ]
    config.write_text("[seed]\naccounts = [\n  " + ",\n  ".join(accounts) + ",\n]\n")
    with _mastodon_mock(config, ALUMNI_HOME) as server:
        yield server


@contextmanager
def _mastodon_mock(config: Path | None, home: str = "") -> Iterator[MastodonServer]:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="mastodon-mock-", suffix=".log")[1])
    seeded = [] if config is None else ["--config", str(config)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mastodon_mock",
                "serve",
                *seeded,
                "--in-memory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = MastodonServer(f"http://127.0.0.1:{port}", home=home)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                httpx.get(f"{server.url}/api/v1/instance", timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mastodon-mock did not start on port {port}:\n{_tail(log)}"
                    ) from None
                time.sleep(0.1)
        yield server
    finally:
        _stop(process)
        log.unlink(missing_ok=True)


@pytest.fixture
def mastodon(mastodon_server: MastodonServer) -> Iterator[MastodonServer]:
    """The session's mastodon-mock, with no fault left over from another test."""
    mastodon_server.clear_faults()
    yield mastodon_server
    mastodon_server.clear_faults()


# --- Bluesky --------------------------------------------------------------------------------


@dataclass
class BlueskyPds:
    url: str
    handle: str
    did: str
    password: str
    app_password: str
    expired_access_jwt: str
    spare_handle: str
    spare_app_password: str


def _install_pds() -> None:
    """`npm ci` in tests/bluesky_pds once, when its node_modules is missing."""
    if (PDS_DIR / "node_modules" / "@atproto" / "dev-env").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError(
            "node and npm are needed for the Bluesky tests (Debian: apt-get install -y nodejs npm; "
            f"node 20 or later), then run `npm ci` in {PDS_DIR}"
        )
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=PDS_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=900,
    )


@pytest.fixture(scope="session")
def bluesky_pds() -> Iterator[BlueskyPds]:
    _install_pds()
    node = shutil.which("node")
    assert node is not None
    log = Path(tempfile.mkstemp(prefix="bluesky-pds-", suffix=".log")[1])
    env = {**os.environ, "LOG_ENABLED": "false", "NODE_ENV": "test"}
    with log.open("wb") as err:
        process = subprocess.Popen(
            [node, "start.mjs", str(free_port())],
            cwd=PDS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=STARTUP_SECONDS):
                raise RuntimeError(f"the Bluesky PDS did not start in time:\n{_tail(log)}")
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Bluesky PDS exited:\n{_tail(log)}")
        yield BlueskyPds(**json.loads(line))
    finally:
        _stop(process)
        log.unlink(missing_ok=True)


# --- A server whose answers the test writes --------------------------------------------------

# (status, headers, JSON body) for one request, from its method, path with query and headers.
Answer = tuple[int, dict[str, str], Any]
Script = Callable[[str, str, dict[str, str]], Answer]


@dataclass
class ScriptedServer:
    """A loopback HTTP server answering each request with `script(method, path, headers)`.

    Every request is recorded in `received` (path with its query, headers, body).
    """

    port: int
    script: Script
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self, prefix: str = "/") -> list[str]:
        """The paths (with queries) asked so far that start with `prefix`."""
        return [r.path for r in self.received if r.path.startswith(prefix)]


@contextmanager
def _serving_script(server: ScriptedServer) -> Iterator[None]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            headers = dict(self.headers.items())
            server.received.append(Received(self.path, headers, self.rfile.read(length)))
            code, extra, data = server.script(self.command, self.path, headers)
            body = json.dumps(data).encode()
            self.send_response(code)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", server.port), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        http.shutdown()
        http.server_close()
        thread.join()


@pytest.fixture
def scripted_server() -> Iterator[Callable[[Script], ScriptedServer]]:
    """Makes `ScriptedServer`s from scripts, each stopped after the test."""
    with ExitStack() as stack:

        def make(script: Script) -> ScriptedServer:
            server = ScriptedServer(free_port(), script)
            stack.enter_context(_serving_script(server))
            return server

        yield make


# --- Webhooks -------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A local HTTP(S) server; paths choose its answer, every POST is recorded.

    /hook -> 200, /redirect -> 302 to /hook, /busy -> 429 with Retry-After: 7,
    /broken -> 500, /gone -> 404.
    """

    port: int
    scheme: str = "http"
    received: list[Received] = field(default_factory=list)
    ssl_context: ssl.SSLContext | None = None  # for clients: trusts the server's certificate

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


@contextmanager
def _serving(receiver: WebhookReceiver, wrap: ssl.SSLContext | None) -> Iterator[None]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            receiver.received.append(
                Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            )
            answers: dict[str, tuple[int, dict[str, str]]] = {
                "/hook": (200, {}),
                "/redirect": (302, {"Location": receiver.url("/hook")}),
                "/busy": (429, {"Retry-After": "7"}),
                "/broken": (500, {}),
            }
            code, headers = answers.get(self.path, (404, {}))
            body = b"ok" if code == 200 else b"no"
            self.send_response(code)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    if wrap is not None:
        server.socket = wrap.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(free_port())
    with _serving(receiver, None):
        yield receiver


@pytest.fixture(scope="session")
def https_webhook_receiver() -> Iterator[WebhookReceiver]:
    """An HTTPS receiver whose self-signed certificate names only `localhost`."""
    cert_pem, key_pem = _self_signed("localhost")
    folder = Path(tempfile.mkdtemp(prefix="webhook-tls-"))
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key_pem)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client_context = ssl.create_default_context(cadata=cert_pem.decode("ascii"))
    receiver = WebhookReceiver(free_port(), scheme="https", ssl_context=client_context)
    try:
        with _serving(receiver, server_context):
            yield receiver
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _self_signed(hostname: str) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
