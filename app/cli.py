"""`afterview`: serve the API, migrate the database, manage agencies and users, import records,
export OpenAPI.

Only light modules are imported here: `main()` installs the signal handlers first, and the heavy
ones (the database, the app, uvicorn) load inside the commands that need them.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import UUID

import typer
from rich.console import Console
from rich.text import Text

from app.core.exceptions import causes
from app.demo.cli import demo_cli

if TYPE_CHECKING:
    from app.core.provision import DatabaseUrls
    from app.core.settings import Settings
    from app.imports.csv_file import Row
    from app.imports.service import Report

cli = typer.Typer(help="Afterview: the post-interview workflow API.", no_args_is_help=True)
agency_cli = typer.Typer(help="Manage agencies (tenants). No HTTP route creates agencies.")
cli.add_typer(agency_cli, name="agency")
user_cli = typer.Typer(help="Manage an agency's users from the host (no login needed).")
cli.add_typer(user_cli, name="user")
import_cli = typer.Typer(help="Import records from CSV files, idempotent by external_id.")
cli.add_typer(import_cli, name="import")
cli.add_typer(demo_cli, name="demo")
console = Console(stderr=True)
T = TypeVar("T")

DEMO_EMAIL = "admin@demo-agency.example.com"


def fail(message: str) -> typer.Exit:
    """Print one plain line (never wrapped, never read as markup) and exit 1."""
    console.print(Text.assemble(("afterview:", "bold red"), " ", message), soft_wrap=True)
    return typer.Exit(code=1)


def say(line: str) -> None:
    """One plain line on stderr (never wrapped, never read as markup)."""
    console.print(Text(line), soft_wrap=True)


def _print_version(asked: bool) -> None:
    if asked:
        try:
            installed = version("afterview")
        except PackageNotFoundError:
            installed = "(not installed)"
        print(f"afterview {installed}")
        raise typer.Exit


@cli.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    pass


class Signals:
    """SIGTERM and SIGINT from the first instant of `main()`: each raises `SystemExit(128 + n)`,
    so the `finally` blocks on the way out run (and stop an embedded server).

    A handler runs between any two bytecodes, also inside a finalizer or a weakref callback,
    where Python swallows the exception (and would print it). So once a signal has come, it is
    sent again every half second until the process is on its way out of `main()`."""

    HANDLED = (signal.SIGTERM, signal.SIGINT)
    RESEND_SECONDS = 0.5

    def __init__(self) -> None:
        self.received: int | None = None
        self.installed = False
        self._held = 0
        self._leaving = threading.Event()
        self._print_unraisable = sys.unraisablehook

    def install(self) -> None:
        self.installed = True
        for signum in self.HANDLED:
            signal.signal(signum, self._handle)
        if sys.unraisablehook is not self._unraisable:
            self._print_unraisable = sys.unraisablehook
            sys.unraisablehook = self._unraisable

    def _unraisable(self, unraisable: Any) -> None:
        """Our SystemExit, swallowed where it landed, is no error: it is sent again."""
        if not (isinstance(unraisable.exc_value, SystemExit) and self.received is not None):
            self._print_unraisable(unraisable)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
            threading.Thread(target=self._resend, name="afterview-signals", daemon=True).start()
        if not self._held and not self._leaving.is_set():
            raise SystemExit(128 + signum)

    def _resend(self) -> None:
        while not self._leaving.wait(self.RESEND_SECONDS):
            assert self.received is not None
            # Only to a handler: asyncio resets SIGTERM to the default (death) when its loop
            # closes, and the commands put ours back right after.
            if signal.getsignal(self.received) not in (signal.SIG_DFL, signal.SIG_IGN, None):
                os.kill(os.getpid(), self.received)

    @contextmanager
    def held(self) -> Iterator[None]:
        """A step a signal must not cut in two (starting or stopping a database server): a
        signal that comes meanwhile is acted on by `check()` after it."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1

    def check(self) -> None:
        """Exit now if a signal came (while held, or swallowed where it landed)."""
        if self.received is not None and not self._held and not self._leaving.is_set():
            raise SystemExit(128 + self.received)

    def exit_if_caused(self, error: BaseException) -> None:
        """Exit as the signal asks if `error` wraps the exit its handler raised: Python wraps
        what some places raise (3.11 a descriptor's `__set_name__` while a class is made, in
        a RuntimeError), and the signal may land there."""
        if self.received is None:
            return
        ours = 128 + self.received
        if any(isinstance(c, SystemExit) and c.code == ours for c in causes(error)):
            raise SystemExit(ours) from None

    def leaving(self) -> None:
        """On the way out: further signals change nothing."""
        self._leaving.set()


