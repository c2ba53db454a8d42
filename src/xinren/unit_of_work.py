"""One unit of work per HTTP request, CLI command or timer: it begins one transaction, commits
it once at the end, translates every driver error into a Xinren error, and runs the whole unit
again (a bounded number of times) when the database says running it again will work.

Why here and not in each route: a use case that moves money may make several ledger calls and
touch several contexts; only the outermost caller knows where the unit ends, and only it can
run the unit again from the start after a deadlock (SQLSTATE 40P01) or a serialization failure
(40001), or after a concurrent request committed a row under the same idempotency key (23505:
the second run finds the first request's row and replays its result instead of refusing).

Locks are taken in one global order (see `LOCK_ORDER`): a use case that moves money for an
order locks the order row first (`orders.service.lock`), then the ledger locks holds and then
accounts, each in id order (`ledger.storage.load`, `ledger.service.lock_accounts`). Where a
transaction still meets a deadlock across calls, the retry here resolves it.

Driver errors never reach a caller as a bare 500: out-of-range numbers and characters the
database cannot store become 422, constraint violations 409, a lost connection 503, and
anything unforeseen a logged 500 problem.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from xinren.errors import (
    Busy,
    ConcurrentRequest,
    Conflict,
    InternalError,
    Unavailable,
    ValidationFailed,
    XinrenError,
)

log = logging.getLogger("xinren.unit_of_work")
T = TypeVar("T")

#: how many times a unit runs at most when the database asks for a retry
MAX_ATTEMPTS = 6
#: the global lock order, outermost first: a transaction never waits for a lock of an earlier
#: kind while it holds one of a later kind, and within a kind it locks in ascending id
LOCK_ORDER = ("orders", "recovery_claims", "ledger_holds", "ledger_accounts")

_RETRY_STATES = {"40001": "a serialization conflict", "40P01": "a deadlock"}
_BUSY_STATES = {"55P03": "a lock could not be had", "57014": "a statement ran out of time"}


def _sqlstate(err: BaseException) -> str | None:
    orig = err.orig if isinstance(err, DBAPIError) else err
    state = getattr(orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _constraint(err: BaseException) -> str | None:
    orig = err.orig if isinstance(err, DBAPIError) else err
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return name if isinstance(name, str) else None


def translate(err: BaseException) -> XinrenError:
    """The Xinren error a caller sees for `err` (a driver error, or a bug)."""
    if isinstance(err, XinrenError):
        return err
    state = _sqlstate(err)
    orig = err.orig if isinstance(err, DBAPIError) else err
    if state in _RETRY_STATES:
        return Busy(f"the database broke off this request because of {_RETRY_STATES[state]}")
    if state in _BUSY_STATES:
        return Busy(f"the database is busy: {_BUSY_STATES[state]}")
    if state == "23505":
        # A concurrent request committed a row with the same unique key; running again sees it.
        return ConcurrentRequest(
            "a concurrent request created the same record at the same time; retry to get its "
            "result",
            constraint=_constraint(err),
        )
    if state is not None and state.startswith("23"):
        return Conflict(
            "the request breaks a rule of the stored data"
            + (f" ({_constraint(err)})" if _constraint(err) else ""),
            constraint=_constraint(err),
        )
    if (state is not None and state.startswith("22")) or isinstance(
        orig, OverflowError | UnicodeEncodeError | sqlite3.DataError | _psycopg_data_error()
    ):
        return ValidationFailed(
            "a value in the request cannot be stored: a number out of range (ids and amounts "
            "are 64-bit integers) or a character such as NUL in a text"
        )
    if isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig):
        return Busy("the SQLite database is locked by another writer")
    if isinstance(orig, sqlite3.IntegrityError):
        if "UNIQUE" in str(orig):
            return ConcurrentRequest(
                "a record with the same unique key exists; retry to get its result"
            )
        return Conflict(f"the request breaks a rule of the stored data ({orig})")
    if (state is not None and state[:2] in ("08", "57", "53")) or (
        isinstance(err, DBAPIError) and err.connection_invalidated
    ):
        return Unavailable("the database cannot be reached; retry shortly")
    log.error("unexpected error", exc_info=err)
    return InternalError(
        "an internal error occurred; nothing was changed. It has been logged: retry, and report "
        "it if it happens again"
    )


def _psycopg_data_error() -> type[Exception]:
    """psycopg's DataError if psycopg is in use (a SQLite-only process never imports it)."""
    psycopg = sys.modules.get("psycopg")
    found = getattr(psycopg, "DataError", None)
    return found if isinstance(found, type) and issubclass(found, Exception) else _Never


class _Never(Exception):
    """Matches nothing: stands in for a driver's error class when the driver is not loaded."""


def attempts_for(err: XinrenError) -> int:
    """How many runs in all a unit gets when it fails with `err` (1: no retry)."""
    if not err.retryable:
        return 1
    # A key taken by a concurrent request needs one more run to see it; deadlocks may repeat.
    return 3 if isinstance(err, ConcurrentRequest) else MAX_ATTEMPTS


def backoff(attempt: int) -> float:
    """Seconds to wait before run `attempt + 1`: short, growing, jittered."""
    return random.uniform(0, 0.005 * 2**attempt)


class Work:
    """One run of a unit of work: a session in one transaction, opened when first asked for."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._factory()
            self._session.begin()
        return self._session

    def commit(self) -> None:
        """Commit what the unit did (and close); a failed commit raises its Xinren error."""
        if self._session is None:
            return
        try:
            self._session.commit()
        except Exception as err:
            self._abandon()
            raise translate(err) from err
        self._close()

    def fail(self, err: BaseException) -> XinrenError:
        """Roll back (or, for an error raised with `keep`, commit) and return what to report."""
        translated = translate(err)
        if translated.keep and self._session is not None:
            try:
                self.commit()
            except XinrenError as failed:
                return failed
            return translated
        self._abandon()
        return translated

    def rollback(self) -> None:
        """Undo everything the unit did (and close)."""
        self._abandon()

    def _abandon(self) -> None:
        if self._session is not None:
            try:
                self._session.rollback()
            finally:
                self._close()

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One run: commit if the block finishes, roll back if it raises (driver errors come out
    as Xinren errors). Use `run` to also run the block again when the database asks."""
    work = Work(factory)
    try:
        yield work.session
    except BaseException as err:
        if not isinstance(err, Exception):  # KeyboardInterrupt, SystemExit: just roll back
            work.fail(err)
            raise
        translated = work.fail(err)
        if translated is err:
            raise
        raise translated from err
    work.commit()


def run(factory: sessionmaker[Session], fn: Callable[[Session], T]) -> T:
    """Run `fn` in one transaction and commit; run it again from the start (up to
    `MAX_ATTEMPTS` in all) when the database reports a deadlock, a serialization conflict or
    a concurrent duplicate."""
    attempt = 1
    while True:
        try:
            with transaction(factory) as session:
                return fn(session)
        except XinrenError as err:
            if attempt >= attempts_for(err):
                raise
            time.sleep(backoff(attempt))
            attempt += 1
