"""Walking an exception's chain: what it wraps (`raise … from`) or was raised while handling."""

from collections.abc import Iterator


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, then each exception beneath it (`__cause__`, else `__context__`), once each."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