SIGNALS = Signals()


@contextmanager
def database(settings: Settings) -> Iterator[DatabaseUrls]:
    """The database to use: `DATABASE_URL` (and `DATABASE_OWNER_URL`), or the embedded server,
    started (or joined, if another afterview process runs it) and migrated."""
    from app.core.provision import (
        DatabaseUrls,
        EmbeddedPostgres,
        EmbeddedUnavailable,
        migrate,
        role_of,
    )

    if not settings.embedded:
        assert settings.database_url is not None
        yield DatabaseUrls(owner=settings.database_owner_url or "", runtime=settings.database_url)
        return
    try:
        server = EmbeddedPostgres(settings.data_dir)
    except EmbeddedUnavailable as exc:
        raise fail(str(exc)) from None
    console.print(f"Embedded PostgreSQL, data in [bold]{server.pgdata}[/]")
    try:
        with SIGNALS.held():
            server.start()
        SIGNALS.check()
        urls = server.urls()
        migrate(urls.owner, role_of(urls.runtime))
        yield urls
    finally:
        with SIGNALS.held():
            server.stop()


def load_settings() -> Settings:
    """The settings, or one plain line naming what is wrong with them."""
    from pydantic import ValidationError

    from app.core.settings import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(f"{_env_name(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise fail(f"bad setting: {problems}") from None


def _env_name(loc: tuple[int | str, ...]) -> str:
    name = str(loc[0]).upper() if loc else "?"
    return name if name.startswith(("DATABASE_", "AFTERVIEW_")) else f"AFTERVIEW_{name}"


def jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret:
        return settings.jwt_secret.get_secret_value()
    if settings.embedded:
        from app.core.provision import data_dir_secret

        return data_dir_secret(settings.data_dir, "jwt_secret")
    raise fail("set AFTERVIEW_JWT_SECRET (a long random string) to sign access tokens")


def preflight(runtime_url: str) -> None:
    from app.core.provision import (
        SchemaNotCurrent,
        UnsafeRuntimeRole,
        check_runtime_role,
        check_schema_current,
    )

    try:
        check_runtime_role(runtime_url)
        check_schema_current(runtime_url)
    except (UnsafeRuntimeRole, SchemaNotCurrent) as exc:
        raise fail(f"refusing to start: {exc}") from None


def public_url_of(settings: Settings, host: str, port: int) -> str:
    """AFTERVIEW_PUBLIC_URL, or the address `serve` listens on (the base of emailed links)."""
    if settings.public_url:
        return settings.public_url
    shown = socket.getfqdn() if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def check_mail(settings: Settings) -> str:
    """Where mail will go, or exit with a one-line reason."""
    from app.delivery.mail_settings import MailNotConfigured, check_mail_settings

    try:
        return check_mail_settings(settings)
    except MailNotConfigured as exc:
        raise fail(f"refusing to start the worker: {exc}") from None


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API processes, each with its own pool.")
    ] = 1,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Also send mail and run the schedule in this process (default: on with the "
            "embedded database, off with DATABASE_URL, where `afterview worker` runs apart).",
        ),
    ] = None,
) -> None:
    """Start the API. With no DATABASE_URL: embedded PostgreSQL, migrated, with a demo agency."""
    from app.core.logging import configure_logging
    from app.core.metrics import metrics_for_workers

    settings = load_settings()
    configure_logging(json_lines=settings.log_json)
    settings = settings.model_copy(update={"public_url": public_url_of(settings, host, port)})
    settings = _development_webhooks(settings)
    with_worker = settings.embedded if worker is None else worker
    if with_worker:
        mail = check_mail(settings)
    # uvicorn handles SIGTERM while it runs, then puts `SIGNALS`' handler back and re-raises
    # it: SystemExit, so the embedded server is stopped on the way out.
    try:
        with database(settings) as urls:
            preflight(urls.runtime)
            secret = jwt_secret(settings)
            if settings.embedded:
                asyncio.run(_seed_demo(urls.runtime, settings, secret, host, port))
            console.print(f"Afterview on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
            if with_worker:
                say(f"Mail: {mail}; links point at {settings.public_url}")
            SIGNALS.check()
            try:
                with metrics_for_workers(workers):
                    run_uvicorn(settings, urls.runtime, secret, host, port, workers, with_worker)
            finally:
                console.print("Afterview stopped.")
    except KeyboardInterrupt:
        pass


def run_uvicorn(
    settings: Settings,
    runtime_url: str,
    secret: str,
    host: str,
    port: int,
    workers: int,
    with_worker: bool,
) -> None:
    import uvicorn

    from app.delivery.mail_settings import mailbox_dir
    from app.main import create_app

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        "log_level": "warning",
        "log_config": None,  # uvicorn's own lines go through ours (JSON when not a terminal)
    }
    if workers == 1:
        # The copy names the database, so it no longer looks embedded: fix its mailbox now.
        pinned = {"database_url": runtime_url, "mailbox_dir": mailbox_dir(settings)}
        app = create_app(
            settings.model_copy(update=pinned),
            jwt_secret=secret,
            run_worker=with_worker,
        )
        uvicorn.run(app, **options)
        return
    # Worker processes build their own app from the environment.
    os.environ["DATABASE_URL"] = runtime_url
    os.environ["AFTERVIEW_JWT_SECRET"] = secret
    os.environ["AFTERVIEW_PUBLIC_URL"] = settings.public_url or ""
    os.environ["AFTERVIEW_RUN_WORKER"] = "true" if with_worker else "false"
    if settings.embedded and (mailbox := mailbox_dir(settings)) is not None:
        os.environ["AFTERVIEW_MAILBOX_DIR"] = str(mailbox)
    uvicorn.run("app.main:create_app_from_env", factory=True, workers=workers, **options)


