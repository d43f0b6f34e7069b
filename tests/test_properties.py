"""Properties that hold for every input, not only for the examples the other tests pick: the
keyset cursor, local-day and due-time arithmetic, `updated_at` moving forward, the question
bank's normaliser, the follow-up word counter, and the OpenAPI date-time pattern."""

import base64
import json
import re
import string
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import jsonschema_rs
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from app.core.clock import add_local_days
from app.core.due import DEBRIEF, FOLLOW_UP, Deadline
from app.core.errors import InvalidCursor
from app.core.pagination import decode_values, encode_cursor
from app.core.schemas import INSTANT_PATTERN, Instant
from app.core.timestamps import TICK, later
from app.debriefs.service import normalize_question
from app.follow_ups.service import count_words
from app.models import Agency
from tests.support.date_time_probes import DATE_TIME_PROBES
from tests.support.problems import assert_problem
from tests.support.records import make_client
from tests.support.tenants import Tenant

ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
"""Agency time zones: daylight saving north and south, a half-hour offset, and none."""

instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)

# --- The keyset cursor ---------------------------------------------------------------------------

ORDER_KEYS: dict[type, st.SearchStrategy[Any]] = {
    datetime: st.datetimes(timezones=st.timezones(), allow_imaginary=False).filter(
        lambda d: datetime.min.replace(tzinfo=UTC) <= d <= datetime.max.replace(tzinfo=UTC)
    ),
    UUID: st.uuids(),
    int: st.integers(min_value=-(2**63), max_value=2**63 - 1),
    str: st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")),
}
"""What a list's order key holds: what PostgreSQL stores and hands back."""


@st.composite
def positions(draw: st.DrawFn) -> tuple[list[type], list[Any]]:
    types = draw(st.lists(st.sampled_from(list(ORDER_KEYS)), min_size=1, max_size=5))
    return types, [draw(ORDER_KEYS[kind]) for kind in types]


def same(a: Any, b: Any) -> bool:
    """Equal; for timestamps the same wall time and offset (PEP 495 makes `==` across time
    zones false around a fold, so compare what the cursor carries)."""
    if isinstance(a, datetime):
        return isinstance(b, datetime) and a.isoformat() == b.isoformat()
    return type(a) is type(b) and bool(a == b)


@given(positions())
def test_a_cursor_gives_back_the_position_it_was_made_from(
    position: tuple[list[type], list[Any]],
) -> None:
    types, values = position
    cursor = encode_cursor(values)
    assert set(cursor) <= set(string.ascii_letters + string.digits + "-_")  # safe in a URL
    decoded = decode_values(cursor, types)
    assert len(decoded) == len(values)
    assert all(same(a, b) for a, b in zip(decoded, values, strict=True)), decoded


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
forged_keys = st.one_of(
    st.integers(),
    st.booleans(),
    st.text(max_size=12),
    st.uuids().map(str),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # naive
    st.none(),
    st.lists(st.integers(), max_size=2),
)
forged_cursors = st.one_of(
    st.text(max_size=1024),  # the longest `cursor` a list accepts
    st.binary(max_size=768).map(b64),
    json_values.map(lambda value: b64(json.dumps(value).encode())),
    st.lists(forged_keys, min_size=1, max_size=5).map(lambda keys: b64(json.dumps(keys).encode())),
)


def decoded_or_refused(cursor: str, types: list[type]) -> list[Any] | InvalidCursor:
    try:
        return decode_values(cursor, types)
    except InvalidCursor as refused:
        return refused


def storable(value: Any, kind: type) -> bool:
    """A value of `kind` the database can compare a column with."""
    if kind is datetime:
        return isinstance(value, datetime) and value.utcoffset() is not None
    if kind is int:
        return type(value) is int and -(2**63) <= value < 2**63
    if kind is str:
        return isinstance(value, str) and "\x00" not in value and is_utf8(value)
    return isinstance(value, kind)


def is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


