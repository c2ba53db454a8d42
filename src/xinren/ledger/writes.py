"""The ledger's one write path: `submit` loads and locks what a batch touches, finds used keys
(`storage.load`), lets `model.plan_batch` decide every operation and writes the accepted ones
(`storage.write`); a replayed key returns its first result. Keeping hold expiry timers in step
with the holds is part of the same write (the expiry itself runs in `service`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.errors import (
    ConcurrentRequest,
    Conflict,
    IdempotencyKeyReused,
    LimitExceeded,
    RequestTooLarge,
    ValidationFailed,
    XinrenError,
)
from xinren.ids import check_idempotency_key, payload_hash
from xinren.ledger import model, storage
from xinren.ledger.model import Hold, HoldStatus, Kind, Operation
from xinren.ledger.tables import transfers
from xinren.timers import service as timers

HOLD_EXPIRY = "ledger.hold_expiry"


@dataclass(frozen=True, slots=True)
class Result:
    """What an accepted operation returns; a repeat with the same key returns it again."""

    id: int
    kind: Kind
    idempotency_key: str
    created_at: datetime
    hold_id: int | None = None
    replayed: bool = False


Outcome = Result | XinrenError


def _check_keys(ops: Sequence[Operation], system: bool) -> list[str]:
    """Validate every key (unique within the batch); return each operation's payload hash."""
    if len(ops) > model.MAX_BATCH:
        raise RequestTooLarge(f"a batch holds at most {model.MAX_BATCH} operations")
    hashes = []
    seen: set[str] = set()
    for i, op in enumerate(ops):
        check_idempotency_key(op.meta.key, field=f"operations[{i}].idempotency_key", system=system)
        if op.meta.key in seen:
            raise ValidationFailed(
                f"idempotency key {op.meta.key!r} appears twice in one batch",
                field=f"operations[{i}].idempotency_key",
            )
        seen.add(op.meta.key)
        hashes.append(payload_hash(model.payload(op)))
    return hashes


def _replayed(op: Operation, stored: storage.StoredOp, digest: str) -> Outcome:
    if stored.payload_hash != digest:
        return IdempotencyKeyReused(
            f"idempotency key {op.meta.key!r} was used for a different {stored.kind} "
            f"(transfer {stored.id}); use a new key for a new request",
            field="idempotency_key",
            transfer_id=stored.id,
        )
    return Result(
        stored.id, Kind(stored.kind), op.meta.key, stored.created_at, stored.hold_id, True
    )


def submit(
    session: Session,
    clock: Clock,
    ops: Sequence[Operation],
    *,
    atomic: bool = False,
    system: bool = False,
    internal: bool = False,
) -> list[Outcome]:
    """Apply a batch in order; each operation gets its own result or error.

    With ``atomic`` either every operation is applied or none is (and the errors say which one
    was refused). Idempotent: an operation whose key was used before returns the original result
    (``replayed``) if its payload is the same, and `IdempotencyKeyReused` if it is not. A refused
    operation writes nothing, so its key stays free for a corrected retry.

    ``system``: Xinren's own operations (``sys:`` keys). ``internal``: a context's use case,
    which may move the accounts a context owns (system operations always are).
    """
    hashes = _check_keys(ops, system)
    now = clock.now()
    hold_ids = sorted({op.hold_id for op in ops if isinstance(op, model.HoldChange)})
    codes = sorted({code for op in ops for code in model.accounts_of(op)})
    loaded = storage.load(session, hold_ids, codes, [op.meta.key for op in ops])
    outcomes, fresh = _replays(ops, loaded.existing, hashes)
    if atomic and any(isinstance(o, XinrenError) for o in outcomes):
        return _finished(outcomes)

    plan = model.plan_batch(
        [ops[i] for i in fresh],
        loaded.accounts,
        loaded.holds,
        now,
        atomic=atomic,
        internal=internal or system,
    )
    _check_refusals_are_final(session, [ops[i] for i in fresh], plan)
    rows, final_holds = _rows(fresh, plan, hashes, now, outcomes)
    if not rows.transfers:
        return _finished(outcomes)

    written = _write(session, rows, final_holds)
    for i in fresh:
        if outcomes[i] is None:
            op = ops[i]
            key = op.meta.key
            hold_id = written.new_holds.get(key) or getattr(op, "hold_id", None)
            outcomes[i] = Result(written.claimed[key], op.kind, key, now, hold_id)
    _sync_timers(session, clock, loaded.holds, final_holds, rows.new_holds, written.new_holds)
    return _finished(outcomes)


def _replays(
    ops: Sequence[Operation], existing: Mapping[str, storage.StoredOp], hashes: Sequence[str]
) -> tuple[list[Outcome | None], list[int]]:
    """Each operation's stored result if its key was used before, and which ones are fresh."""
    outcomes: list[Outcome | None] = [None] * len(ops)
    fresh: list[int] = []
    for i, op in enumerate(ops):
        stored = existing.get(op.meta.key)
        if stored is None:
            fresh.append(i)
        else:
            outcomes[i] = _replayed(op, stored, hashes[i])
    return outcomes, fresh


