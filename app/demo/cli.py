"""`afterview demo reset`: rebuild the demo agency, as fresh as on first start."""

import asyncio
from typing import TYPE_CHECKING

import typer
from rich.panel import Panel

if TYPE_CHECKING:  # the CLI imports this module at start: keep it light
    from app.demo.service import DemoLogin

demo_cli = typer.Typer(
    help="The demo agency (seeded on the first embedded start).", no_args_is_help=True
)


@demo_cli.command("reset")
def reset() -> None:
    """Delete the demo agency and everything in it, then seed it again (new password, unless
    AFTERVIEW_DEMO_PASSWORD is set). Needs the owner connection: the embedded database has it;
    otherwise set DATABASE_OWNER_URL. Other agencies are not touched."""
    from app import cli
    from app.core.logging import configure_logging
    from app.demo.service import create_demo, remove_demo

    settings = cli.load_settings()
    configure_logging(json_lines=settings.log_json)
    with cli.database(settings) as urls:
        if not urls.owner:
            raise cli.fail("set DATABASE_OWNER_URL: only the owner may delete the demo agency")
        cli.preflight(urls.runtime)
        secret = cli.jwt_secret(settings)
        removed = remove_demo(urls.owner)
        cli.say(f"Removed the demo agency ({removed} rows).")
        login = asyncio.run(create_demo(urls.runtime, settings, secret))
    show_login(login, "Demo agency rebuilt.", None)


def show_login(login: "DemoLogin", heading: str, docs_url: str | None) -> None:
    """The demo admin's credentials, in a box on stderr."""
    from app.cli import console

    where = f"Log in at {docs_url} → Authorize\n" if docs_url else ""
    shown = login.password if login.generated else "(the AFTERVIEW_DEMO_PASSWORD you set)"
    once = "\nThis password is shown only once." if login.generated else ""
    console.print(
        Panel.fit(
            f"{heading}\n{where}  email:    {login.email}\n  password: {shown}{once}",
            title="Afterview",
        )
    )