@example([int], b64(b"[" * 768))  # nested as deep as the longest cursor allows
@example([UUID], b64(b"[5]"))  # not a string
@example([datetime], b64(b'["0001-01-01T00:00:00+05:00"]'))  # before year 1 in UTC
@example([int], b64(b"[true]"))
@example([str], b64(b'["\\u0000"]'))
@example([str], b64(b'["\\ud800"]'))
@given(st.lists(st.sampled_from(list(ORDER_KEYS)), min_size=1, max_size=5), forged_cursors)
def test_a_forged_cursor_is_refused_or_names_a_storable_position(
    types: list[type], cursor: str
) -> None:
    decoded = decoded_or_refused(cursor, types)
    if isinstance(decoded, InvalidCursor):
        assert decoded.extensions["errors"] == [
            {"field": "cursor", "location": "query", "message": "not a cursor this list returned"}
        ]
        return
    assert len(decoded) == len(types)
    assert all(storable(v, t) for v, t in zip(decoded, types, strict=True)), decoded


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(keys=[2**40, "x"])
@example(keys=["9999-12-31T23:59:59-05:00", "a", 5, "00000000-0000-0000-0000-000000000000"])
@given(keys=st.lists(forged_keys, min_size=2, max_size=4))
async def test_a_list_answers_a_forged_cursor_with_a_page_or_the_cursor_problem(
    agency_a: Tenant, keys: list[Any]
) -> None:
    """Lists whose order key is not `(updated_at, id)`: the question bank, the worklist, the
    event feed, and a record list. Reads only, so one agency serves every example."""
    cursor = b64(json.dumps(keys).encode())
    bank = f"/v1/clients/{(await make_client(agency_a))['id']}/question-bank"
    for path, name, types in (
        (bank, "cursor", [int, str]),
        ("/v1/worklist", "cursor", [datetime, str, UUID, UUID]),
        ("/v1/events", "after", [int, UUID, datetime]),
        ("/v1/candidates", "cursor", [datetime, UUID]),
    ):
        response = await agency_a.admin.get(path, params={name: cursor})
        position = decoded_or_refused(cursor, types)
        if isinstance(position, InvalidCursor):
            assert_problem(response, 422, "cursor-invalid")
            continue
        kept = timedelta(days=agency_a.app.state.settings.event_retention_days)
        if path == "/v1/events" and position[2] < agency_a.app.state.clock.now() - kept:
            assert_problem(response, 410, "cursor-expired")
        else:
            assert response.status_code == 200, response.text


# --- Local days, due times, and `updated_at` ---------------------------------------------------


@given(instants, st.integers(min_value=0, max_value=400), st.sampled_from(ZONES))
def test_a_local_day_later_keeps_the_wall_clock_and_is_never_earlier(
    start: datetime, days: int, zone: str
) -> None:
    moved = add_local_days(start, days, zone)
    assert moved.tzinfo is UTC
    assert moved >= start
    local, local_moved = start.astimezone(ZoneInfo(zone)), moved.astimezone(ZoneInfo(zone))
    assert local_moved.date() == local.date() + timedelta(days=days) or in_a_gap(local, days)
    # The time of day is kept, unless it does not exist that day (the clocks jumped over it).
    if local_moved.time() != local.time():
        assert in_a_gap(local, days)
    # Elapsed time is whole days, give or take the day's daylight-saving change (at most 1 h).
    assert abs(moved - start - timedelta(days=days)) <= timedelta(hours=1)


def in_a_gap(local: datetime, days: int) -> bool:
    """Whether `local`'s wall time, `days` later, is one the clocks skip (spring forward)."""
    naive = local.replace(tzinfo=None) + timedelta(days=days)
    wall = naive.replace(tzinfo=local.tzinfo)
    return wall.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) != naive


@given(
    st.sampled_from(["Europe/London", "America/New_York"]),
    st.sampled_from([(3, 8), (3, 29), (10, 25), (11, 1)]),
    st.integers(min_value=2024, max_value=2030),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=1, max_value=3),
)
def test_a_chase_across_a_clock_change_keeps_its_local_hour(
    zone: str, month_day: tuple[int, int], year: int, hour: int, days: int
) -> None:
    """Around the spring and autumn changes of both zones (the second Sunday of March and the
    first of November in New York, the last Sundays of March and October in London)."""
    tz = ZoneInfo(zone)
    start = datetime(year, *month_day, hour, 30, tzinfo=tz).astimezone(UTC)
    local = start.astimezone(tz)
    moved = add_local_days(start, days, zone).astimezone(tz)
    if not in_a_gap(local, days):
        assert (moved.date(), moved.hour, moved.minute) == (
            local.date() + timedelta(days=days),
            local.hour,
            local.minute,
        )


@given(
    instants,
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
    st.sampled_from(ZONES),
)
def test_local_days_add_up_when_no_clock_change_is_skipped(
    start: datetime, first: int, then: int, zone: str
) -> None:
    local = start.astimezone(ZoneInfo(zone))
    if changing(local, first) or changing(local, first + then):
        return  # a wall time skipped or repeated: which hour it becomes depends on the path
    stepwise = add_local_days(add_local_days(start, first, zone), then, zone)
    assert stepwise == add_local_days(start, first + then, zone)


def changing(local: datetime, days: int) -> bool:
    """Whether `local`'s wall time, `days` later, falls in a clock change (a gap or a fold)."""
    wall = local.replace(tzinfo=None) + timedelta(days=days)
    offsets = {wall.replace(tzinfo=local.tzinfo, fold=fold).utcoffset() for fold in (0, 1)}
    return len(offsets) > 1


@given(instants, st.sampled_from([DEBRIEF, FOLLOW_UP]), st.integers(min_value=1, max_value=720))
def test_work_falls_due_the_agencys_hours_after_the_interview_ends(
    ends_at: datetime, deadline: Deadline, hours: int
) -> None:
    agency = Agency(**{deadline.setting.key: hours})
    due = deadline.at(ends_at, agency)
    assert due > ends_at
    assert due - ends_at == timedelta(hours=hours)