async def _seed_demo(
    runtime_url: str, settings: Settings, secret: str, host: str, port: int
) -> None:
    """On the first start of an empty embedded database: the demo agency, and how to log in."""
    from app.demo.cli import show_login
    from app.demo.service import first_start

    login = await first_start(runtime_url, settings, secret)
    if login is not None:
        show_login(login, "Demo agency created.", f"http://{host}:{port}/docs")


def _development_webhooks(settings: Settings) -> Settings:
    """The embedded database is for trying Afterview on one machine: webhooks may go to a
    receiver on this machine (plain http, loopback) unless AFTERVIEW_WEBHOOKS_ALLOW_PRIVATE
    says otherwise. Worker processes read the same from the environment."""
    if not settings.embedded or "AFTERVIEW_WEBHOOKS_ALLOW_PRIVATE" in os.environ:
        return settings
    os.environ["AFTERVIEW_WEBHOOKS_ALLOW_PRIVATE"] = "true"
    return settings.model_copy(update={"webhooks_allow_private": True})


@cli.command("worker")
def worker_command() -> None:
    """Send mail and run the schedule (chases, link expiry, digests, sweeps) until SIGTERM.
    Any number may run side by side; each due item is handled once."""
    from app.core.logging import configure_logging

    settings = load_settings()
    configure_logging(json_lines=settings.log_json)
    if not settings.public_url and not settings.embedded:
        raise fail("refusing to start the worker: set AFTERVIEW_PUBLIC_URL (the base of links)")
    public_url = settings.public_url or public_url_of(settings, "127.0.0.1", 8000)
    mail = check_mail(settings)
    try:
        with database(settings) as urls:
            preflight(urls.runtime)
            secret = jwt_secret(settings)
            say(f"Afterview worker: mail {mail}; links point at {public_url}")
            SIGNALS.check()
            try:
                asyncio.run(_work_until_signalled(settings, urls.runtime, secret, public_url))
            finally:
                if SIGNALS.installed:  # asyncio reset SIGTERM to the default as its loop closed
                    SIGNALS.install()
            console.print("Afterview worker stopped.")
    except KeyboardInterrupt:
        pass


