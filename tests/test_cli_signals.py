"""SIGTERM at any instant of `afterview serve`'s start-up makes it exit promptly."""

import random
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.core.provision import DatabaseUrls
from tests.support.processes import PROJECT_ROOT, Server, cli_env, wait_for_no_postgres

TRIES = 10
EXIT_WITHIN_SECONDS = 10.0
# Stopped by its own handler (0 or 128 + 15), or by the default action in the few milliseconds
# before `main()` runs, when nothing is yet held that would need stopping (-15).
PROMPT_EXITS = {0, 128 + signal.SIGTERM, -signal.SIGTERM}


def test_sigterm_during_start_up_stops_serve(database_urls: DatabaseUrls, tmp_path: Path) -> None:
    env = cli_env(
        DATABASE_URL=database_urls.runtime,
        AFTERVIEW_JWT_SECRET=secrets.token_urlsafe(32),
        AFTERVIEW_DATA_DIR=str(tmp_path / "unused"),
    )
    delays = [i / (TRIES - 1) for i in range(TRIES)]  # 0 s to 1 s, evenly: every phase
    random.shuffle(delays)
    for delay in delays:
        with Server(env, tmp_path / "logs") as server:
            time.sleep(delay)
            server.process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            try:
                code = server.process.wait(EXIT_WITHIN_SECONDS)
            except subprocess.TimeoutExpired:
                raise AssertionError(
                    f"serve ignored SIGTERM sent {delay:.2f}s after start:\n{server.output()}"
                ) from None
            assert code in PROMPT_EXITS, f"exit {code} after {delay:.2f}s:\n{server.output()}"
            assert time.monotonic() - started < EXIT_WITHIN_SECONDS
            assert "Traceback" not in server.output(), server.output()
    assert not (tmp_path / "unused").exists()


def test_sigterm_while_the_embedded_server_starts_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = cli_env(AFTERVIEW_DATA_DIR=str(data_dir))
    with Server(env, tmp_path / "logs", data_dir) as server:
        deadline = time.monotonic() + 30
        while "Embedded PostgreSQL" not in server.output() and time.monotonic() < deadline:
            assert server.process.poll() is None, server.output()
            time.sleep(0.01)
        server.process.send_signal(signal.SIGTERM)  # while initdb and the first start run
        code = server.process.wait(30)
        assert code == 128 + signal.SIGTERM, server.output()
        assert wait_for_no_postgres(data_dir) == [], "the embedded server outlived serve"
        assert "Afterview on" not in server.output()


SWALLOWED = """
import os, signal, sys, time
from app.cli import SIGNALS

class Finalized:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)  # the handler runs here, inside the finalizer, which swallows its exit

SIGNALS.install()
try:
    Finalized()
    print("survived the first signal", flush=True)
    time.sleep(10)
finally:
    SIGNALS.leaving()
"""


def test_a_signal_swallowed_where_it_landed_is_sent_again() -> None:
    """A handler that runs in a finalizer (or a weakref callback: SQLAlchemy has some) cannot
    stop the process; the signal is sent again until it can."""
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", SWALLOWED],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout == "survived the first signal\n"
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert time.monotonic() - started < 5
    assert done.stderr == ""  # the swallowed exit is no error worth printing


WRAPPED = """
import os, signal, sys, time
from app import cli as afterview

class Lands:
    def __set_name__(self, owner, name):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs here; Python 3.11 wraps its exit in a RuntimeError

@afterview.cli.command("make-a-class")
def make_a_class() -> None:
    class Made:
        field = Lands()
    print("survived the signal", flush=True)

sys.argv = ["afterview", "make-a-class"]
afterview.main()
"""


def test_a_signal_wrapped_in_another_error_still_exits_quietly() -> None:
    """Seen in CI: SIGTERM landed while FastAPI's modules made their dataclasses, and serve
    died of a RuntimeError with a traceback instead of exiting as the signal asks."""
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", WRAPPED],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert done.stdout == ""
    assert done.stderr == ""
