"""Message assembly: RFC 5322 / MIME bytes from a per-campaign skeleton, optionally DKIM-signed.

``EmailMessage`` builds about 225 messages/s here; MIME assembly is the wall of the send path.
A :class:`MessageSkeleton` pre-encodes every header that is the same for the whole campaign and
writes the rest directly: quoted-printable bodies by ``binascii.b2a_qp`` (C speed), RFC 2047
encoded-words by a small encoder, boundaries derived from the Message-ID.
``tests/messages/test_mime.py`` checks the output against the ``email`` package's parser.

Every header value is checked, so no data can add a header::

    MessageError (ValueError)          field and value that could not go into a message
    ├── HeaderInjectionError           a CR, LF or NUL in a header value
    ├── InvalidAddressError            not a single plain addr-spec (name@domain)
    └── InvalidHeaderError             a malformed message id, URL, list id, type or filename

Example:
    >>> from datetime import UTC, datetime
    >>> skeleton = MessageSkeleton(
    ...     sender=Sender("alumni@example.edu", "Alumni Office"),
    ...     list_id="class-2010.alumni.example.edu",
    ...     list_name="Class of 2010",
    ... )
    >>> data = skeleton.build(
    ...     to_address="maria@example.org", to_name="Maria Silva", subject="Reunion",
    ...     text="Hello", html="<p>Hello</p>",
    ...     message_id=make_message_id("delivery-1", "alumni.example.edu"),
    ...     date=datetime(2025, 5, 1, 9, 0, tzinfo=UTC),
    ...     unsubscribe_url="https://alumni.example.edu/u/token",
    ...     unsubscribe_mailto="unsubscribe@alumni.example.edu",
    ... )
    >>> data.startswith(b"From: Alumni Office <alumni@example.edu>\\r\\n")
    True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote

__all__ = [
    "DkimKey",
    "HeaderInjectionError",
    "InvalidAddressError",
    "InvalidHeaderError",
    "MessageError",
    "MessageSkeleton",
    "MimePart",
    "PreparedMessage",
    "Sender",
    "make_message_id",
    "parse_verp",
    "verp_address",
]

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_DOT_ATOM = rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*"
_ADDRESS_RE = re.compile(rf"(?P<local>{_DOT_ATOM})@(?P<domain>{_DOMAIN})")
_DOMAIN_RE = re.compile(_DOMAIN)
_MESSAGE_ID_RE = re.compile(rf"{_DOT_ATOM}@{_DOT_ATOM}")
_LIST_ID_RE = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)+")  # RFC 2919: label.namespace
_ATOMS_RE = re.compile(rf"[{_ATEXT}]+(?: [{_ATEXT}]+)*")
_PRINTABLE_RE = re.compile(r"[\x20-\x7e]*")
_INJECTION_RE = re.compile(r"[\r\n\x00]")
# Spaces, tabs and everything a reader may take as a line break; NBSP and the like are kept.
_WHITESPACE_RE = re.compile(r"[\t\n\x0b\x0c\r \x1c-\x1f\x85\u2028\u2029]+")
# RFC 3986 characters; anything else (spaces, quotes, <>, non-ASCII) must be percent-encoded.
_URL_RE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_LOCAL_HTTP_RE = re.compile(r"http://(?:localhost|127\.0\.0\.1|\[::1\])(?:[:/?#]|$)")
_MIME_NAME = r"[!#$%&'*+\-.^_`|~A-Za-z0-9]+"
_MIME_TYPE_RE = re.compile(rf"{_MIME_NAME}/{_MIME_NAME}")
_VERP_TOKEN_RE = re.compile(r"[A-Za-z0-9-]+")
_SELECTOR_RE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# RFC 2047: encoded-word at most 75 characters, lines holding them at most 76.
_EW_PREFIX = "=?utf-8?b?"
_EW_MAX = 75
_LINE_MAX = 76
_FOLD = "\r\n "

_QP_UTF8 = b"; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
_TEXT_HEAD = b"Content-Type: text/plain" + _QP_UTF8
_HTML_HEAD = b"Content-Type: text/html" + _QP_UTF8


class MessageError(ValueError):
    """A value that cannot go into a message; ``field`` names it, ``value`` holds it."""

    def __init__(self, message: str, *, field: str, value: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class HeaderInjectionError(MessageError):
    """A header value holds CR, LF or NUL, which could end the header and forge another."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(
            f"{field} {_shown(value)} contains a line break or NUL character, which could forge "
            f"extra mail headers: correct the {field} where it comes from and send again",
            field=field,
            value=value,
        )


