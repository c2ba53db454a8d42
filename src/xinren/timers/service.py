"""Schedule timers, and run the due ones exactly once even when several runners race.

A runner claims one due row at a time, runs its handler and marks the row done in the same
transaction, so the action and the "done" mark commit together or not at all. On PostgreSQL the
claim uses ``FOR UPDATE SKIP LOCKED`` (racing runners take different rows); on SQLite the write
lock taken by ``BEGIN IMMEDIATE`` serialises runners. Handlers must also be idempotent by key
(the ledger's are), which makes a crash between the two impossible to observe twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.timers.model import Timer, TimerStatus, retry_at
from xinren.timers.tables import timers

Handler = Callable[[Session, Clock, Timer], None]
_HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs timers of `kind`."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


def _row(
    kind: str, subject: str, due_at: datetime, payload: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    return dict(
        kind=kind,
        subject=subject,
        due_at=due_at,
        status=TimerStatus.PENDING.value,
        payload=payload,
        created_at=now,
    )


def schedule(
    session: Session,
    clock: Clock,
    kind: str,
    subject: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> int:
    row = _row(kind, subject, due_at, payload, clock.now())
    return int(session.execute(timers.insert().returning(timers.c.id), row).scalar_one())


def cancel(session: Session, kind: str, subject: str) -> int:
    """Cancel the pending timers of `kind` for `subject`; returns how many."""
    res = session.execute(
        update(timers)
        .where(timers.c.kind == kind, timers.c.subject == subject)
        .where(timers.c.status == TimerStatus.PENDING.value)
        .values(status=TimerStatus.CANCELLED.value)
    )
    return int(res.rowcount)  # type: ignore[attr-defined]


def reschedule(session: Session, kind: str, subject: str, due_at: datetime) -> int:
    res = session.execute(
        update(timers)
        .where(timers.c.kind == kind, timers.c.subject == subject)
        .where(timers.c.status == TimerStatus.PENDING.value)
        .values(due_at=due_at)
    )
    return int(res.rowcount)  # type: ignore[attr-defined]


def pending(session: Session, kind: str | None = None) -> list[Timer]:
    q = select(timers).where(timers.c.status == TimerStatus.PENDING.value)
    if kind:
        q = q.where(timers.c.kind == kind)
    return [_timer(r) for r in session.execute(q.order_by(timers.c.due_at, timers.c.id))]


def _timer(row: Any) -> Timer:
    return Timer(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        due_at=row.due_at,
        status=TimerStatus(row.status),
        attempts=row.attempts,
        payload=row.payload,
    )


def _claim(session: Session, now: datetime) -> Timer | None:
    q = (
        select(timers)
        .where(timers.c.status == TimerStatus.PENDING.value, timers.c.due_at <= now)
        .order_by(timers.c.due_at, timers.c.id)
        .limit(1)
    )
    if is_postgres(session):
        q = q.with_for_update(skip_locked=True)
    row = session.execute(q).first()
    return _timer(row) if row else None


def run_due(factory: sessionmaker[Session], clock: Clock, limit: int = 10_000) -> int:
    """Run up to `limit` due timers, each in its own unit of work; returns how many ran.

    A timer whose handler meets a deadlock is run again at once (`unit_of_work.run`); one whose
    handler fails otherwise is put back with a growing delay, and given up after enough tries.
    """
    from xinren.unit_of_work import run

    ran = 0
    while ran < limit:
        now = clock.now()
        claimed: list[Timer] = []

        def one(session: Session, now: datetime = now, claimed: list[Timer] = claimed) -> bool:
            claimed.clear()
            timer = _claim(session, now)
            if timer is None:
                return False
            claimed.append(timer)
            fn = _HANDLERS.get(timer.kind)
            if fn is None:
                raise LookupError(f"no handler registered for timer kind {timer.kind!r}")
            # Mark it done first: the mark and the action commit together or not at all.
            done = session.execute(
                update(timers)
                .where(timers.c.id == timer.id)
                .where(timers.c.status == TimerStatus.PENDING.value)
                .values(status=TimerStatus.DONE.value, done_at=now)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                fn(session, clock, timer)
            return True

        try:
            if not run(factory, one):
                return ran
        except Exception as err:
            if not claimed:
                raise
            # operators read the original error (the unit of work's translation hides it)
            _record_failure(factory, claimed[0].id, now, err.__cause__ or err)
        ran += 1
    return ran


def _record_failure(
    factory: sessionmaker[Session], timer_id: int, now: datetime, err: BaseException
) -> None:
    from xinren.unit_of_work import transaction

    with transaction(factory) as session:
        row = session.execute(select(timers).where(timers.c.id == timer_id)).one()
        attempts = row.attempts + 1
        again = retry_at(now, attempts)
        session.execute(
            update(timers)
            .where(timers.c.id == timer_id)
            .values(
                attempts=attempts,
                last_error=f"{type(err).__name__}: {err}"[:2000],
                status=TimerStatus.PENDING.value if again else TimerStatus.FAILED.value,
                due_at=again or row.due_at,
            )
        )


def schedule_many(
    session: Session, clock: Clock, kind: str, due: Sequence[tuple[str, datetime]]
) -> None:
    """Schedule one timer of `kind` per ``(subject, due_at)``, in one statement."""
    now = clock.now()
    session.execute(timers.insert(), [_row(kind, subject, at, None, now) for subject, at in due])


def schedule_once(
    session: Session, clock: Clock, kind: str, subjects: Sequence[str], due_at: datetime
) -> list[str]:
    """Schedule a timer of `kind` at `due_at` for each of `subjects` that has none pending
    (a debounce: a burst of triggers makes one run); returns the subjects scheduled. On
    PostgreSQL a pending timer that a runner holds right now counts as none (SKIP LOCKED):
    it may already have read what triggered this call, so another run is scheduled."""
    wanted = sorted(set(subjects))
    if not wanted:
        return []
    q = select(timers.c.subject).where(
        timers.c.kind == kind,
        timers.c.status == TimerStatus.PENDING.value,
        timers.c.subject.in_(wanted),
    )
    if is_postgres(session):
        q = q.with_for_update(skip_locked=True)
    pending = set(session.execute(q).scalars())
    missing = [s for s in wanted if s not in pending]
    if missing:
        schedule_many(session, clock, kind, [(s, due_at) for s in missing])
    return missing


def next_due(kind: str, subject: Any) -> Any:
    """When the earliest pending timer of `kind` for `subject` is due (NULL if none), as a
    scalar subquery a caller can put in its own select."""
    return (
        select(timers.c.due_at)
        .where(
            timers.c.kind == kind,
            timers.c.subject == subject,
            timers.c.status == TimerStatus.PENDING.value,
        )
        .order_by(timers.c.due_at)
        .limit(1)
        .scalar_subquery()
    )


def cancel_many(session: Session, kind: str, subjects: Sequence[str]) -> None:
    session.execute(
        update(timers)
        .where(timers.c.kind == kind, timers.c.subject.in_(list(subjects)))
        .where(timers.c.status == TimerStatus.PENDING.value)
        .values(status=TimerStatus.CANCELLED.value)
    )
