"""Every dependency a route takes is a coroutine function: FastAPI runs a plain `def` in a
worker thread, a hop that costs each request more than the work it does."""

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from tests.support.routes import api_routes


def dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from dependants(sub)


def is_async(call: Any) -> bool:
    """A coroutine or async generator function, or an object whose `__call__` is one."""
    function = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def test_every_route_and_dependency_is_async(app: FastAPI) -> None:
    blocking = sorted(
        {
            f"{route.path}: {getattr(sub.call, '__qualname__', sub.call)}"
            for route in api_routes(app)
            for sub in [route.dependant, *dependants(route.dependant)]
            if sub.call is not None and not is_async(sub.call)
        }
    )
    assert blocking == []
