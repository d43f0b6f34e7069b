"""structlog set-up: readable lines in a terminal, JSON lines everywhere else (files, pipes,
containers), on standard error. Standard-library loggers (uvicorn, SQLAlchemy) go the same way.

A request's lines carry its `request_id` (bound by the request middleware) and, once the caller
is known, `agency_id` and `user_id` or `api_key_id` (bound by `bind_principal`).
"""

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal
from uuid import UUID

import structlog
from starlette.requests import Request

PRINCIPAL_KEYS = ("agency_id", "user_id", "api_key_id")
LOG_FIELDS_STATE = "log_fields"
"""Where a request's principal fields wait in `request.state`, for its access line."""


class _StderrLogger:
    """Writes each line to whatever `sys.stderr` is at the time (a test may swap it)."""

    def msg(self, message: str) -> None:
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


_quiet: ContextVar[bool] = ContextVar("quiet_logs", default=False)


@contextmanager
def quiet() -> Iterator[None]:
    """Within the block, only warnings and errors are logged (the demo seed's hundreds of
    in-process requests would bury the start-up lines)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def _drop_when_quiet(_logger: Any, method: str, event: Any) -> Any:
    if _quiet.get() and method in ("debug", "info"):
        raise structlog.DropEvent
    return event


def _stderr_logger(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def wants_json(json_lines: bool | Literal["auto"]) -> bool:
    """`auto`: JSON unless standard error is a terminal."""
    if isinstance(json_lines, bool):
        return json_lines
    return not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def configure_logging(
    *, json_lines: bool | Literal["auto"] = "auto", level: int = logging.INFO
) -> None:
    as_json = wants_json(json_lines)
    shared: list[structlog.types.Processor] = [
        _drop_when_quiet,
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        # Colours only on a terminal. No local variables in tracebacks: they hold credentials
        # and personal data.
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
        )
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(shared, renderer)


class _OurHandler(logging.Handler):
    """The root handler installed here (replaced, not stacked, when configured again); like
    our own lines, it writes to whatever `sys.stderr` is at the time."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # logging must never break the caller
            self.handleError(record)


def _route_standard_logging(
    shared: list[structlog.types.Processor], renderer: structlog.types.Processor
) -> None:
    """Warnings and errors of standard-library loggers, rendered like our own lines."""
    handler = _OurHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def bind_principal(
    request: Request, agency_id: UUID, user_id: UUID | None, api_key_id: UUID | None
) -> None:
    """From here on, the request's log lines (and its access line) name the caller."""
    fields = {"agency_id": str(agency_id)}
    if user_id is not None:
        fields["user_id"] = str(user_id)
    if api_key_id is not None:
        fields["api_key_id"] = str(api_key_id)
    structlog.contextvars.bind_contextvars(**fields)
    setattr(request.state, LOG_FIELDS_STATE, fields)


def forget_principal() -> None:
    structlog.contextvars.unbind_contextvars(*PRINCIPAL_KEYS)
