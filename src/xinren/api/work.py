"""The unit of work of an HTTP request (see `xinren.unit_of_work`), as ASGI middleware.

Each request runs in one transaction that this middleware owns: routes never commit. The
response is held back until the transaction has committed, so a client never sees a success
that was then rolled back; an error answer (4xx, 5xx) rolls everything back unless the error
was raised with ``keep``. When the database asks for it (a deadlock, a serialization conflict,
a duplicate committed by a concurrent request under the same key) the whole request runs
again from the start with the same body, and the client only sees the last run's answer.
Every exception ends as an RFC 9457 problem here: no driver error and no bug reaches a client
as a bare 500 or a closed connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

from anyio import to_thread
from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinren.api.threads import ending_threads
from xinren.errors import XinrenError
from xinren.unit_of_work import Work, attempts_for, backoff

STATE_KEY = "xinren_work"
PROBLEM_JSON = "application/problem+json"


def work_of(request: Request) -> Work:
    """The running unit of work of `request` (set by `UnitOfWork`)."""
    work = request.scope.get("state", {}).get(STATE_KEY)
    if not isinstance(work, Work):
        raise RuntimeError("UnitOfWork middleware is not installed on this app")
    return work


class _Reply:
    """A response held back until the transaction's fate is known."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.body: list[bytes] = []

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start else 500

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))

    async def flush(self, send: Send) -> None:
        if self.start is None:
            raise RuntimeError("the application sent no response")
        await send(self.start)
        await send({"type": "http.response.body", "body": b"".join(self.body)})


def problem_message(err: XinrenError, path: str) -> tuple[Message, bytes]:
    """The start message and body of `err` as problem+json (with Retry-After when given)."""
    import json

    body = json.dumps(err.problem(path), ensure_ascii=False, default=str).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    retry_after = err.extra.get("retry_after")
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    return {"type": "http.response.start", "status": err.status, "headers": headers}, body


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class UnitOfWork:
    """Pure ASGI middleware: one transaction per request, committed before the answer leaves.

    Commits and rollbacks run in threads of their own limiter, never in the routes' pool: a
    transaction whose route is done holds its locks until it commits, and the routes that wait
    for those locks may hold every thread of the routes' pool. Sharing it, the commit would
    wait for a thread that only its own commit can free.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        factory: sessionmaker[Session] = scope["app"].state.session_factory
        body = await _read_body(receive)
        attempt = 1
        while True:
            work = Work(factory)
            reply = _Reply()
            state = {**scope.get("state", {}), STATE_KEY: work}
            try:
                await self.app({**scope, "state": state}, _replay(body, receive), reply.send)
                if reply.status < 400:
                    await to_thread.run_sync(work.commit, limiter=ending_threads())
                else:  # the route answered with an error itself: nothing it did stays
                    await to_thread.run_sync(work.rollback, limiter=ending_threads())
            except Exception as exc:
                err = await to_thread.run_sync(work.fail, exc, limiter=ending_threads())
                if attempt < attempts_for(err):
                    await asyncio.sleep(backoff(attempt))
                    attempt += 1
                    continue
                start, payload = problem_message(err, scope.get("path", ""))
                await send(start)
                await send({"type": "http.response.body", "body": payload})
                return
            await reply.flush(send)
            return


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the buffered body to each run, then listens to the client."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return dict(await receive())

    return replay
