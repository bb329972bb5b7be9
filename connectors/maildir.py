"""The embedded default outbox: every message becomes a file in a Maildir any mail client opens.

Nothing leaves the machine, so an office can try a campaign (or run without a relay) and read
exactly what each alum would receive, with `Return-Path` and `Delivered-To` prepended as an MTA
delivering it would. Files are named after `OutgoingMail.key`, so sending the same key again
replaces the message instead of adding a second copy.

Example:
    >>> outbox = MaildirTransport(Path("outbox"))
    >>> outbox.send(mails, receipts.append)
    >>> mailbox.Maildir("outbox", create=False).keys()
    ['7.delivery.alumni']
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from connectors.mail import Outcome, OutgoingMail, Receipt

# An address with these would forge header lines in the stored message.
_UNSAFE_ADDRESS = re.compile(r"[\x00-\x1f\x7f<>]")


class MaildirTransport:
    """Write each mail atomically into `path`/new/ (made with cur/ and tmp/ if missing).

    Args:
        path: the Maildir folder.
    """

    name = "maildir"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        for sub in ("cur", "new", "tmp"):
            (self.path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"MaildirTransport({str(self.path)!r})"

    @staticmethod
    def file_name(key: int) -> str:
        """The Maildir unique name for a key: `<key>.delivery.alumni`."""
        return f"{key}.delivery.alumni"

    def send(self, mails: Iterable[OutgoingMail], on_receipt: Callable[[Receipt], None]) -> None:
        """Write every mail, then report them all `sent` from the calling thread.

        A message already in new/ or, once a mail client has read it, in cur/ is replaced in
        place (cur/ keeps its flags), so resending a key never makes a second copy.

        A mail whose envelope address has a line break, control character or <> gets a
        `permanent` receipt instead.

        Returns:
            When every mail is written and the receipts have been given.

        Raises:
            OSError: when a file cannot be written (disk full, permissions); no receipt of this
                batch is given then, and sending it again is safe.
        """
        new, cur, tmp = self.path / "new", self.path / "cur", self.path / "tmp"
        # Messages a mail client has seen live in cur/ as "<name>:2,<flags>".
        seen = (entry.name for entry in cur.iterdir())
        read = {name.partition(":")[0]: name for name in seen if ":" in name}
        touched_cur = False
        receipts: list[Receipt] = []
        for mail in mails:
            unsafe = next(
                (a for a in (mail.envelope_from, mail.recipient) if _UNSAFE_ADDRESS.search(a)), None
            )
            if unsafe is not None:
                reply = f"address {unsafe!r} has a line break, control character or <>; fix it"
                receipts.append(Receipt(mail.key, Outcome.PERMANENT, None, reply))
                continue
            name = self.file_name(mail.key)
            staged = tmp / f"{name}.{os.getpid()}"
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
            with os.fdopen(os.open(staged, flags, 0o600), "wb") as file:
                # LF line endings on disk, as Postfix and Python's mailbox module store mail.
                file.write(
                    b"Return-Path: <%s>\nDelivered-To: %s\n%s"
                    % (
                        mail.envelope_from.encode(),
                        mail.recipient.encode(),
                        mail.data.replace(b"\r\n", b"\n"),
                    )
                )
            if name in read:
                target = cur / read[name]
                touched_cur = True
            else:
                target = new / name
            staged.replace(target)
            receipts.append(Receipt(mail.key, Outcome.SENT, None, f"written to {target}"))
        if not receipts:
            return
        # One directory fsync per batch (not per file) makes its renames durable without a disk
        # flush per message; receipts wait for it, so "sent" means the file names are on disk.
        _fsync_directory(new)
        if touched_cur:
            _fsync_directory(cur)
        for receipt in receipts:
            on_receipt(receipt)

    def close(self) -> None:
        """Nothing to release: files are closed as they are written."""


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
