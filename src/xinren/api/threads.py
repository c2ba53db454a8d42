"""Where the routes run: sync route functions (the services are sync, on a sync Session) run in
threads of a pool of their own, and everything after them runs on the event loop.

Why not FastAPI's default for sync routes: it runs the route, and afterwards the validation and
serialisation of its response, in anyio's one default pool (40 threads). A request whose route
is done still holds its row locks until its answer is serialised and its transaction committed;
in a flash sale the 40 threads can all be taken by routes waiting for exactly those locks (41
orders of one listing at once), and then nothing moves again: the lock holder waits for a
thread, the threads wait for the lock. Here the route function is wrapped as a coroutine that
runs it in a thread of `route_threads`, so FastAPI serialises the response on the loop, and the
unit of work commits in threads of its own (`api/work.py`): a request that has its locks never
waits for a thread again.

The pool's size is `configure(threads=...)` (`XINREN_THREADS`; `xinren serve` sets it to the
worker's connection pool, since a route beyond it only waits for a connection).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter

#: threads a worker's routes run in (anyio's own default)
DEFAULT_THREADS = 40
_size = [DEFAULT_THREADS]
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def configure(threads: int) -> None:
    """Set the size of the routes' pool (before the first request)."""
    if threads < 1:
        raise ValueError(f"threads is at least 1, got {threads}")
    _size[0] = threads


#: threads that end transactions (commit, roll back): as many as connections may be open
ENDING_THREADS = 64
_ending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _of_loop(
    pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter], size: int
) -> CapacityLimiter:
    """The pool in `pools` of the running event loop (each worker's loop has its own)."""
    loop = asyncio.get_running_loop()
    limiter = pools.get(loop)
    if limiter is None:
        limiter = pools[loop] = CapacityLimiter(size)
    return limiter


def route_threads() -> CapacityLimiter:
    """The routes' pool of the running event loop."""
    return _of_loop(_limiters, _size[0])


def ending_threads() -> CapacityLimiter:
    """The pool the unit of work commits and rolls back in (`api/work.py`): never the routes',
    whose threads may all be waiting for the locks a commit would release."""
    return _of_loop(_ending, ENDING_THREADS)


def in_route_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint` as a coroutine that runs it in a thread of `route_threads` (a coroutine
    endpoint is returned as it is). FastAPI reads the parameters and the response model from
    the wrapped function (`functools.wraps` keeps them)."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        call = functools.partial(endpoint, *args, **kwargs)
        return await to_thread.run_sync(call, limiter=route_threads())

    return run


class Router(APIRouter):
    """An APIRouter whose sync routes run in `route_threads` (every Xinren router is one)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, in_route_thread(endpoint), **kwargs)
