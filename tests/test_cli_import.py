"""`afterview import candidates|clients FILE.csv --agency ID`: each row goes through the same
upsert-by-external-id as the HTTP `PUT`, as the system; idempotent; bad rows reported, the good
ones imported; a file that cannot be read is refused whole."""

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from app.core.provision import DatabaseUrls
from tests.support.cli import Invoke, as_runtime, create_agency, new_email, one_line

CANDIDATES_HEADER = "external_id,first_name,last_name,email,phone,contact_consent,owner_id\n"


@pytest.fixture
def agency_id(invoke: Invoke) -> str:
    created = create_agency(invoke, "Import Agency", new_email(), secrets.token_urlsafe(16))
    return created["agency_id"]


def write(tmp_path: Path, text: str, name: str = "rows.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def import_file(invoke: Invoke, kind: str, path: Path, agency_id: str) -> tuple[int, Any, str]:
    result = invoke("import", kind, str(path), "--agency", agency_id)
    report = json.loads(result.stdout) if result.stdout else None
    return result.exit_code, report, result.stderr


def candidates_of(urls: DatabaseUrls, agency_id: str) -> dict[str, tuple[Any, ...]]:
    rows = as_runtime(
        urls,
        agency_id,
        "SELECT external_id, first_name, email, phone, contact_consent, version FROM candidate",
    )
    return {row[0]: row[1:] for row in rows}


def events_of(urls: DatabaseUrls, agency_id: str) -> list[tuple[str, Any]]:
    return [
        (kind, user_id)
        for kind, user_id in as_runtime(
            urls, agency_id, "SELECT type, user_id FROM event ORDER BY occurred_at, id"
        )
    ]


def test_import_candidates_is_idempotent_and_reports_bad_rows(
    invoke: Invoke, database_urls: DatabaseUrls, agency_id: str, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        CANDIDATES_HEADER
        + "ats-1,Amara,Okafor,amara@example.com,+44 7700 900123,true,\n"
        + "ats-2,Jon,Berg,jon@example.com,,no,\n"
        + ",No,Id,noid@example.com,,,\n"
        + "ats-4,Bad,Email,not-an-email,,yes,\n"
        + "ats-5,Eve,Consent,eve@example.com,,maybe,\n"
        + f"ats-6,Olu,Owner,olu@example.com,,,{secrets.token_hex(16)}\n"
        + '"ats-7","Zoë","Quoted, Name","zoe@example.com","","1",""\n',
    )

    code, report, stderr = import_file(invoke, "candidates", path, agency_id)

    assert code == 1  # some rows failed; the good ones are in
    assert report["created"] == 3
    assert (report["updated"], report["unchanged"], report["failed"]) == (0, 0, 4)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (4, "external_id"),
        (5, "email"),
        (6, "contact_consent"),
        (7, "owner_id"),
    ]
    assert "row 4, external_id: required in every row" in stderr
    assert "row 6, contact_consent: Input should be a valid boolean" in stderr
    assert "candidates from rows.csv: 3 created, 0 updated, 0 unchanged, 4 failed" in stderr
    stored = candidates_of(database_urls, agency_id)
    assert stored == {
        "ats-1": ("Amara", "amara@example.com", "+44 7700 900123", True, 1),
        "ats-2": ("Jon", "jon@example.com", None, False, 1),
        "ats-7": ("Zoë", "zoe@example.com", None, True, 1),
    }
    # The same events as over HTTP, by the system (no user).
    assert events_of(database_urls, agency_id) == [("candidate.created", None)] * 3

    # The same file again: nothing new, nothing changed.
    code, again, _ = import_file(invoke, "candidates", path, agency_id)
    assert code == 1
    assert {k: again[k] for k in ("created", "updated", "unchanged", "failed")} == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "failed": 4,
    }
    assert candidates_of(database_urls, agency_id) == stored
    assert len(events_of(database_urls, agency_id)) == 3

    # A changed row replaces the candidate (fields left blank are reset, as `PUT` does).
    changed = write(
        tmp_path,
        CANDIDATES_HEADER + "ats-1,Amara,Okafor-Reyes,amara@example.com,,true,\n",
        "changed.csv",
    )
    code, third, stderr = import_file(invoke, "candidates", changed, agency_id)
    assert code == 0, stderr
    assert (third["created"], third["updated"], third["unchanged"], third["failed"]) == (0, 1, 0, 0)
    assert third["errors"] == []
    assert candidates_of(database_urls, agency_id)["ats-1"] == (
        "Amara",
        "amara@example.com",
        None,
        True,
        2,
    )
    assert events_of(database_urls, agency_id)[-1] == ("candidate.updated", None)


