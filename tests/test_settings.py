"""Settings: where the generated signing key lives, how its file is guarded, and what repr shows."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from alumni.settings import KEY_FILE_NAME, KeyFileError, Settings, _create_key_file

ROOT = Path(__file__).resolve().parent.parent
# A process that says it is ready, waits for the word, then prints the key it signs with.
SIGNER = """
import sys
from alumni.settings import Settings
settings = Settings()
print("ready", flush=True)
sys.stdin.readline()
print(settings.signing_key().decode(), flush=True)
"""


@pytest.fixture(autouse=True)
def no_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped defaults: no key and no key file named in the environment."""
    for name in list(os.environ):
        if name.startswith("ALUMNI_"):
            monkeypatch.delenv(name)


def sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def test_the_key_file_lives_beside_the_sqlite_database_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "data" / "alumni.db"
    keys = []
    for folder in ("worker", "web"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        settings = Settings(database_url=sqlite(database))
        assert settings.key_file() == database.parent / KEY_FILE_NAME
        keys.append(settings.signing_key())
    assert keys[0] == keys[1]
    assert len(keys[0]) >= 32
    assert (database.parent / KEY_FILE_NAME).read_text().strip().encode() == keys[0]
    assert not (tmp_path / "worker" / KEY_FILE_NAME).exists()
    assert stat.S_IMODE((database.parent / KEY_FILE_NAME).stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///alumni.db", Path(KEY_FILE_NAME)),  # relative, like the database itself
        ("sqlite:///var/db/alumni.db", Path("var/db") / KEY_FILE_NAME),
        ("sqlite:////srv/alumni/alumni.db", Path("/srv/alumni") / KEY_FILE_NAME),
        ("sqlite+pysqlite:////srv/alumni/alumni.db", Path("/srv/alumni") / KEY_FILE_NAME),
        ("sqlite:///file:/srv/alumni/alumni.db?uri=true", Path("/srv/alumni") / KEY_FILE_NAME),
    ],
)
def test_key_file_of_an_sqlite_url(url: str, expected: Path) -> None:
    assert Settings(database_url=url).key_file() == expected


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://alumni:pw@db.example.org/alumni",
        "sqlite://",
        "sqlite:///:memory:",
    ],
)
def test_without_a_database_file_the_key_lives_in_the_users_config_folder(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    settings = Settings(database_url=url)
    assert settings.key_file() == tmp_path / "config" / "alumni-outreach" / "secret"
    key = settings.signing_key()
    assert (tmp_path / "config" / "alumni-outreach" / "secret").read_text().strip().encode() == key


def test_a_named_key_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALUMNI_SECRET_KEY_FILE", str(tmp_path / "keys" / "alumni.key"))
    monkeypatch.setenv("ALUMNI_DATABASE_URL", sqlite(tmp_path / "alumni.db"))
    settings = Settings()
    assert settings.key_file() == tmp_path / "keys" / "alumni.key"
    assert settings.signing_key() == (tmp_path / "keys" / "alumni.key").read_bytes().strip()


@pytest.mark.parametrize("mode", [0o640, 0o644, 0o604, 0o660, 0o606, 0o610])
def test_a_key_file_open_to_group_or_others_is_refused_with_the_chmod_to_run(
    mode: int, tmp_path: Path
) -> None:
    folder = tmp_path / "office data"  # a space: the command must still be copy-pastable
    folder.mkdir()
    key_file = folder / KEY_FILE_NAME
    key_file.write_text("k" * 64 + "\n")
    key_file.chmod(mode)
    settings = Settings(database_url=sqlite(folder / "alumni.db"))

    with pytest.raises(KeyFileError) as refused:
        settings.signing_key()

    assert f"chmod 600 '{key_file}'" in str(refused.value)
    assert "k" * 64 not in str(refused.value)
    assert stat.S_IMODE(key_file.stat().st_mode) == mode  # nothing changed
    subprocess.run(["chmod", "600", str(key_file)], check=True)  # the fix, as the message says
    assert settings.signing_key() == b"k" * 64


def test_a_key_file_without_a_usable_key_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_text("too-short\n")
    key_file.chmod(0o600)
    with pytest.raises(KeyFileError, match="holds no usable key"):
        Settings(database_url=sqlite(tmp_path / "alumni.db")).signing_key()
    assert key_file.read_text() == "too-short\n"


def test_a_process_that_loses_the_race_keeps_the_winners_key(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    _create_key_file(key_file, "a" * 64)
    _create_key_file(key_file, "b" * 64)
    assert key_file.read_text() == "a" * 64 + "\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [KEY_FILE_NAME]


@pytest.mark.parametrize("round_", [1, 2])
def test_processes_creating_the_key_at_once_end_with_one_key(round_: int, tmp_path: Path) -> None:
    database = tmp_path / "data" / "alumni.db"
    env = {name: value for name, value in os.environ.items() if not name.startswith("ALUMNI_")}
    env.update(PYTHONPATH=str(ROOT), ALUMNI_DATABASE_URL=sqlite(database))
    signers = []
    for number in range(6):
        cwd = tmp_path / f"cwd-{number}"  # each its own working directory
        cwd.mkdir()
        signers.append(
            subprocess.Popen(
                [sys.executable, "-c", SIGNER],
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    try:
        for signer in signers:
            assert signer.stdout is not None and signer.stdout.readline() == "ready\n"
        for signer in signers:  # release them all at once
            assert signer.stdin is not None
            signer.stdin.write("go\n")
            signer.stdin.flush()
        keys = {signer.communicate(timeout=60)[0].strip() for signer in signers}
    finally:
        for signer in signers:
            if signer.poll() is None:
                signer.kill()
                signer.wait()
    assert [signer.returncode for signer in signers] == [0] * 6
    assert len(keys) == 1
    (key,) = keys
    assert len(key) >= 32
    assert (database.parent / KEY_FILE_NAME).read_text() == key + "\n"
    assert sorted(path.name for path in database.parent.iterdir()) == [KEY_FILE_NAME]


def test_repr_shows_no_secret(tmp_path: Path) -> None:
    settings = Settings(
        database_url="postgresql+psycopg://alumni:db-pass-4711@db.example.org/alumni",
        secret_key="signing-key-4711-" + "x" * 32,
        smtp_url="smtp://officer:smtp-pass-4711@relay.example.edu",
        mastodon_token="mastodon-token-4711",
        bluesky_password="bluesky-pass-4711",
    )
    for shown in (repr(settings), str(settings)):
        assert "4711" not in shown
        assert "postgresql+psycopg://alumni:***@db.example.org/alumni" in shown
    assert Settings(database_url="not a url").__repr__().count("not shown") == 1


def test_the_return_path_defaults_to_the_from_address_with_bounces_added() -> None:
    settings = Settings(ALUMNI_FROM="Office <alumni+news@school.example.org>")
    assert settings.return_path() == ("alumni-bounces", "school.example.org")


def test_the_bounce_address_can_be_set() -> None:
    settings = Settings(bounce_address="returns@mail.school.example.org")
    assert settings.return_path() == ("returns", "mail.school.example.org")


@pytest.mark.parametrize("address", ["returns+x@school.example.org", "no-domain", "@x.org"])
def test_a_bounce_address_that_cannot_carry_a_token_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="ALUMNI_BOUNCE_ADDRESS"):
        Settings(bounce_address=address).return_path()
