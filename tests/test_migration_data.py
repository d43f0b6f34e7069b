"""Migrations that change data, run on data: a database at the revision before, rows in it as
that revision left them, then the upgrade."""

import json
import uuid
from typing import Any

import psycopg

from app.core.db import to_libpq_url
from app.core.provision import migrate
from tests.conftest import TEST_RUNTIME, TestDatabase

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJsaW5rIjoiZmVlZGJhY2sifQ.c2lnbmF0dXJl"


def test_0023_scrubs_link_tokens_from_message_events(test_database: TestDatabase) -> None:
    urls = test_database.create("afterview_migration_data")
    migrate(urls.owner, TEST_RUNTIME, "0022")
    agency = uuid.uuid4()
    body = f"Please tell us: https://api.example/feedback/{TOKEN}\nThanks."
    other = {"body": "No link here: https://api.example/feedback/form", "kind": "x"}
    with psycopg.connect(to_libpq_url(urls.owner), autocommit=True) as conn:
        conn.execute("SELECT set_config('app.agency_id', %s, false)", (str(agency),))
        conn.execute("INSERT INTO agency (id, name) VALUES (%s, 'Migrated Agency')", (agency,))
        for kind, snapshot in (("message.sent", {"body": body}), ("message.failed", other)):
            conn.execute(
                "INSERT INTO event (agency_id, id, type, object_type, object_id, snapshot) "
                "VALUES (%s, %s, %s, 'message', %s, %s)",
                (agency, uuid.uuid4(), kind, uuid.uuid4(), json.dumps(snapshot)),
            )

    migrate(urls.owner, TEST_RUNTIME)

    with psycopg.connect(to_libpq_url(urls.owner), autocommit=True) as conn:
        conn.execute("SELECT set_config('app.agency_id', %s, false)", (str(agency),))
        rows: dict[str, Any] = dict(conn.execute("SELECT type, snapshot FROM event").fetchall())
    assert rows["message.sent"]["body"] == (
        "Please tell us: https://api.example/feedback/[redacted]\nThanks."
    )
    assert rows["message.failed"] == other  # no token, nothing changed
