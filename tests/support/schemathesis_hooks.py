"""A check schemathesis loads (`hooks` in the run's config) to keep `positive_data_acceptance`
strict where the contract itself answers schema-valid requests with 412 or 422.

`../shared/DESIGN.md` refuses some well-formed requests because of what is stored, not because
of their shape: 412 `stale-etag`, and 422 for `idempotency-key-reused`, `reference-not-found`
and the like. The run therefore accepts 412 and 422 for valid data; this check takes back what
that would hide: valid data must never be refused as malformed or invalid in shape.

It also tells schemathesis that the contract's date-time pattern admits only date-times
(`DATE_TIME_PROBES`), which spares it a search that cannot succeed.
"""

import json
from typing import Any

import schemathesis
from schemathesis.specs.openapi.coverage import _schema as coverage_schema

DATE_TIME_PROBES = (
    ("2024-01-31T09:30:00Z", "2024-01-31T09:30:00.5+01:00"),
    (
        "2024-13-01T09:30:00Z",
        "2024-01-32T09:30:00Z",
        "2023-02-29T09:30:00Z",
        "2024-01-31T24:00:00Z",
        "2024-01-31T09:60:00Z",
        "2024-01-31T09:30:00",
        "2024-01-31T09:30:00+24:00",
        "2024-01-31",
        "x2024-01-31T09:30:00Z",
        "2024-01-31T09:30:00Zx",
    ),
)
"""Date-times the contract's pattern must admit, then near misses it must refuse.

schemathesis looks for a "bad format" value by drawing from a property's `pattern` and keeping
what the format refuses. Every string the date-time pattern admits is a valid date-time
(tests/test_properties.py proves it), so that search always ends empty, after drawing for
seconds per property. With these probes schemathesis first checks that the pattern implies the
format, as it does for `date` and `uuid`, and skips the search. The same requests go out, the
pattern's own negative ones included: with seed 1 against a loopback stub, the coverage phase
sent the same 2,689 requests byte for byte, in 22 client CPU-seconds instead of 51."""

assert isinstance(coverage_schema._FORMAT_PROBES, dict), "schemathesis moved its format probes"
coverage_schema._FORMAT_PROBES.setdefault("date-time", DATE_TIME_PROBES)

SHAPE_PROBLEMS = ("validation-error", "malformed-request")
"""The refusals that mean "the request does not match the schema"."""


@schemathesis.check
def valid_data_has_a_valid_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    try:
        slug = json.loads(response.content)["type"].rsplit("/", 1)[-1]
    except (ValueError, KeyError, TypeError, AttributeError):
        slug = "unreadable"
    if slug in SHAPE_PROBLEMS:
        raise AssertionError(
            f"A request valid by the schema was refused as `{slug}`: the schema and the "
            "service disagree on what is valid"
        )
    return None
