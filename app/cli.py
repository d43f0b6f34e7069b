"""`afterview`: serve the API, migrate the database, create agencies, export OpenAPI."""

import asyncio
import json
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from app.core.provision import (
    DatabaseUrls,
    EmbeddedPostgres,
    SchemaNotCurrent,
    UnsafeRuntimeRole,
    check_runtime_role,
    check_schema_current,
    data_dir_secret,
    migrate,
    role_of,
)
from app.core.settings import Settings, get_settings

cli = typer.Typer(help="Afterview: the post-interview workflow API.", no_args_is_help=True)
agency_cli = typer.Typer(help="Manage agencies (tenants). No HTTP route creates agencies.")
cli.add_typer(agency_cli, name="agency")
console = Console(stderr=True)

DEMO_EMAIL = "admin@demo-agency.example.com"


def fail(message: str) -> typer.Exit:
    """Print one plain line (never wrapped, never read as markup) and exit 1."""
    console.print(Text.assemble(("afterview:", "bold red"), " ", message), soft_wrap=True)
    return typer.Exit(code=1)


def say(line: str) -> None:
    """One plain line on stderr (never wrapped, never read as markup)."""
    console.print(Text(line), soft_wrap=True)


@contextmanager
def database(settings: Settings) -> Iterator[DatabaseUrls]:
    """The database to use: `DATABASE_URL` (and `DATABASE_OWNER_URL`), or the embedded server,
    started (or joined, if another afterview process runs it) and migrated."""
    if not settings.embedded:
        assert settings.database_url is not None
        yield DatabaseUrls(owner=settings.database_owner_url or "", runtime=settings.database_url)
        return
    server = EmbeddedPostgres(settings.data_dir)
    console.print(f"Embedded PostgreSQL, data in [bold]{server.pgdata}[/]")
    server.start()
    try:
        urls = server.urls()
        migrate(urls.owner, role_of(urls.runtime))
        yield urls
    finally:
        server.stop()


def load_settings() -> Settings:
    """The settings, or one plain line naming what is wrong with them."""
    from pydantic import ValidationError

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
        return data_dir_secret(settings.data_dir, "jwt_secret")
    raise fail("set AFTERVIEW_JWT_SECRET (a long random string) to sign access tokens")


def preflight(runtime_url: str) -> None:
    try:
        check_runtime_role(runtime_url)
        check_schema_current(runtime_url)
    except (UnsafeRuntimeRole, SchemaNotCurrent) as exc:
        raise fail(f"refusing to start: {exc}") from None


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def public_url_of(settings: Settings, host: str, port: int) -> str:
    """AFTERVIEW_PUBLIC_URL, or the address `serve` listens on (the base of emailed links)."""
    if settings.public_url:
        return settings.public_url
    shown = socket.getfqdn() if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def check_mail(settings: Settings) -> str:
    """Where mail will go, or exit with a one-line reason."""
    from app.delivery.runner import MailNotConfigured, check_worker_settings

    try:
        return check_worker_settings(settings)
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

    settings = load_settings()
    configure_logging(json_lines=settings.log_json)
    settings = settings.model_copy(update={"public_url": public_url_of(settings, host, port)})
    with_worker = settings.embedded if worker is None else worker
    if with_worker:
        mail = check_mail(settings)
    # uvicorn re-raises SIGTERM after shutting down; turn it into SystemExit so that the
    # embedded server is stopped on the way out instead of the process dying on the spot.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with database(settings) as urls:
            preflight(urls.runtime)
            secret = jwt_secret(settings)
            if settings.embedded:
                asyncio.run(_seed_demo(urls.runtime, settings, host, port))
            console.print(f"Afterview on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
            if with_worker:
                say(f"Mail: {mail}; links point at {settings.public_url}")
            try:
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
    from app.delivery.runner import mailbox_dir
    from app.main import create_app

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        "log_level": "warning",
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


async def _seed_demo(runtime_url: str, settings: Settings, host: str, port: int) -> None:
    from app.agency.service import agency_count, create_agency
    from app.core.clock import SystemClock
    from app.core.db import create_engine, session_factory

    engine = create_engine(runtime_url, pool_size=1, max_overflow=0)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            if await agency_count(session):
                return
        email = settings.demo_email or DEMO_EMAIL
        generated = settings.demo_password is None
        password = (
            secrets.token_urlsafe(12)
            if settings.demo_password is None
            else settings.demo_password.get_secret_value()
        )
        await create_agency(sessions, SystemClock(), "Demo Agency", email, password, "Demo Admin")
    finally:
        await engine.dispose()
    shown = password if generated else "(the AFTERVIEW_DEMO_PASSWORD you set)"
    console.print(
        Panel.fit(
            f"Demo agency created. Log in at http://{host}:{port}/docs → Authorize\n"
            f"  email:    {email}\n  password: {shown}\n"
            + ("This password is shown only once." if generated else ""),
            title="Afterview",
        )
    )


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
            asyncio.run(_work_until_signalled(settings, urls.runtime, secret, public_url))
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


@agency_cli.command("create")
def agency_create(
    name: Annotated[str, typer.Argument(help="The agency's name.")],
    admin_email: Annotated[str, typer.Option(help="Email of its first admin.")],
    admin_password: Annotated[str, typer.Option(help="Password of its first admin (12+ chars).")],
    admin_name: Annotated[str, typer.Option(help="Name of its first admin.")] = "Admin",
) -> None:
    """Create an agency and its first admin (against the same database the service uses)."""
    from pydantic import TypeAdapter, ValidationError

    from app.core.schemas import Email

    try:
        email = TypeAdapter(Email).validate_python(admin_email)
    except ValidationError:
        raise fail(f"not a valid email address: {admin_email}") from None
    if len(admin_password) < 12:
        raise fail("the admin password must have at least 12 characters")
    settings = load_settings()
    with database(settings) as urls:
        created = asyncio.run(_create_agency(urls.runtime, name, email, admin_password, admin_name))
    print(json.dumps({"agency_id": str(created[0]), "admin_id": str(created[1])}))


async def _create_agency(
    runtime_url: str, name: str, email: str, password: str, admin_name: str
) -> tuple[str, str]:
    from app.agency.service import create_agency
    from app.core.clock import SystemClock
    from app.core.db import create_engine, session_factory

    engine = create_engine(runtime_url, pool_size=1, max_overflow=0)
    try:
        made = await create_agency(
            session_factory(engine), SystemClock(), name, email, password, admin_name
        )
    finally:
        await engine.dispose()
    return str(made.agency_id), str(made.admin_id)


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
    cli()


if __name__ == "__main__":
    main()
