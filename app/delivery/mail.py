"""An outbox row as an email, and the two ways it leaves: SMTP, or `.eml` files in a folder.

Headers are built by the standard library's email policy, which refuses a CR or LF in any
header value: the inputs refuse line breaks already (422), this is the last wall.
"""

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import structlog

log = structlog.get_logger("afterview.mail")

SMTP_TIMEOUT_SECONDS = 30.0
_HEADERS = HeaderRegistry()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class DeliveryFailed(Exception):
    """The message did not leave. `permanent`: retrying cannot help (SMTP 5xx, bad address)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Mailbox:
    """A display name and an address, for From, To and Reply-To."""

    name: str | None
    address: str

    @classmethod
    def parse(cls, value: str) -> "Mailbox":
        """`Name <address>` or a bare address; ValueError when there is no address in it."""
        parsed = _HEADERS("From", value)
        header = cast(AddressHeader, parsed)
        if parsed.defects or len(header.addresses) != 1 or not header.addresses[0].domain:
            raise ValueError(f"not one email address: {value!r}")
        (address,) = header.addresses
        return cls(address.display_name or None, address.addr_spec)

    def header(self) -> Address:
        username, _, domain = self.address.rpartition("@")
        return Address(display_name=self.name or "", username=username, domain=domain)


@dataclass(frozen=True)
class Outgoing:
    """Everything a transport needs: the email and its envelope. `key` names the outbox row
    (a resend of the same row overwrites the same `.eml` file)."""

    key: str
    email: EmailMessage
    envelope_from: str
    recipients: tuple[str, ...]


def compose(
    *,
    key: str,
    message_id: str,
    sender: Mailbox,
    to: Mailbox,
    reply_to: Mailbox | None,
    subject: str,
    body: str,
    date: datetime,
) -> Outgoing:
    """The email for one outbox row. Raises DeliveryFailed(permanent) when it cannot be built
    (an address or a header the email policy refuses)."""
    email = EmailMessage(policy=SMTP_POLICY)
    try:
        email["Message-ID"] = message_id
        email["Date"] = format_datetime(date)
        email["From"] = sender.header()
        email["To"] = to.header()
        if reply_to is not None:
            email["Reply-To"] = reply_to.header()
        email["Subject"] = subject
        email.set_content(body)
    except (ValueError, TypeError, IndexError) as exc:
        raise DeliveryFailed(f"cannot build the email: {exc}", permanent=True) from None
    return Outgoing(key, email, sender.address, (to.address,))


class Transport(Protocol):
    """Where emails go. `send` returns when the message was accepted, or raises DeliveryFailed."""

    def describe(self) -> str: ...

    async def send(self, outgoing: Outgoing) -> None: ...

    async def close(self) -> None: ...


class MailboxTransport:
    """No SMTP configured: each email is written as `<mailbox>/<row id>.eml`, atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def describe(self) -> str:
        return f"writing .eml files to {self.directory}"

    async def send(self, outgoing: Outgoing) -> None:
        try:
            await asyncio.to_thread(self._write, outgoing)
        except OSError as exc:
            raise DeliveryFailed(f"cannot write to the mailbox: {exc}", permanent=False) from None

    def _write(self, outgoing: Outgoing) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{outgoing.key}.eml"
        partial = final.with_suffix(".eml.partial")
        partial.write_bytes(outgoing.email.as_bytes())
        os.replace(partial, final)

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    start_tls: bool | None
    """True: STARTTLS or fail; False: never; None: when the server offers it."""
    timeout: float = SMTP_TIMEOUT_SECONDS

    @classmethod
    def from_url(cls, url: str) -> "SmtpConfig":
        """`smtp://user:pass@host:587?starttls=true` or `smtps://user:pass@host:465`."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("expected smtp://user:pass@host:port or smtps://…")
        options = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        start_tls: bool | None = None
        if "starttls" in options:
            if options["starttls"] not in _TRUE | _FALSE:
                raise ValueError("starttls must be true or false")
            start_tls = options["starttls"] in _TRUE
        implicit = parts.scheme == "smtps"
        if implicit and start_tls:
            raise ValueError("smtps:// is TLS from the start; drop starttls=true")
        timeout = float(options.get("timeout", SMTP_TIMEOUT_SECONDS))
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            start_tls=False if implicit else start_tls,
            timeout=timeout,
        )


class SmtpTransport:
    """SMTP through aiosmtplib, reusing a few open connections (one per concurrent send)."""

    def __init__(self, config: SmtpConfig, max_connections: int = 8) -> None:
        self.config = config
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(max_connections)

    def describe(self) -> str:
        scheme = "smtps" if self.config.implicit_tls else "smtp"
        return f"sending through {scheme}://{self.config.host}:{self.config.port}"

    async def send(self, outgoing: Outgoing) -> None:
        async with self._slots:
            client, reused = await self._connection()
            try:
                await self._send_on(client, outgoing)
            except aiosmtplib.SMTPServerDisconnected:
                if not reused:
                    raise _classify_disconnect() from None
                # An idle connection the server closed meanwhile: once more on a fresh one.
                client, _ = await self._connection(fresh=True)
                try:
                    await self._send_on(client, outgoing)
                except aiosmtplib.SMTPServerDisconnected:
                    raise _classify_disconnect() from None
            self._idle.append(client)

    async def _send_on(self, client: aiosmtplib.SMTP, outgoing: Outgoing) -> None:
        try:
            await client.send_message(
                outgoing.email,
                sender=outgoing.envelope_from,
                recipients=list(outgoing.recipients),
            )
        except aiosmtplib.SMTPServerDisconnected:
            raise
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise _failure(exc, connecting=False) from None

    async def _connection(self, fresh: bool = False) -> tuple[aiosmtplib.SMTP, bool]:
        while self._idle and not fresh:
            client = self._idle.pop()
            if client.is_connected:
                return client, True
        cfg = self.config
        client = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            username=cfg.username,
            password=cfg.password,
            use_tls=cfg.implicit_tls,
            start_tls=cfg.start_tls,
            timeout=cfg.timeout,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise _failure(exc, connecting=True) from None
        return client, False

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            await _quit(client)


def _failure(exc: Exception, *, connecting: bool) -> DeliveryFailed:
    """What an aiosmtplib (or socket) error means for the message: permanent only for a 5xx
    answer to the message itself."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return _classify_refusals(exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # The deployment's credentials, not this message: retry once they are fixed.
        return DeliveryFailed(f"SMTP login refused: {exc.code} {exc.message}", permanent=False)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if connecting:  # a greeting or EHLO refusal is about the server, not the message
            return DeliveryFailed(
                f"SMTP server refused the session: {exc.code} {exc.message}", permanent=False
            )
        return DeliveryFailed(
            f"SMTP {exc.code} {exc.message}".strip(), permanent=500 <= exc.code < 600
        )
    cause = "cannot reach the SMTP server" if connecting else "SMTP error"
    return DeliveryFailed(f"{cause}: {type(exc).__name__}: {exc}", permanent=False)


def _classify_refusals(refusals: Sequence[aiosmtplib.SMTPRecipientRefused]) -> DeliveryFailed:
    """Every recipient refused: permanent only when every refusal was a 5xx."""
    reasons = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refusals)
    permanent = bool(refusals) and all(500 <= r.code < 600 for r in refusals)
    return DeliveryFailed(f"SMTP refused the recipient: {reasons}", permanent=permanent)


def _classify_disconnect() -> DeliveryFailed:
    return DeliveryFailed("the SMTP server closed the connection", permanent=False)


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