async def _work_until_signalled(
    settings: Settings, runtime_url: str, secret: str, public_url: str
) -> None:
    from app.delivery.runner import run_worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_worker(settings, runtime_url, secret, public_url, stop)


@cli.command("migrate")
def migrate_command() -> None:
    """Apply migrations as the owner (DATABASE_OWNER_URL) and grant the runtime role
    (the user in DATABASE_URL) what it needs."""
    from app.core.provision import migrate, role_of

    settings = load_settings()
    if settings.embedded:
        with database(settings):
            console.print("Embedded database migrated.")
        return
    if not settings.database_owner_url:
        raise fail("set DATABASE_OWNER_URL (the role that owns the tables) to migrate")
    assert settings.database_url is not None
    runtime_role = role_of(settings.database_url)
    if runtime_role == role_of(settings.database_owner_url):
        raise fail("DATABASE_URL and DATABASE_OWNER_URL must use different roles")
    migrate(settings.database_owner_url, runtime_role)
    console.print(f"Migrated; granted runtime role {runtime_role!r}.")


class Refused(Exception):
    """A command cannot do what it was asked; the message is one line."""


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to completion; a `Refused` becomes one plain line and exit 1."""
    try:
        return asyncio.run(work)
    except Refused as exc:
        raise fail(str(exc)) from None


PASSWORD_MIN, PASSWORD_MAX = 12, 256
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input (no prompt). "
        "Without it, the password is asked for on the terminal.",
    ),
]
AgencyOption = Annotated[str, typer.Option("--agency", help="The agency's id (`agency list`).")]


def read_password(from_stdin: bool, prompt: str) -> str:
    """A password from standard input's first line or a hidden, confirmed prompt; never argv."""
    if from_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    elif sys.stdin.isatty():
        password = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    else:
        raise fail("no terminal to ask for the password: pass --password-stdin and pipe it in")
    if not password:
        raise fail("the password is empty")
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise fail(
            f"the password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters "
            f"(it has {len(password)})"
        )
    return password


def checked_email(value: str) -> str:
    """The address as the API stores it (lower case), or one line saying it is not one."""
    from pydantic import TypeAdapter, ValidationError

    from app.core.schemas import Email

    try:
        return TypeAdapter(Email).validate_python(value)
    except ValidationError:
        raise fail(f"not a valid email address: {value}") from None


def checked_agency_id(value: str) -> UUID:
    try:
        return UUID(value.strip())
    except ValueError:
        raise fail(f"not an agency id: {value} (see `afterview agency list`)") from None