@given(st.none() | instants, instants)
def test_each_write_stamps_updated_at_strictly_later_and_never_before_now(
    previous: datetime | None, now: datetime
) -> None:
    stamped = later(previous, now)
    assert stamped >= now
    if previous is not None:
        assert stamped > previous
        assert stamped == max(now, previous + TICK)  # no further than it must
    else:
        assert stamped == now


# --- The question bank's normaliser -----------------------------------------------------------

questions = st.text(max_size=200)
spacing = st.text(" \t\n\r\u00a0\u2003", min_size=1, max_size=3)
words = st.text(st.characters(exclude_categories=["Z", "Cc", "Cs"]), min_size=1, max_size=12)
ending = st.text("?.!:; ", max_size=4)


@given(questions)
def test_normalising_twice_changes_nothing(text: str) -> None:
    assert normalize_question(normalize_question(text)) == normalize_question(text)


@given(questions)
def test_a_normalised_question_is_lower_case_single_spaced_and_trimmed(text: str) -> None:
    normal = normalize_question(text)
    assert normal == normal.lower()
    assert normal == normal.strip()
    assert "  " not in normal
    assert not any(c.isspace() and c != " " for c in normal)
    assert not normal.endswith(tuple("?.!:; "))


@given(st.lists(words, min_size=1, max_size=8), st.data())
def test_spacing_and_end_punctuation_do_not_make_a_new_question(
    parts: list[str], data: st.DataObject
) -> None:
    plain = normalize_question(" ".join(parts))
    gaps = [data.draw(spacing) for _ in parts]
    spaced = data.draw(spacing) + "".join(p + g for p, g in zip(parts, gaps, strict=True))
    assert normalize_question(spaced + data.draw(ending)) == plain


ascii_letters_and_marks = st.text(string.ascii_letters + string.digits + " ,'-()?", max_size=80)


@given(ascii_letters_and_marks)
def test_case_does_not_make_a_new_question(text: str) -> None:
    """Within ASCII: `lower()` is not Unicode case folding (`ß` and `SS` stay apart)."""
    assert normalize_question(text.upper()) == normalize_question(text.lower())
    assert normalize_question(text.swapcase()) == normalize_question(text)


@given(questions)
def test_lower_case_input_normalises_the_same(text: str) -> None:
    assert normalize_question(text.lower()) == normalize_question(text)


# --- The follow-up word counter ---------------------------------------------------------------

notes = st.text(max_size=300)


@given(notes)
def test_a_word_count_is_never_negative_and_at_most_the_characters(text: str) -> None:
    assert 0 <= count_words(text) <= len(text)


@given(st.text(" \t\n\r\f\v\u00a0\u2003\u3000", max_size=50))
def test_whitespace_alone_is_no_words(text: str) -> None:
    assert count_words(text) == 0


@given(notes, notes)
def test_word_counts_add_up_over_notes_joined_by_a_space(first: str, second: str) -> None:
    assert count_words(first + " " + second) == count_words(first) + count_words(second)


@given(st.lists(words, max_size=40), st.data())
def test_each_word_counts_once_however_it_is_spaced(parts: list[str], data: st.DataObject) -> None:
    text = "".join(data.draw(spacing) + part for part in parts) + data.draw(spacing)
    assert count_words(text) == len(parts)


@given(notes)
def test_spacing_a_note_differently_keeps_its_count(text: str) -> None:
    assert count_words(" ".join(text.split())) == count_words(text)
    assert count_words("\n\n" + text.replace(" ", "\t  ") + "  ") == count_words(text)


# --- The OpenAPI document's date-time pattern -------------------------------------------------

DATE_TIME_FORMAT = jsonschema_rs.validator_for(
    {"type": "string", "format": "date-time"}, validate_formats=True
)
"""The `date-time` format as schemathesis checks it (jsonschema-rs)."""

INSTANT = TypeAdapter(Instant)
"""The service's own reading of an instant in a request."""


@given(st.from_regex(INSTANT_PATTERN, fullmatch=True))
def test_every_string_the_date_time_pattern_admits_is_a_date_time_the_api_accepts(
    text: str,
) -> None:
    """What tests/support/schemathesis_hooks.py relies on to skip the search for a value that
    matches the pattern but breaks the format: there is none."""
    assert DATE_TIME_FORMAT.is_valid(text)
    assert INSTANT.validate_python(text).tzinfo is not None


def test_the_date_time_probes_are_what_they_claim() -> None:
    admitted, near_misses = DATE_TIME_PROBES
    assert all(DATE_TIME_FORMAT.is_valid(value) for value in admitted)
    assert all(re.fullmatch(INSTANT_PATTERN, value) for value in admitted)
    assert not any(DATE_TIME_FORMAT.is_valid(value) for value in near_misses)
    assert not any(re.search(INSTANT_PATTERN, value) for value in near_misses)
