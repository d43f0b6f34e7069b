"""Prometheus metrics: what each process counts, and the text a scrape answers.

With several worker processes (`afterview serve --workers N`) each process writes its values to
files in `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode) and a scrape, answered
by any one process, adds up every process's files. `serve` makes that directory itself when the
variable is unset. The variable must be set before `prometheus_client` is first imported: a
process decides its mode then.
"""

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import structlog
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("afterview.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"
"""The `route` label of a request that matched no route (never its raw path: unbounded)."""

REQUEST_SECONDS = Histogram(
    "afterview_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Pool gauges: each process sets its own after every request and at a scrape; with several
# processes a scrape shows the sum over the live ones.
DB_POOL_CHECKED_OUT = Gauge(
    "afterview_db_pool_checked_out",
    "Database connections in use by requests.",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "afterview_db_pool_size",
    "Connections each pool keeps (AFTERVIEW_DB_POOL_SIZE), summed over processes.",
    multiprocess_mode="livesum",
)
DB_POOL_OVERFLOW = Gauge(
    "afterview_db_pool_overflow",
    "Connections open beyond the pool size (at most AFTERVIEW_DB_MAX_OVERFLOW each).",
    multiprocess_mode="livesum",
)
MAIL_ATTEMPTS = Counter(
    "afterview_mail_attempts",
    "Attempts to send an outbox message, by outcome: sent, deferred (failed, retried later), "
    "failed (given up) or lost (another worker took the message over meanwhile).",
    ["outcome"],
)
MAIL_FAILURES = Counter(
    "afterview_mail_failures",
    "Attempts to send an outbox message that failed, by kind: temporary or permanent.",
    ["kind"],
)
WEBHOOK_DELIVERIES = Counter(
    "afterview_webhook_deliveries",
    "Webhook delivery attempts, by outcome: succeeded, retrying (failed, retried later), "
    "failed (given up) or lost (another worker took the delivery over meanwhile).",
    ["outcome"],
)

# prometheus_client's per-process files: `counter_123.db`, `gauge_livesum_123.db`, …
_PROCESS_FILE = re.compile(r"^(counter|histogram|summary|gauge_[a-z]+)_(\d+)\.db$")


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


@contextmanager
def metrics_for_workers(workers: int) -> Iterator[Path | None]:
    """Around `serve`: with several worker processes, a fresh directory for their metrics
    (made here and removed on the way out, unless PROMETHEUS_MULTIPROC_DIR names one: then its
    files from an earlier run are removed first, as prometheus_client requires)."""
    given = multiprocess_dir()
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        for stale in given.iterdir():
            if _PROCESS_FILE.match(stale.name):
                stale.unlink(missing_ok=True)
        yield given
        return
    if workers == 1:
        yield None
        return
    made = Path(tempfile.mkdtemp(prefix="afterview-metrics-"))
    os.environ[MULTIPROC_ENV] = str(made)  # the worker processes inherit it
    log.info("metrics_directory", directory=str(made))
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)


def sample_pool(engine: AsyncEngine) -> None:
    """Set this process's pool gauges from its engine's pool (a QueuePool)."""
    pool = engine.sync_engine.pool
    checked_out = getattr(pool, "checkedout", None)
    if checked_out is None:  # a pool without counters (NullPool): nothing to show
        return
    DB_POOL_CHECKED_OUT.set(checked_out())
    DB_POOL_SIZE.set(pool.size())  # type: ignore[attr-defined]
    DB_POOL_OVERFLOW.set(max(pool.overflow(), 0))  # type: ignore[attr-defined]


def process_exited() -> None:
    """This process stops: its pool gauges no longer count towards the live sum."""
    if (path := multiprocess_dir()) is not None:
        multiprocess.mark_process_dead(os.getpid(), str(path))  # type: ignore[no-untyped-call]


def exposition(scraped: Iterable[Metric]) -> bytes:
    """The text format of every process's metrics plus `scraped` (computed for this scrape)."""
    path = multiprocess_dir()
    if path is None:
        body = generate_latest(REGISTRY)
    else:
        _forget_dead_processes(path)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, str(path))  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    extra = CollectorRegistry()
    extra.register(_Families(list(scraped)))
    return body + generate_latest(extra)


def outbox_families(depth: dict[str, int] | None) -> list[Metric]:
    """`afterview_outbox_messages{status}` (None: the count failed) and whether it worked."""
    up = GaugeMetricFamily(
        "afterview_outbox_depth_up", "1 if this scrape could count the outbox, else 0."
    )
    up.add_metric([], 0 if depth is None else 1)
    if depth is None:
        return [up]
    messages = GaugeMetricFamily(
        "afterview_outbox_messages",
        "Outbox messages waiting (queued, sending) or given up on (failed), all agencies.",
        labels=["status"],
    )
    for status, count in sorted(depth.items()):
        messages.add_metric([status], count)
    return [messages, up]


def _forget_dead_processes(path: Path) -> None:
    """Drop the live gauges of processes that died without saying so (killed, crashed)."""
    pids = {
        int(m.group(2)) for f in path.glob("gauge_live*.db") if (m := _PROCESS_FILE.match(f.name))
    }
    for pid in pids:
        if not psutil.pid_exists(pid):
            multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families

    def describe(self) -> Iterable[Metric]:
        return []