@agency_cli.command("create")
def agency_create(
    name: Annotated[str, typer.Argument(help="The agency's name.")],
    admin_email: Annotated[
        str, typer.Option(help="Email of its first admin: their login, new to every agency.")
    ],
    admin_name: Annotated[str, typer.Option(help="Name of its first admin.")] = "Admin",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an agency and its first admin (against the same database the service uses).
    Prints {"agency_id", "admin_id"} as JSON."""
    email = checked_email(admin_email)
    password = read_password(password_stdin, "Password of the first admin")
    settings = load_settings()
    with database(settings) as urls:
        created = run(_create_agency(urls.runtime, name, email, password, admin_name))
    print(json.dumps({"agency_id": created[0], "admin_id": created[1]}))


async def _create_agency(
    runtime_url: str, name: str, email: str, password: str, admin_name: str
) -> tuple[str, str]:
    from sqlalchemy import func, select, text

    from app.agency.service import create_agency
    from app.core.clock import SystemClock
    from app.core.db import create_engine, session_factory

    engine = create_engine(runtime_url, pool_size=2, max_overflow=0)
    try:
        async with engine.begin() as guard:
            # Until this transaction ends, another `agency create` for the same email waits
            # here, so two at once cannot both find the email free.
            key = func.hashtext("afterview.admin-email:" + email)
            await guard.execute(select(func.pg_advisory_xact_lock(key)))
            # Login looks an email up in every agency through this function; so does this.
            taken = await guard.scalar(
                text("SELECT agency_id FROM login_candidates(:email) LIMIT 1"), {"email": email}
            )
            if taken is not None:
                raise Refused(
                    f"{email} already logs in to agency {taken}; the first admin needs an "
                    "email no agency uses, so that logging in by email stays unambiguous"
                )
            made = await create_agency(
                session_factory(engine), SystemClock(), name, email, password, admin_name
            )
    finally:
        await engine.dispose()
    return str(made.agency_id), str(made.admin_id)


@agency_cli.command("list")
def agency_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every agency: id, name, when it was created, and how many active users it has.
    Reads as the owner role (DATABASE_OWNER_URL): the runtime role sees one agency at a time."""
    settings = load_settings()
    with database(settings) as urls:
        if not urls.owner:
            raise fail("set DATABASE_OWNER_URL: only the owner role may read every agency")
        agencies = _agencies(urls.owner)
    if as_json:
        print(json.dumps(agencies))
        return
    from rich.table import Table

    table = Table()
    table.add_column("id", no_wrap=True, min_width=36)
    for heading in ("name", "created", "active users"):
        table.add_column(heading)
    for agency in agencies:
        created = agency["created_at"][:16].replace("T", " ") + " UTC"
        row = (agency["id"], agency["name"], created, str(agency["active_users"]))
        table.add_row(*(Text(cell) for cell in row))
    Console().print(table)


def _agencies(owner_url: str) -> list[dict[str, Any]]:
    from datetime import UTC

    from app.core.provision import connect

    # The owner reads agencies and users through their `owner_read` policies.
    query = """
        SELECT a.id, a.name, a.created_at,
               count(u.id) FILTER (WHERE u.active AND u.removed_at IS NULL)
        FROM agency a LEFT JOIN app_user u ON u.agency_id = a.id
        GROUP BY a.id ORDER BY a.created_at, a.id
    """
    with connect(owner_url) as conn:
        rows = conn.execute(query).fetchall()
    return [
        {
            "id": str(agency_id),
            "name": name,
            "created_at": created_at.astimezone(UTC).isoformat(),
            "active_users": active_users,
        }
        for agency_id, name, created_at, active_users in rows
    ]


@user_cli.command("reset-password")
def user_reset_password(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The user's email.")],
    agency: AgencyOption,
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password for a user of an agency. The access tokens they hold stop counting;
    the audit log records the change (by the system)."""
    address = checked_email(email)
    agency_id = checked_agency_id(agency)
    password = read_password(password_stdin, f"New password for {address}")
    settings = load_settings()
    with database(settings) as urls:
        run(_reset_password(urls.runtime, agency_id, address, password))
    say(f"New password set for {address}; the tokens they held no longer count.")


async def _reset_password(runtime_url: str, agency_id: UUID, email: str, password: str) -> None:
    from app.core.auth import worker_principal
    from app.core.clock import SystemClock
    from app.core.db import create_engine, session_factory, tenant_transaction
    from app.core.etag import etag_of
    from app.core.pagination import PageParams
    from app.users.schemas import UserUpdate
    from app.users.service import list_users, update_user

    principal = worker_principal(agency_id)
    engine = create_engine(runtime_url, pool_size=1, max_overflow=0)
    try:
        async with tenant_transaction(session_factory(engine), principal.agency_id) as session:
            found, _ = await list_users(session, principal, PageParams(1, None), email=email)
            if not found:
                raise Refused(f"no user {email} in agency {agency_id}")
            user = found[0]
            changes = UserUpdate(password=password)
            await update_user(
                session, principal, SystemClock(), user.id, changes, etag_of(user.version)
            )
    finally:
        await engine.dispose()


CsvFile = Annotated[
    Path,
    typer.Argument(
        metavar="FILE.csv",
        help="UTF-8 CSV with a header row.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]


@import_cli.command("candidates")
def import_candidates(file: CsvFile, agency: AgencyOption) -> None:
    """Create or update candidates from FILE, each row as `PUT /v1/candidates/by-external-id/…`
    does. Columns: external_id, first_name, last_name, email (required); phone, contact_consent
    (true/false, yes/no or 1/0), owner_id (optional). Exit 1 if any row failed (the others are
    imported all the same)."""
    import_records("candidates", file, agency)


@import_cli.command("clients")
def import_clients(file: CsvFile, agency: AgencyOption) -> None:
    """Create or update clients from FILE, each row as `PUT /v1/clients/by-external-id/…`
    does. Columns: external_id, name (both required). Exit 1 if any row failed."""
    import_records("clients", file, agency)


def import_records(kind_name: str, file: Path, agency: str) -> None:
    """Import, then report each failed row on stderr and the counts as JSON on stdout."""
    from app.imports.csv_file import UnreadableFile, read_rows
    from app.imports.service import KINDS, Outcome

    agency_id = checked_agency_id(agency)
    kind = KINDS[kind_name]
    try:
        rows = read_rows(file, required=kind.required, known=kind.columns)
    except UnreadableFile as exc:
        raise fail(str(exc)) from None
    settings = load_settings()
    with database(settings) as urls:
        report = run(_import_rows(urls.runtime, agency_id, kind_name, rows))
    for error in report.errors:
        where = f"row {error.row}" + (f", {error.field}" if error.field else "")
        say(f"{where}: {error.message}")
    counts = ", ".join(f"{report.counts[outcome]} {outcome}" for outcome in Outcome)
    say(f"{kind_name} from {file.name}: {counts}")
    print(json.dumps(report.as_dict()))
    if report.counts[Outcome.failed]:
        raise typer.Exit(code=1)


async def _import_rows(
    runtime_url: str, agency_id: UUID, kind_name: str, rows: Sequence[Row]
) -> Report:
    from rich.progress import Progress

    from app.core.clock import SystemClock
    from app.core.db import create_engine, session_factory
    from app.imports.service import KINDS, UnknownAgency, agency_principal, import_rows

    engine = create_engine(runtime_url, pool_size=1, max_overflow=0)
    sessions = session_factory(engine)
    try:
        try:
            principal = await agency_principal(sessions, agency_id)
        except UnknownAgency:
            raise Refused(f"no agency with id {agency_id}") from None
        with Progress(console=console) as progress:
            task = progress.add_task(f"Importing {kind_name}", total=len(rows))
            return await import_rows(
                sessions,
                principal,
                SystemClock(),
                KINDS[kind_name],
                rows,
                on_row=lambda: progress.advance(task),
            )
    finally:
        await engine.dispose()


@cli.command("openapi")
def openapi_command(
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Print (or write) the OpenAPI document generated from the app."""
    from app.openapi import render_openapi

    text = render_openapi()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


def main() -> None:
    SIGNALS.install()
    try:
        cli()
    except Exception as error:
        SIGNALS.exit_if_caused(error)
        raise
    finally:
        SIGNALS.leaving()
        # Left alone, the interpreter's last collections walk every object the command made
        # (the app's modules, routes and mappers): about 0.4 s of CPU on a 2-core machine. Frozen,
        # they are left to the OS.
        gc.freeze()


if __name__ == "__main__":
    main()