def _check_refusals_are_final(
    session: Session, fresh: Sequence[Operation], plan: model.Plan
) -> None:
    refused = [
        op.meta.key
        for op, p in zip(fresh, plan.outcomes, strict=True)
        if p is not None and isinstance(p, XinrenError)
    ]
    if refused and _taken_meanwhile(session, refused):
        # A duplicate of this request committed while we waited for its locks (the keys were
        # looked up before the wait): its refusal here would read as final. Run again instead.
        raise ConcurrentRequest(
            "a concurrent request with one of these idempotency keys has just finished; retry "
            "to get its result"
        )


def _rows(
    fresh: Sequence[int],
    plan: model.Plan,
    hashes: Sequence[str],
    now: datetime,
    outcomes: list[Outcome | None],
) -> tuple[storage.Rows, dict[int, tuple[str, Hold]]]:
    """The rows the accepted operations write, and each changed hold's final state (by id);
    a refused operation's error goes into `outcomes`."""
    rows = storage.Rows()
    final_holds: dict[int, tuple[str, Hold]] = {}
    for i, planned in zip(fresh, plan.outcomes, strict=True):
        if isinstance(planned, XinrenError):
            outcomes[i] = planned
            continue
        op = planned.op
        refs = json.dumps(dict(op.meta.refs), sort_keys=True) if op.meta.refs else None
        rows.transfers.append(
            (
                op.meta.key,
                op.kind.value,
                hashes[i],
                op.meta.reason,
                refs,
                getattr(op, "hold_id", None),
                now,
            )
        )
        rows.entries.extend((op.meta.key, d.account_id, d.balance) for d in planned.entries)
        if isinstance(op, model.HoldOp) and planned.hold is not None:
            rows.new_holds.append((op.meta.key, planned.hold))
        elif planned.hold is not None:
            final_holds[planned.hold.id] = (op.meta.key, planned.hold)
    rows.changed_holds = [
        (key, h, h.status is not HoldStatus.PENDING) for key, h in final_holds.values()
    ]
    return rows, final_holds


def _write(
    session: Session, rows: storage.Rows, final_holds: Mapping[int, tuple[str, Hold]]
) -> storage.Written:
    try:
        written = storage.write(session, rows)
    except IntegrityError as err:  # the model checks first; this is the last line of defence
        raise LimitExceeded(f"an account limit would be broken: {err.orig}") from err
    if len(written.claimed) != len(rows.transfers) or written.changed_holds != len(final_holds):
        # a concurrent request took one of our keys between load and write: undo it all
        raise ConcurrentRequest(
            "a concurrent request used one of these idempotency keys; retry to get its result"
        )
    return written


def _finished(outcomes: Sequence[Outcome | None]) -> list[Outcome]:
    return [o if o is not None else _not_applied() for o in outcomes]


def _taken_meanwhile(session: Session, keys: Sequence[str]) -> bool:
    """Whether any of `keys` is now used: on PostgreSQL a fresh statement sees transfers that
    committed after the batch's load statement began (SQLite serialises writers: never)."""
    if not is_postgres(session):
        return False
    found = session.execute(
        select(transfers.c.id).where(transfers.c.idempotency_key.in_(list(keys))).limit(1)
    ).first()
    return found is not None


def _not_applied() -> XinrenError:
    return Conflict("not applied: another operation in the all-or-nothing batch was refused")


def _ticking(hold: Hold) -> bool:
    """A hold has a pending expiry timer exactly while this is true."""
    return hold.status is HoldStatus.PENDING and not hold.paused and hold.expires_at is not None


def _sync_timers(
    session: Session,
    clock: Clock,
    before: Mapping[int, Hold],
    changed: Mapping[int, tuple[str, Hold]],
    created: Sequence[tuple[str, Hold]],
    created_ids: Mapping[str, int],
) -> None:
    """Make the expiry timers match the holds: one per pending, unpaused hold with an expiry."""
    schedule = [
        (str(created_ids[key]), h.expires_at)
        for key, h in created
        if _ticking(h) and h.expires_at is not None
    ]
    cancel = []
    for hold_id, (_, after) in changed.items():
        was, now_ticking = _ticking(before[hold_id]), _ticking(after)
        if was and not now_ticking:
            cancel.append(str(hold_id))
        elif now_ticking and after.expires_at is not None:
            if not was:
                schedule.append((str(hold_id), after.expires_at))
            elif after.expires_at != before[hold_id].expires_at:
                timers.reschedule(session, HOLD_EXPIRY, str(hold_id), after.expires_at)
    if cancel:
        timers.cancel_many(session, HOLD_EXPIRY, cancel)
    if schedule:
        timers.schedule_many(session, clock, HOLD_EXPIRY, schedule)


def submit_one(
    session: Session, clock: Clock, op: Operation, *, system: bool = False, internal: bool = False
) -> Result:
    """Apply one operation or raise its error (`system`: Xinren's own, with a ``sys:`` key;
    `internal`: a context's use case, which may move owned accounts)."""
    (outcome,) = submit(session, clock, [op], atomic=True, system=system, internal=internal)
    if isinstance(outcome, XinrenError):
        raise outcome
    return outcome