class InvalidAddressError(MessageError):
    """An email address is not one plain ``name@domain`` addr-spec."""

    def __init__(self, field: str, address: str, reason: str) -> None:
        super().__init__(
            f"{field} {_shown(address)} is not a usable email address ({reason}): "
            "correct it in the contact record",
            field=field,
            value=address,
        )


class InvalidHeaderError(MessageError):
    """A message id, URL, list id, content type or filename is malformed."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(
            f"{field} {_shown(value)} is not usable: {reason}", field=field, value=value
        )


def _shown(value: str) -> str:
    return repr(value if len(value) <= 120 else value[:117] + "...")


def _check_injection(field: str, value: str) -> None:
    if _INJECTION_RE.search(value) is not None:
        raise HeaderInjectionError(field, value)


def _check_address(field: str, address: str) -> str:
    _check_injection(field, address)
    if not address.isascii():
        raise InvalidAddressError(
            field, address, "non-ASCII addresses need SMTPUTF8; store the domain in xn-- form"
        )
    match = _ADDRESS_RE.fullmatch(address) if len(address) <= 254 else None
    if match is None:
        raise InvalidAddressError(
            field,
            address,
            "expected one name@domain of at most 254 characters, "
            "with no spaces, commas, quotes or <>",
        )
    if len(match["local"]) > 64:
        raise InvalidAddressError(field, address, "the part before @ is over 64 characters")
    return address


def _check_domain(field: str, domain: str) -> str:
    _check_injection(field, domain)
    if _DOMAIN_RE.fullmatch(domain) is None or len(domain) > 253:
        raise InvalidHeaderError(field, domain, "expected a domain name like alumni.example.edu")
    return domain


@dataclass(frozen=True)
class Sender:
    """Who a campaign's messages are from, validated once.

    ``name`` is the display name (may be empty); its whitespace runs become one space.

    Raises:
        HeaderInjectionError: the address or name holds CR, LF or NUL.
        InvalidAddressError: the address is not one plain ``name@domain``.
    """

    address: str
    name: str

    def __post_init__(self) -> None:
        _check_address("sender.address", self.address)
        _check_injection("sender.name", self.name)


@dataclass(frozen=True)
class DkimKey:
    """A DKIM signing key: ``selector._domainkey.domain`` publishes its public half.

    ``private_key_pem`` is an unencrypted RSA private key in PEM (PKCS#1 or PKCS#8), 2048 bits
    recommended; :class:`MessageSkeleton` reads it once and refuses it there if unusable.
    ``repr`` never shows it.
    """

    selector: str
    domain: str
    private_key_pem: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_injection("dkim.selector", self.selector)
        if _SELECTOR_RE.fullmatch(self.selector) is None:
            raise InvalidHeaderError(
                "dkim.selector", self.selector, "use letters, digits, '-', '_' and dots"
            )
        _check_domain("dkim.domain", self.domain)


@dataclass(frozen=True)
class MimePart:
    """An extra alternative (e.g. ``text/calendar; method=REQUEST``) or an attachment.

    ``str`` data is sent as UTF-8 (``charset=utf-8`` is added to text types that name none);
    alternatives given as ``str`` are quoted-printable, everything else base64.
    """

    content_type: str
    data: bytes | str
    filename: str | None = None


def _encoded_words(text: str, first_room: int) -> list[str]:
    """Split ``text`` into RFC 2047 ``b`` encoded-words, never cutting a UTF-8 character."""
    data = text.encode("utf-8")
    words: list[str] = []
    room = first_room
    start = 0
    end_of_data = len(data)
    while start < end_of_data:
        capacity = max((room - len(_EW_PREFIX) - 2) // 4 * 3, 6)
        end = min(start + capacity, end_of_data)
        while end < end_of_data and data[end] & 0xC0 == 0x80:
            end -= 1
        chunk = binascii.b2a_base64(data[start:end], newline=False).decode("ascii")
        words.append(f"{_EW_PREFIX}{chunk}?=")
        start = end
        room = _EW_MAX
    return words


def _collapse(text: str) -> str:
    return _WHITESPACE_RE.sub(" ", text).strip(" ")


def _phrase(name: str, used: int) -> str:
    """Return ``name`` as an RFC 5322 phrase: atoms, a quoted string or encoded-words.

    ``name`` has its whitespace collapsed already; ``used`` is how many characters of the
    first line are taken.
    """
    if (
        len(name) <= 64
        and _PRINTABLE_RE.fullmatch(name) is not None
        and "=?" not in name  # would be decoded as an encoded-word by readers
    ):
        if _ATOMS_RE.fullmatch(name) is not None:
            return name
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _FOLD.join(_encoded_words(name, _LINE_MAX - used))


def _address_field(header: str, name: str, address: str) -> str:
    name = _collapse(name)
    if not name:
        return f"{header}: {address}\r\n"
    phrase = _phrase(name, len(header) + 2)
    fold = phrase.rfind("\n")
    last_line = len(phrase) - fold - 1 if fold >= 0 else len(header) + 2 + len(phrase)
    separator = " " if last_line + len(address) + 3 <= 78 else _FOLD
    return f"{header}: {phrase}{separator}<{address}>\r\n"


def _subject_field(subject: str) -> str:
    if "\x00" in subject:
        raise HeaderInjectionError("subject", subject)
    text = _collapse(subject)
    if len(text) <= 69 and _PRINTABLE_RE.fullmatch(text) is not None and "=?" not in text:
        return f"Subject: {text}\r\n"
    if _PRINTABLE_RE.fullmatch(text) is not None and "=?" not in text:
        words = text.split(" ")
        if max(map(len, words)) <= 900:
            lines: list[str] = []
            line = "Subject:"
            for word in words:
                if len(line) + 1 + len(word) > 78 and line != "Subject:":
                    lines.append(line)
                    line = ""
                line = f"{line} {word}"
            lines.append(line)
            return "\r\n".join(lines) + "\r\n"
    return "Subject: " + _FOLD.join(_encoded_words(text, _LINE_MAX - 9)) + "\r\n"


def _rfc5322_date(date: datetime) -> str:
    offset = date.utcoffset()
    if offset is None:
        raise ValueError(f"date {date.isoformat()} has no time zone: pass an aware datetime")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return (
        f"{_DAYS[date.weekday()]}, {date.day:02d} {_MONTHS[date.month - 1]} {date.year:04d} "
        f"{date.hour:02d}:{date.minute:02d}:{date.second:02d} {sign}{hours:02d}{minutes:02d}"
    )


def _message_id(value: str) -> str:
    _check_injection("message_id", value)
    bare = value[1:-1] if value.startswith("<") and value.endswith(">") else value
    if _MESSAGE_ID_RE.fullmatch(bare) is None or len(bare) > 250:
        raise InvalidHeaderError(
            "message_id", value, "expected <unique-part@domain>, as make_message_id returns"
        )
    return bare


def _https_url(field: str, url: str) -> str:
    _check_injection(field, url)
    if _URL_RE.fullmatch(url) is None or len(url) > 900:
        raise InvalidHeaderError(
            field, url, "expected a URL of at most 900 characters with non-ASCII percent-encoded"
        )
    if not (url.startswith("https://") or _LOCAL_HTTP_RE.match(url)):
        raise InvalidHeaderError(
            field, url, "one-click unsubscribe (RFC 8058) needs an https:// URL"
        )
    return url


def _mailto_url(field: str, value: str) -> str:
    _check_injection(field, value)
    if not value.startswith("mailto:"):
        return "mailto:" + _check_address(field, value)
    address, _, query = value[7:].partition("?")
    _check_address(field, address)
    if query and (_URL_RE.fullmatch(query) is None or len(value) > 900):
        raise InvalidHeaderError(field, value, "percent-encode the mailto query")
    return value


def _quoted_printable(text: str) -> bytes:
    """Return ``text`` as UTF-8 quoted-printable with CRLF lines of at most 76 characters."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Line by line, each as it is encoded within the whole text: most lines of a campaign's
    # messages are the same for everyone, and encoding is costly.
    lines = text.split("\n")
    last = lines.pop()
    encoded = b"\r\n".join(map(_QP_LINES.__getitem__, lines)) + b"\r\n" if lines else b""
    return encoded + _qp_last_line(last) if last else encoded


class _LineCache(dict[str, bytes]):
    """Encoded lines by line: a hit is one dict lookup (this runs for every line of every
    message); a miss encodes the line. Emptied when it grows past ``limit``."""

    limit = 8192

    def __missing__(self, line: str) -> bytes:
        if len(self) >= self.limit:
            self.clear()
        # the line followed by a newline, encoded without that newline; soft breaks CRLF
        encoded = binascii.b2a_qp(f"{line}\n".encode(), istext=True).removesuffix(b"\n")
        self[line] = encoded = _qp_finish(encoded)
        return encoded


_QP_LINES = _LineCache()


def _qp_last_line(line: str) -> bytes:
    """The end of a text that has no newline after it."""
    return _qp_finish(binascii.b2a_qp(line.encode("utf-8"), istext=True))


def _qp_finish(encoded: bytes) -> bytes:
    if encoded.startswith(b"From ") or b"\nFrom " in encoded:
        encoded = _escape_from_lines(encoded)
    return encoded.replace(b"\n", b"\r\n")


def _escape_from_lines(encoded: bytes) -> bytes:
    # mbox writers turn "From " at a line start into ">From "; "=46" survives them (and DKIM).
    lines = encoded.split(b"\n")
    for index, line in enumerate(lines):
        if not line.startswith(b"From "):
            continue
        line = b"=46" + line[1:]
        if len(line) > _LINE_MAX:
            cut = next(
                cut
                for cut in range(_LINE_MAX - 3, 3, -1)
                if b"=" not in line[cut - 2 : cut] and line[cut:] != b"."
            )
            line = line[:cut] + b"=\n" + line[cut:]
        lines[index] = line
    return b"\n".join(lines)


def _base64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


@lru_cache(maxsize=32)
def _encoded_part(part: MimePart, disposition: str) -> bytes:
    """Return one body part (headers and encoded body, no boundary) for ``disposition``."""
    _check_injection("content_type", part.content_type)
    main, _, params = part.content_type.partition(";")
    main = main.strip().lower()
    if _MIME_TYPE_RE.fullmatch(main) is None or _PRINTABLE_RE.fullmatch(params) is None:
        raise InvalidHeaderError(
            "content_type", part.content_type, "expected type/subtype[; name=value ...]"
        )
    content_type = main + (f"; {params.strip()}" if params.strip() else "")
    data = part.data
    if isinstance(data, str):
        if main.startswith("text/") and "charset=" not in params.lower():
            content_type += "; charset=utf-8"
        body = data.encode("utf-8")
    else:
        body = data
    head = [f"Content-Type: {content_type}"]
    if isinstance(data, str) and disposition == "inline":
        head.append("Content-Transfer-Encoding: quoted-printable")
        encoded = _quoted_printable(data)
    else:
        head.append("Content-Transfer-Encoding: base64")
        encoded = _base64_lines(body)
    if part.filename is not None:
        head.append(f"Content-Disposition: {disposition};{_FOLD}{_filename_param(part.filename)}")
    elif disposition == "attachment":
        head.append("Content-Disposition: attachment")
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + encoded


def _filename_param(filename: str) -> str:
    _check_injection("filename", filename)
    if not filename or len(filename) > 255:
        raise InvalidHeaderError("filename", filename, "give a name of 1 to 255 characters")
    if (
        len(filename) <= 60
        and _PRINTABLE_RE.fullmatch(filename) is not None
        and not set(filename) & set('"\\')
    ):
        return f'filename="{filename}"'
    # RFC 2231 extended parameter in continuations, so no line passes 76 characters.
    encoded = quote(filename, safe="")
    pieces = []
    start = 0
    while start < len(encoded):
        end = min(start + 54, len(encoded))
        escape = encoded.rfind("%", end - 2, end) if end < len(encoded) else -1
        end = escape if escape > start else end
        pieces.append(encoded[start:end])
        start = end
    if len(pieces) == 1:
        return f"filename*=utf-8''{encoded}"
    pieces[0] = "utf-8''" + pieces[0]
    return (";" + _FOLD).join(f"filename*{index}*={piece}" for index, piece in enumerate(pieces))


def _boundaries(message_id: str) -> tuple[bytes, bytes]:
    # "=_" never occurs in quoted-printable or base64 output, so no body can hold a boundary.
    digest = hashlib.blake2b(message_id.encode("ascii"), digest_size=12).hexdigest()
    return f"=_a{digest}".encode("ascii"), f"=_m{digest}".encode("ascii")


class MessageSkeleton:
    """Everything about a campaign's messages that does not change per recipient.

    Build one per campaign, then call :meth:`build` for each recipient (or :meth:`prepare`
    ahead of sending and :meth:`finish` when the message goes). Constant headers (From,
    Reply-To, List-Id, List-Unsubscribe-Post, MIME-Version) are encoded once here.

    Args:
        sender: the From address and display name.
        list_id: the RFC 2919 list identifier, e.g. ``class-2010.alumni.example.edu``.
        list_name: a human description of the list, shown by some mail clients.
        reply_to: where replies go, when not to the sender.
        dkim: sign each message with this key (needs the ``dkimpy`` package). dkimpy does
            RSA in pure Python, about 10 ms a message here: signing at the MTA is far faster.

    Raises:
        MessageError: a constant value is malformed; the error names it.
    """

    def __init__(
        self,
        *,
        sender: Sender,
        list_id: str,
        list_name: str,
        reply_to: str | None = None,
        dkim: DkimKey | None = None,
    ) -> None:
        _check_injection("list_name", list_name)
        _check_injection("list_id", list_id)
        bare_list_id = (
            list_id[1:-1] if list_id.startswith("<") and list_id.endswith(">") else list_id
        )
        if _LIST_ID_RE.fullmatch(bare_list_id) is None or len(bare_list_id) > 255:
            raise InvalidHeaderError(
                "list_id", list_id, "expected a dotted name like class-2010.alumni.example.edu"
            )
        self.sender = sender
        self.reply_to = reply_to
        self.list_id = bare_list_id
        self._from = _address_field("From", sender.name, sender.address)
        constant = []
        if reply_to is not None:
            constant.append(f"Reply-To: {_check_address('reply_to', reply_to)}\r\n")
        if list_name:
            constant.append(_address_field("List-Id", list_name, bare_list_id))
        else:
            constant.append(f"List-Id: <{bare_list_id}>\r\n")
        constant.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
        constant.append("MIME-Version: 1.0\r\n")
        self._constant = "".join(constant)
        self._sign: Callable[[bytes], bytes] | None = None
        self._dkim_record: str | None = None  # where the public key is published
        if dkim is not None:
            self._sign = _dkim_signer(dkim, with_reply_to=reply_to is not None)
            self._dkim_record = f"{dkim.selector}._domainkey.{dkim.domain}"

    def __repr__(self) -> str:
        # The DKIM key is shown by the DNS name of its public half, never by its private half.
        return (
            f"MessageSkeleton(sender={self.sender.address!r}, list_id={self.list_id!r}, "
            f"dkim={self._dkim_record!r})"
        )

    def build(
        self,
        *,
        to_address: str,
        to_name: str,
        subject: str,
        text: str,
        html: str,
        message_id: str,
        date: datetime,
        unsubscribe_url: str,
        unsubscribe_mailto: str,
        extra_alternatives: Sequence[MimePart] = (),
        attachments: Sequence[MimePart] = (),
    ) -> bytes:
        """Return one complete message, CRLF line endings, 7-bit clean, ready for SMTP.

        The same as ``finish(prepare(...), date)``.

        Args:
            to_address: the recipient's address (a plain ``name@domain``).
            to_name: the recipient's display name, may be empty; whitespace runs become one
                space.
            subject: the subject; runs of whitespace (line breaks too) become one space.
            text: the plain-text body.
            html: the HTML body.
            message_id: ``unique@domain``, with or without angle brackets; fixed per delivery
                (see :func:`make_message_id`) so a resend can be recognised.
            date: when the message is sent, timezone-aware.
            unsubscribe_url: the one-click (RFC 8058) https URL.
            unsubscribe_mailto: an address or ``mailto:`` URL for unsubscribing by mail.
            extra_alternatives: parts after the HTML, e.g. ``text/calendar; method=REQUEST``.
            attachments: parts attached beside the alternatives (multipart/mixed).

        Raises:
            HeaderInjectionError: a header value holds CR, LF or NUL.
            InvalidAddressError: ``to_address`` or the mailto address is not one plain address.
            InvalidHeaderError: the message id, a URL, a content type or a filename is malformed.
            ValueError: ``date`` is naive.
        """
        prepared = self.prepare(
            to_address=to_address,
            to_name=to_name,
            subject=subject,
            text=text,
            html=html,
            message_id=message_id,
            unsubscribe_url=unsubscribe_url,
            unsubscribe_mailto=unsubscribe_mailto,
            extra_alternatives=extra_alternatives,
            attachments=attachments,
        )
        return self.finish(prepared, date)

    def prepare(
        self,
        *,
        to_address: str,
        to_name: str,
        subject: str,
        text: str,
        html: str,
        message_id: str,
        unsubscribe_url: str,
        unsubscribe_mailto: str,
        extra_alternatives: Sequence[MimePart] = (),
        attachments: Sequence[MimePart] = (),
    ) -> PreparedMessage:
        """Return one message without its Date and signature: everything that does not
        depend on when it is sent (the arguments and errors of :meth:`build`). A preflight
        prepares ahead; :meth:`finish` dates (and signs) it when it goes."""
        _check_address("to_address", to_address)
        _check_injection("to_name", to_name)
        bare_id = _message_id(message_id)
        url = _https_url("unsubscribe_url", unsubscribe_url)
        mailto = _mailto_url("unsubscribe_mailto", unsubscribe_mailto)
        alternative, mixed = _boundaries(bare_id)

        unsubscribe = f"List-Unsubscribe: <{url}>, <{mailto}>\r\n"
        if len(unsubscribe) > 80:
            unsubscribe = f"List-Unsubscribe: <{url}>,{_FOLD}<{mailto}>\r\n"
        top_type = "mixed" if attachments else "alternative"
        top_boundary = mixed if attachments else alternative
        before_date = (
            self._from + _address_field("To", to_name, to_address) + _subject_field(subject)
        )
        head = "".join(
            (
                f"Message-ID: <{bare_id}>\r\n",
                unsubscribe,
                self._constant,
                f'Content-Type: multipart/{top_type}; boundary="{top_boundary.decode()}"\r\n',
            )
        )
        body = [
            head.encode("ascii"),
            b"\r\n",  # the blank line after the header
            b"--",
            alternative,
            b"\r\n",
            _TEXT_HEAD,
            _quoted_printable(text),
            b"\r\n--",
            alternative,
            b"\r\n",
            _HTML_HEAD,
            _quoted_printable(html),
        ]
        for part in extra_alternatives:
            body += (b"\r\n--", alternative, b"\r\n", _encoded_part(part, "inline"))
        body += (b"\r\n--", alternative, b"--\r\n")
        if attachments:
            nested = b'Content-Type: multipart/alternative; boundary="%s"\r\n\r\n' % alternative
            body[2:2] = (b"--", mixed, b"\r\n", nested)
            for part in attachments:
                body += (b"\r\n--", mixed, b"\r\n", _encoded_part(part, "attachment"))
            body += (b"\r\n--", mixed, b"--\r\n")
        return PreparedMessage(before_date.encode("ascii"), b"".join(body))

    def finish(self, prepared: PreparedMessage, date: datetime) -> bytes:
        """Return the complete message: ``prepared`` with its Date, DKIM-signed when the
        skeleton has a key.

        Raises:
            ValueError: ``date`` is naive.
        """
        dated = f"Date: {_rfc5322_date(date)}\r\n".encode("ascii")
        message = b"".join((prepared.before_date, dated, prepared.after_date))
        return message if self._sign is None else self._sign(message)


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """A message but for its Date header (and DKIM signature): the header lines before the
    Date, and the header lines after it with the blank line and the body."""

    before_date: bytes
    after_date: bytes


_SIGNED_FIELDS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
)


