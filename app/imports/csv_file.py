"""Reading an import file: UTF-8 CSV with a header row naming known columns."""

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; the message is one line."""


@dataclass(frozen=True)
class Row:
    number: int
    """The row's number as a spreadsheet shows it: the header is row 1."""
    values: dict[str, str]
    """Column → cell, every column of the header present (blank cells are "")."""
    width_error: str | None = None
    """Set when the row has more or fewer cells than the header."""


def read_rows(path: Path, *, required: Collection[str], known: Collection[str]) -> list[Row]:
    """Every data row of `path`, or `UnreadableFile` before anything is imported."""
    text = _decoded(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise UnreadableFile(f"{path.name} is empty (expected a header row)")
        columns = _checked_header([cell.strip() for cell in header], required, known)
        return [_row(number, columns, cells) for number, cells in enumerate(reader, 2) if cells]
    except csv.Error as exc:
        raise UnreadableFile(f"{path.name} is not valid CSV: {exc}") from None


def _decoded(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (spreadsheets write one) is fine
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{path.name} is not UTF-8 (byte {exc.start}); save it as CSV UTF-8"
        ) from None


def _checked_header(
    columns: list[str], required: Collection[str], known: Collection[str]
) -> list[str]:
    if missing := [c for c in required if c not in columns]:
        raise UnreadableFile(f"missing required columns: {', '.join(missing)}")
    if unknown := [c for c in columns if c not in known]:
        raise UnreadableFile(
            f"unknown columns: {', '.join(map(repr, unknown))} (known: {', '.join(known)})"
        )
    if len(set(columns)) != len(columns):
        twice = sorted({c for c in columns if columns.count(c) > 1})
        raise UnreadableFile(f"columns named twice: {', '.join(twice)}")
    return columns


def _row(number: int, columns: list[str], cells: list[str]) -> Row:
    width_error = None
    if len(cells) != len(columns):
        width_error = f"has {len(cells)} cells; the header has {len(columns)}"
    padded = cells + [""] * (len(columns) - len(cells))
    return Row(number, dict(zip(columns, padded, strict=False)), width_error)
