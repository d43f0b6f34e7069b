"""A check schemathesis loads (`hooks` in the run's config) to keep `positive_data_acceptance`
strict where the contract itself answers schema-valid requests with 412 or 422.

`../shared/DESIGN.md` refuses some well-formed requests because of what is stored, not because
of their shape: 412 `stale-etag`, and 422 for `idempotency-key-reused`, `reference-not-found`
and the like. The run therefore accepts 412 and 422 for valid data; this check takes back what
that would hide: valid data must never be refused as malformed or invalid in shape.

It also tells schemathesis that the contract's date-time pattern admits only date-times
(tests/support/date_time_probes.py), which spares it a search that cannot succeed.
"""

import json
from typing import Any

import schemathesis
from schemathesis.specs.openapi.coverage import _schema as coverage_schema

from tests.support.date_time_probes import DATE_TIME_PROBES

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
