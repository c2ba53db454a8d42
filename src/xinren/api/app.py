"""The FastAPI application: routers, RFC 9457 error bodies, a request-size limit."""

from __future__ import annotations

import os
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from xinren import __version__
from xinren.api import threads as route_threads
from xinren.api.inputs import check_request
from xinren.api.work import UnitOfWork
from xinren.clock import Clock, SystemClock
from xinren.db import make_engine, session_factory
from xinren.documents.store import FileStore
from xinren.errors import PROBLEM_BASE, RequestTooLarge

MAX_BODY_BYTES = 8 * 1024 * 1024
PROBLEM_JSON = "application/problem+json"


def problem_response(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=int(body["status"]), media_type=PROBLEM_JSON)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


class BodySizeLimit:
    """Refuse bodies over `MAX_BODY_BYTES` (by header, or while streaming) with a 413."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        err = RequestTooLarge(f"request bodies are limited to {self.limit} bytes")
        await problem_response(err.problem(scope.get("path")))(scope, receive, send)


class _TooLarge(Exception):
    """Raised inside the body stream once the limit is passed; answered with a 413."""


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request the routes' models refuse: 422, naming every field and why."""
    errors = [{"field": _field(tuple(e["loc"])), "detail": e["msg"]} for e in exc.errors()]
    first = errors[0] if errors else {"field": "body", "detail": "invalid"}
    return problem_response(
        {
            "type": PROBLEM_BASE + "validation-failed",
            "title": "The request is not valid",
            "status": 422,
            "detail": f"{first['field']}: {first['detail']}",
            "instance": request.url.path,
            "errors": errors,
        }
    )


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own errors (no such path, method not allowed) as problem bodies too."""
    return problem_response(
        {
            "type": "about:blank",
            "title": str(exc.detail),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
    )


def _healthz() -> dict[str, str | int]:
    # the pid tells `xinren serve --workers N`'s worker processes apart
    return {"status": "ok", "version": __version__, "pid": os.getpid()}


def create_app(
    engine: Engine | None = None,
    clock: Clock | None = None,
    sessions: sessionmaker[Session] | None = None,
    store: FileStore | None = None,
    threads: int | None = None,
) -> FastAPI:
    """Build the app on `engine` (default: from XINREN_DATABASE_URL) and `clock`.

    `sessions` overrides where requests get their sessions (tests bind them to a savepoint);
    `store` is the evidence file store (default: XINREN_DOCUMENT_DIR); `threads` the size of
    the pool of threads the routes run in (`api/threads.py`; default 40).
    """
    from xinren.api.routes import routers

    if threads is not None:
        route_threads.configure(threads)
    app = FastAPI(
        title="Xinren",
        version=__version__,
        description="Trust infrastructure for live-stream and social commerce.",
        # values no database can store are refused, naming the field, before any route runs
        dependencies=[Depends(check_request)],
    )
    if sessions is None:
        sessions = session_factory(engine or make_engine())
    app.state.session_factory = sessions
    app.state.clock = clock or SystemClock()
    app.state.store = store or FileStore()

    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(StarletteHTTPException)(_http)
    app.get("/healthz", include_in_schema=False)(_healthz)
    for router in routers():
        app.include_router(router)
    # Xinren's own errors and the database's are answered by the unit of work, which decides
    # the transaction's fate first (commit, roll back, or run the request again).
    app.add_middleware(UnitOfWork)
    app.add_middleware(BodySizeLimit)  # outermost: too large a body is refused before any work
    return app


def create_app_from_env() -> FastAPI:
    """The app of one `xinren serve` worker (uvicorn's `factory=True`).

    Workers are separate processes: each builds its app, and its own pool of connections, from
    the environment: XINREN_DATABASE_URL, XINREN_DOCUMENT_DIR, and XINREN_DB_POOL_SIZE and
    XINREN_DB_MAX_OVERFLOW (set by `xinren serve` to the worker's share; else the defaults),
    XINREN_THREADS (the routes' thread pool; `xinren serve` sets it to the worker's pool).
    """
    options: dict[str, int] = {}
    for name, option in (
        ("XINREN_DB_POOL_SIZE", "pool_size"),
        ("XINREN_DB_MAX_OVERFLOW", "max_overflow"),
    ):
        if value := os.environ.get(name, "").strip():
            options[option] = int(value)
    threads = os.environ.get("XINREN_THREADS", "").strip()
    return create_app(make_engine(None, **options), threads=int(threads) if threads else None)