def _dkim_signer(key: DkimKey, *, with_reply_to: bool) -> Callable[[bytes], bytes]:
    try:
        import dkim
        from dkim.crypto import UnparsableKeyError, parse_pem_private_key
    except ImportError as exc:  # pragma: no cover - dkimpy is a declared dependency
        raise RuntimeError("DKIM signing needs the dkimpy package: pip install dkimpy") from exc
    pem = key.private_key_pem.replace(b"\r\n", b"\n")
    where = f"{key.selector}._domainkey.{key.domain}"
    try:
        bits = parse_pem_private_key(pem)["modulus"].bit_length()
    except (UnparsableKeyError, ValueError) as exc:
        raise ValueError(
            f"the DKIM key for {where} cannot be read ({exc}): "
            "give an unencrypted RSA private key in PEM (PKCS#1 or PKCS#8)"
        ) from exc
    if bits < 1024:
        raise ValueError(
            f"the DKIM key for {where} has {bits} bits; receivers ignore keys under 1024: "
            "make a 2048-bit key"
        )
    fields = (*_SIGNED_FIELDS, "reply-to") if with_reply_to else _SIGNED_FIELDS
    # Each field named twice: the second, absent instance stops anyone adding one later.
    include = [name.encode("ascii") for name in fields * 2]
    selector = key.selector.encode("ascii")
    domain = key.domain.encode("ascii")

    def sign(message: bytes) -> bytes:
        signature: bytes = dkim.sign(
            message,
            selector,
            domain,
            pem,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=include,
        )
        return signature + message

    return sign


