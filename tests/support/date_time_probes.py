"""What tells schemathesis that the contract's date-time pattern admits only date-times
(registered by tests/support/schemathesis_hooks.py; checked by tests/test_properties.py)."""

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