def test_import_clients(
    invoke: Invoke, database_urls: DatabaseUrls, agency_id: str, tmp_path: Path
) -> None:
    # A byte-order mark (spreadsheets write one), columns in any order, surrounding spaces.
    path = tmp_path / "clients.csv"
    path.write_bytes(
        "\ufeffname,external_id\nHarbour Logistics, crm-1 \nNorthwind,crm-2\n".encode()
    )

    code, report, stderr = import_file(invoke, "clients", path, agency_id)

    assert code == 0, stderr
    assert report == {"created": 2, "updated": 0, "unchanged": 0, "failed": 0, "errors": []}
    names = as_runtime(
        database_urls, agency_id, "SELECT external_id, name FROM client ORDER BY external_id"
    )
    assert names == [("crm-1", "Harbour Logistics"), ("crm-2", "Northwind")]
    code, again, _ = import_file(invoke, "clients", path, agency_id)
    assert (code, again["created"], again["unchanged"]) == (0, 0, 2)


def test_a_row_with_too_many_or_too_few_cells_is_an_error(
    invoke: Invoke, database_urls: DatabaseUrls, agency_id: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "external_id,name\ncrm-1,Acme,extra\ncrm-2\ncrm-3,Fine\n")
    code, report, stderr = import_file(invoke, "clients", path, agency_id)
    assert code == 1
    assert report["errors"] == [
        {"row": 2, "field": "", "message": "has 3 cells; the header has 2"},
        {"row": 3, "field": "", "message": "has 1 cells; the header has 2"},
    ]
    assert "row 2: has 3 cells; the header has 2" in stderr
    assert as_runtime(database_urls, agency_id, "SELECT external_id FROM client") == [("crm-3",)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"external_id,name\ncrm-1,Caf\xe9\n",
            "rows.csv is not UTF-8 (byte 26); save it as CSV UTF-8",
        ),
        (b"", "rows.csv is empty (expected a header row)"),
        (b"external_id\ncrm-1\n", "missing required columns: name"),
        (b"name\nAcme\n", "missing required columns: external_id"),
        (
            b"external_id,name,vat\ncrm-1,Acme,GB1\n",
            "unknown columns: 'vat' (known: external_id, name)",
        ),
        (b"external_id,name,name\ncrm-1,A,B\n", "columns named twice: name"),
        (
            b'external_id,name\ncrm-1,"Acme"Ltd\n',
            "rows.csv is not valid CSV: ',' expected after '\"'",
        ),
    ],
)
def test_an_unreadable_file_is_refused_whole(
    invoke: Invoke,
    database_urls: DatabaseUrls,
    agency_id: str,
    tmp_path: Path,
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(content)
    result = invoke("import", "clients", str(path), "--agency", agency_id)
    assert result.exit_code == 1
    assert one_line(result) == f"afterview: {message}"
    assert result.stdout == ""
    assert as_runtime(database_urls, agency_id, "SELECT count(*) FROM client") == [(0,)]


def test_import_needs_a_known_agency(invoke: Invoke, tmp_path: Path) -> None:
    path = write(tmp_path, "external_id,name\ncrm-1,Acme\n")
    unknown = "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10"
    result = invoke("import", "clients", str(path), "--agency", unknown)
    assert result.exit_code == 1
    assert one_line(result) == f"afterview: no agency with id {unknown}"
    malformed = invoke("import", "clients", str(path), "--agency", "acme")
    assert malformed.exit_code == 1
    assert one_line(malformed) == "afterview: not an agency id: acme (see `afterview agency list`)"


def test_import_help_names_every_column(invoke: Invoke) -> None:
    from app.imports.service import KINDS

    for kind_name, kind in KINDS.items():
        result = invoke("import", kind_name, "--help")
        assert result.exit_code == 0
        for column in kind.columns:
            assert column in result.stdout, (kind_name, column)
