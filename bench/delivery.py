"""Mail delivery: messages per second from `afterview worker` processes to a local SMTP sink
(aiosmtpd), with 1 and with 4 workers; then the claim query's plan and time with 1,000,000 sent
and 10,000 due messages spread over 1,000 agencies.

    python -m bench.delivery [--messages 3000] [--sent 1000000] [--due 10000]

Workers are started first and left idle; the clock starts at the commit that queues the batch
(they wake on its NOTIFY) and stops when the sink has accepted every message.
"""

import argparse
import os
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app.core.db import to_libpq_url
from app.core.provision import DatabaseUrls
from bench.common import bench_server, worker_processes
from tests.support.smtp import SmtpSink, smtp_sink

JWT_SECRET = "bench-" + "x" * 40
AGENCIES = 1_000

SEED_AGENCIES = (
    "INSERT INTO agency (id, name) SELECT gen_random_uuid(), 'Agency ' || i "
    "FROM generate_series(1, %(agencies)s) AS i"
)
# `status`, `next_attempt_at` and `sent_at` are filled in per use below.
QUEUE_MESSAGES = """
INSERT INTO message (agency_id, id, kind, status, dedupe_key, recipient_type, recipient_id,
                     to_address, to_name, subject, body, message_id_header, attempts,
                     next_attempt_at, sent_at, created_at, updated_at)
SELECT ids.a[1 + m.n %% array_length(ids.a, 1)], m.id, 'feedback_request', %(status)s::text,
       'bench:' || m.id, 'contact', gen_random_uuid(),
       'contact' || m.n || '@client.example.com', 'Contact ' || m.n,
       'Feedback on Amara for the Analyst role',
       'Dear Contact, a few lines on Amara would help them greatly.',
       '<' || m.id || '@bench.afterview.dev>', %(attempts)s,
       CASE WHEN %(status)s::text = 'queued' THEN now() - interval '1 second' END,
       CASE WHEN %(status)s::text = 'sent' THEN now() END, now(), now()
FROM (SELECT n, gen_random_uuid() AS id FROM generate_series(1, %(count)s) AS n) m,
     (SELECT array_agg(id ORDER BY id) AS a FROM agency) ids
"""
# The claim function's query, as it runs inside `claim_messages` (for EXPLAIN).
CLAIM_QUERY = """
WITH queued AS (
    SELECT m.agency_id, m.id FROM message m
    WHERE m.status = 'queued' AND m.next_attempt_at <= now()
    ORDER BY m.next_attempt_at LIMIT 100 FOR UPDATE SKIP LOCKED
), lease_lost AS (
    SELECT m.agency_id, m.id FROM message m
    WHERE m.status = 'sending' AND m.lease_until <= now()
    ORDER BY m.lease_until LIMIT 100 FOR UPDATE SKIP LOCKED
), due AS (SELECT * FROM queued UNION ALL SELECT * FROM lease_lost)
UPDATE message m
SET status = 'sending', lease_until = now() + interval '300 seconds',
    lease_token = gen_random_uuid(), attempts = m.attempts + 1
FROM due WHERE m.agency_id = due.agency_id AND m.id = due.id
"""


def superuser_on(superuser_url: str, urls: DatabaseUrls) -> str:
    return to_libpq_url(make_url(superuser_url).set(database=make_url(urls.runtime).database))


def queue(conn: psycopg.Connection, count: int, status: str = "queued") -> None:
    attempts = 1 if status == "sent" else 0
    conn.execute(
        QUEUE_MESSAGES,
        {"status": status, "count": count, "attempts": attempts},
    )


def worker_env(urls: DatabaseUrls, sink: SmtpSink) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERVIEW_")}
    return {
        **env,
        "DATABASE_URL": urls.runtime,
        "AFTERVIEW_JWT_SECRET": JWT_SECRET,
        "AFTERVIEW_PUBLIC_URL": "http://afterview.bench",
        "AFTERVIEW_SMTP_URL": sink.url,
        "AFTERVIEW_MAIL_FROM": "Afterview <noreply@afterview.bench>",
        "AFTERVIEW_LOG_JSON": "true",
    }


def throughput(
    urls: DatabaseUrls, superuser: str, count: int, worker_count: int, logs: Path
) -> float:
    with smtp_sink() as sink, worker_processes(worker_count, worker_env(urls, sink), logs, "mail"):
        with psycopg.connect(superuser, autocommit=True) as conn:
            queue(conn, count)
            started = time.perf_counter()
        deadline = time.monotonic() + 600
        while not sink.wait_for(count, timeout=1):
            assert time.monotonic() < deadline, f"{len(sink.snapshot())} of {count} arrived"
        elapsed = time.perf_counter() - started
    twice = sum(1 for n in sink.by_message_id().values() if n > 1)
    rate = count / elapsed
    print(
        f"{worker_count} worker(s): {count} messages in {elapsed:6.2f} s = {rate:7.1f} msg/s "
        f"(delivered twice: {twice})",
        flush=True,
    )
    return rate


def claim_plan(superuser: str, sent: int, due: int) -> None:
    with psycopg.connect(superuser, autocommit=True) as conn:
        started = time.perf_counter()
        queue(conn, sent, status="sent")
        queue(conn, due)
        conn.execute("ANALYZE message")
        counts: dict[str, int] = dict(
            conn.execute("SELECT status, count(*) FROM message GROUP BY status").fetchall()
        )
        print(f"\nseeded in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
        owner = conn.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'message'"
        ).fetchone()
        assert owner is not None
        conn.execute("BEGIN")
        conn.execute(f'SET LOCAL ROLE "{owner[0]}"')  # as inside the SECURITY DEFINER function
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + CLAIM_QUERY).fetchall()
        conn.execute("ROLLBACK")
        print("claim_messages' query, 100 due of 10,000:", flush=True)
        for (line,) in plan:
            print("  " + line, flush=True)


def claim_timing(runtime_url: str, rounds: int = 20) -> None:
    """The function itself, as the runtime role, claiming 100 and rolled back each time."""
    with psycopg.connect(to_libpq_url(runtime_url)) as conn:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            claimed = conn.execute(
                "SELECT count(*) FROM claim_messages(now(), 100, 300)"
            ).fetchone()
            times.append(time.perf_counter() - started)
            conn.rollback()
            assert claimed is not None and claimed[0] == 100
    times.sort()
    print(
        f"claim_messages(now(), 100, 300) as the runtime role: median "
        f"{times[len(times) // 2] * 1000:.2f} ms, max {times[-1] * 1000:.2f} ms",
        flush=True,
    )


def main(messages: int, sent: int, due: int) -> None:
    logs = Path("/tmp/afterview-bench-delivery")  # noqa: S108 - benchmark logs
    logs.mkdir(exist_ok=True)
    with bench_server() as (urls, superuser_url):
        superuser = superuser_on(superuser_url, urls)
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute(SEED_AGENCIES, {"agencies": AGENCIES})
        print(f"{AGENCIES} agencies; worker logs in {logs}", flush=True)
        for worker_count in (1, 4):
            throughput(urls, superuser, messages, worker_count, logs)
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute("TRUNCATE message CASCADE")  # no heads-ups here
        claim_plan(superuser, sent, due)
        claim_timing(urls.runtime)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3_000)
    parser.add_argument("--sent", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    args = parser.parse_args()
    main(args.messages, args.sent, args.due)
