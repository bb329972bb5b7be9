"""Start and stop a throwaway PostgreSQL server for the test session (Debian's binaries)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


@dataclass
class PostgresServer:
    url: str
    process_dir: Path | None

    def stop(self) -> None:
        if self.process_dir is None:
            return
        _run_as_postgres(
            [
                _binary("pg_ctl"),
                "-D",
                str(self.process_dir / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ]
        )
        shutil.rmtree(self.process_dir, ignore_errors=True)


def _binary(name: str) -> str:
    for directory in PG_BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"PostgreSQL's {name} was not found: install it (apt-get install -y postgresql), "
            "set ALUMNI_TEST_POSTGRES_URL, or set ALUMNI_TEST_SKIP_POSTGRES=1 to skip those tests"
        )
    return found


def _run_as_postgres(args: list[str]) -> None:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_postgres() -> PostgresServer:
    """Create a cluster in a temporary folder and start it on a free loopback port."""
    base = Path(tempfile.mkdtemp(prefix="alumni-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    base.chmod(0o755)
    port = _free_port()
    _run_as_postgres(
        [_binary("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off"
    )
    _run_as_postgres(
        [_binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]
    )
    return PostgresServer(
        url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", process_dir=base
    )