def make_message_id(delivery_key: str, domain: str, *, key: bytes | None = None) -> str:
    """Return the Message-ID, ``<...@domain>``, that one delivery always gets.

    Args:
        delivery_key: what identifies the delivery for good, e.g. its row id.
        domain: the sending domain.
        key: the signing key, so that nobody can work out the Message-ID of a message they
            did not receive (a report that quotes one is then ours); None: an unkeyed hash.
    """
    return message_id_maker(domain, key=key)(delivery_key)


def message_id_maker(domain: str, *, key: bytes | None = None) -> Callable[[str], str]:
    """``make_message_id`` for many deliveries of one domain and key: the domain is checked
    and the hash's state prepared once (a plan makes one for every alum of a class)."""
    _check_domain("domain", domain)
    prefix = f"{domain}\x00".encode()
    start: hmac.HMAC | hashlib._Hash = (
        hashlib.sha256(prefix)
        if key is None
        else hmac.new(key, b"alumni-message-id-v1|" + prefix, hashlib.sha256)
    )
    tail = f"@{domain}>"

    def make(delivery_key: str) -> str:
        if not delivery_key:
            raise ValueError("make_message_id needs a non-empty delivery key")
        digest = start.copy()
        digest.update(delivery_key.encode())
        return f"<{base64.b32encode(digest.digest()[:15]).decode('ascii').lower()}{tail}"

    return make


def verp_address(bounce_local: str, domain: str, token: str) -> str:
    """Return the envelope sender ``bounce_local+token@domain`` that brings a bounce back.

    Use a lower-case token: some servers lower-case the local part of bounce addresses.

    Raises:
        InvalidHeaderError: the token holds anything but letters, digits and '-'.
        InvalidAddressError: the address made is not valid.
    """
    if _VERP_TOKEN_RE.fullmatch(token) is None:
        raise InvalidHeaderError("verp token", token, "use only letters, digits and '-'")
    if "+" in bounce_local:
        raise InvalidAddressError("bounce_local", bounce_local, "it must not contain '+'")
    return _check_address("bounce address", f"{bounce_local}+{token}@{domain}")


def parse_verp(address: str, bounce_local: str, domain: str) -> str | None:
    """Return the token of a VERP address made by :func:`verp_address`, or None if not one."""
    address = address.strip()
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1]
    local, at, found_domain = address.rpartition("@")
    if not at or found_domain.lower() != domain.lower():
        return None
    base, plus, token = local.partition("+")
    if not plus or base.lower() != bounce_local.lower():
        return None
    return token if _VERP_TOKEN_RE.fullmatch(token) else None
