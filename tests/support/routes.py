"""The app's own route table, flattened (FastAPI keeps included routers nested)."""

from collections.abc import Iterable, Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    yield from _walk(app.routes)


def _walk(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from _walk(included.routes)
