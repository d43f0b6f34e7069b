"""Running the `afterview` command in child processes, and making sure none outlives a test."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Variables that would make a child pick a database or setting other than the test's own.
_INHERITED_BLOCKLIST = ("DATABASE_URL", "DATABASE_OWNER_URL", "TEST_DATABASE_URL")


def afterview_executable() -> str:
    """The console script installed next to this interpreter (the venv's `bin/afterview`)."""
    beside = Path(sys.executable).parent / "afterview"
    if beside.exists():
        return str(beside)
    found = shutil.which("afterview")
    assert found, "the `afterview` console script is not installed"
    return found


def cli_env(**settings: str) -> dict[str, str]:
    """This process's environment without any database or AFTERVIEW_* setting, plus `settings`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _INHERITED_BLOCKLIST and not key.startswith("AFTERVIEW_")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings)
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `afterview *args` to completion (killed if it outlives `timeout`), `input` on its
    standard input (none: an empty one)."""
    return subprocess.run(  # noqa: S603 - a fixed executable and arguments chosen by the tests
        [afterview_executable(), *args],
        env=env,
        input=input or "",
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def served_token(base_url: str, email: str, password: str) -> str:
    """An access token from a served `afterview` (the password log-in must succeed)."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def served_me(base_url: str, token: str) -> dict[str, object]:
    """`GET /v1/me` from a served `afterview`, with that token."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Live `postgres` processes whose command line names a path under `data_dir`."""
    needle = str(data_dir.resolve())
    found = []
    for proc in psutil.process_iter(attrs=["name", "cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if proc.info["name"] == "postgres" and any(needle in part for part in cmdline):
            found.append(proc)
    return found


def wait_for_no_postgres(data_dir: Path, timeout: float = 10) -> list[psutil.Process]:
    """Poll until no postgres runs on `data_dir`; return whatever still runs at the deadline."""
    deadline = time.monotonic() + timeout
    remaining = postgres_processes(data_dir)
    while remaining and time.monotonic() < deadline:
        time.sleep(0.1)
        remaining = postgres_processes(data_dir)
    return remaining


def stop_postgres(data_dir: Path) -> None:
    """Last resort for a failed test: fast-shutdown (then kill) any postgres on `data_dir`."""
    for proc in postgres_processes(data_dir):
        try:
            proc.send_signal(signal.SIGINT)  # the postmaster's "fast shutdown"
            proc.wait(10)
        except psutil.NoSuchProcess:
            continue
        except psutil.TimeoutExpired:
            proc.kill()
    _, alive = psutil.wait_procs(postgres_processes(data_dir), timeout=5)
    for proc in alive:
        proc.kill()


class ChildProcess:
    """An `afterview` command in a child process, its output captured in files. Use as a
    context manager: on the way out the process is killed if it still runs."""

    def __init__(self, args: list[str], env: dict[str, str], log_dir: Path, name: str) -> None:
        self.args = args
        self.env = env
        log_dir.mkdir(parents=True, exist_ok=True)
        self._stdout_path = log_dir / f"{name}.out"
        self._stderr_path = log_dir / f"{name}.err"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        with self._stdout_path.open("wb") as out, self._stderr_path.open("wb") as err:
            self._process = subprocess.Popen(  # noqa: S603 - fixed executable and arguments
                [afterview_executable(), *self.args],
                env=self.env,
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()

    @property
    def process(self) -> "subprocess.Popen[bytes]":
        assert self._process is not None, "use it as a context manager"
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """Everything the process has written so far, stdout then stderr."""
        return self._stdout_path.read_text(errors="replace") + self._stderr_path.read_text(
            errors="replace"
        )

    def stop(self, signum: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        """Send `signum` and wait for the process to exit; return its exit code."""
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.args[0]} did not exit within {timeout}s of {signum.name}:\n{self.output()}"
            ) from None

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)


class Server(ChildProcess):
    """`afterview serve` on 127.0.0.1. On the way out, any embedded postgres left on
    `data_dir` is stopped too, whether or not the test passed."""

    def __init__(
        self,
        env: dict[str, str],
        log_dir: Path,
        data_dir: Path | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), *extra_args]
        super().__init__(args, env, log_dir, f"serve-{self.port}")

    def wait_ready(self, timeout: float = 60) -> None:
        """Poll GET /readyz until it answers 200; fail early if the process exits."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        with httpx.Client(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                code = self.process.poll()
                assert code is None, f"serve exited with {code} before ready:\n{self.output()}"
                try:
                    response = client.get("/readyz")
                except httpx.TransportError as exc:
                    last = repr(exc)
                else:
                    if response.status_code == 200:
                        return
                    last = f"{response.status_code} {response.text}"
                time.sleep(0.1)
        raise AssertionError(f"not ready after {timeout}s ({last}):\n{self.output()}")

    def kill(self) -> None:
        super().kill()
        if self.data_dir is not None:
            stop_postgres(self.data_dir)


class WorkerProcess(ChildProcess):
    """`afterview worker`."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str = "worker") -> None:
        super().__init__(["worker"], env, log_dir, name)

    def wait_started(self, timeout: float = 30) -> None:
        """Until it says it runs (after its start-up checks), or fail if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            assert code is None, f"worker exited with {code}:\n{self.output()}"
            if "Afterview worker:" in self.output():
                return
            time.sleep(0.05)
        raise AssertionError(f"worker did not start within {timeout}s:\n{self.output()}")


def requests_to_two_processes(env: dict[str, str], tmp_path: Path, key: str) -> list[int]:
    """25 requests with one key to `serve --workers 2`, each on a new connection (so both
    processes answer some); their status codes."""
    with Server(env, tmp_path / "logs", extra_args=("--workers", "2", "--no-worker")) as server:
        server.wait_ready()
        while time.time() % 60 > 57:  # all 25 within one minute's window (they take ~0.2 s)
            time.sleep(0.1)
        no_keep_alive = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=server.base_url, timeout=10, limits=no_keep_alive) as client:
            me = [
                client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}) for _ in range(25)
            ]
        server.stop()
    return [response.status_code for response in me]
