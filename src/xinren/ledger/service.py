"""Ledger use cases on a Session: the caller owns the transaction (one request = one commit).

`submit` is the one write path: a batch of one for single calls, up to `MAX_BATCH` for batched
ones. It loads and locks what the batch touches and finds used keys (`storage.load`), lets
`model.plan_batch` decide every operation, and writes the accepted ones (`storage.write`):
on PostgreSQL one statement each way, whatever the batch size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.errors import (
    AccountOwned,
    AlreadyExists,
    ConcurrentRequest,
    Conflict,
    IdempotencyKeyReused,
    LimitExceeded,
    NotFound,
    RequestTooLarge,
    ValidationFailed,
    XinrenError,
)
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key, payload_hash
from xinren.ledger import model, storage
from xinren.ledger.model import (
    Account,
    Balance,
    ExpiryAction,
    Hold,
    HoldStatus,
    Kind,
    Meta,
    Operation,
)
from xinren.ledger.tables import accounts, entries, holds, transfers
from xinren.money import check_currency
from xinren.timers import service as timers
from xinren.timers.model import Timer

HOLD_EXPIRY = "ledger.hold_expiry"
_CHUNK = 1000  # rows per multi-row statement: under SQLite's and PostgreSQL's bind limits


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


# --- accounts ---------------------------------------------------------------------------------


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        code=row.code,
        currency=row.currency,
        debits_must_not_exceed_credits=row.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=row.credits_must_not_exceed_debits,
        balance=Balance(
            row.debits_posted, row.credits_posted, row.debits_pending, row.credits_pending
        ),
        owner=row.owner,
    )


@dataclass(frozen=True, slots=True)
class Reservation:
    """Account codes that one context owns: `pattern` matches the whole code."""

    owner: str
    pattern: re.Pattern[str]
    what: str


_RESERVED: list[Reservation] = []


def reserve(owner: str, pattern: str, what: str) -> None:
    """Declare that accounts whose code matches `pattern` are `owner`'s: created and moved only
    by its use cases (``internal=True``), refused to the generic ledger API. Contexts call this
    at import, next to the function that names such an account."""
    compiled = re.compile(pattern)
    if all(r.pattern.pattern != compiled.pattern for r in _RESERVED):
        _RESERVED.append(Reservation(owner, compiled, what))


def owner_of(code: str) -> Reservation | None:
    """The reservation a code falls under, if any."""
    return next((r for r in _RESERVED if r.pattern.fullmatch(code)), None)


def reservations() -> list[Reservation]:
    return list(_RESERVED)


def create_account(
    session: Session,
    clock: Clock,
    code: str,
    currency: str,
    *,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
    internal: bool = False,
) -> Account:
    """Open an account; the code is its idempotency key (same code and settings: the same one).

    A code another context reserved (an order's escrow, a deposit, ...) is opened only by that
    context (``internal``) and records it as the owner, so nobody can open it first by hand.
    """
    model.check_code(code)
    check_currency(currency)
    model.check_account_flags(debits_must_not_exceed_credits, credits_must_not_exceed_debits)
    reserved = owner_of(code)
    if reserved is not None and not internal:
        raise AccountOwned(
            f"account code {code!r} is reserved for {reserved.what} ({reserved.owner} opens "
            "them itself); choose another code",
            field="code",
            owner=reserved.owner,
        )
    wanted = dict(
        code=code,
        currency=currency,
        debits_must_not_exceed_credits=debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=credits_must_not_exceed_debits,
        owner=reserved.owner if reserved else None,
    )
    stmt = _insert(session, accounts).values(
        **wanted,
        debits_posted=0,
        credits_posted=0,
        debits_pending=0,
        credits_pending=0,
        created_at=clock.now(),
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["code"]))
    existing = get_account(session, code)
    for name, value in wanted.items():
        if getattr(existing, name) != value:
            raise AlreadyExists(
                f"account {code!r} exists with {name}={getattr(existing, name)!r}",
                field=name,
            )
    return existing


def lock_accounts(session: Session, codes: Sequence[str]) -> None:
    """Lock these accounts (those that exist) now, in ascending id, until the transaction ends.

    A use case that makes several ledger moves calls this first with every account it will
    touch, so that its locks are taken in one global order (`xinren.unit_of_work.LOCK_ORDER`)
    rather than call by call, where two transactions could take them in opposite orders.
    """
    if codes:
        session.execute(
            select(accounts.c.id)
            .where(accounts.c.code.in_(sorted(set(codes))))
            .order_by(accounts.c.id)
            .with_for_update()
        ).all()


def get_account(session: Session, code: str) -> Account:
    row = session.execute(select(accounts).where(accounts.c.code == code)).first()
    if row is None:
        raise NotFound(f"no account {code!r}", field="code")
    return _account(row)


def owned_accounts(session: Session, owner: str) -> list[Account]:
    """Every account `owner` owns (for its reconciliation against its own records)."""
    q = select(accounts).where(accounts.c.owner == owner).order_by(accounts.c.id)
    return [_account(r) for r in session.execute(q)]


def list_accounts(
    session: Session, *, prefix: str = "", after: int = 0, limit: int = 100
) -> list[Account]:
    q = select(accounts).where(accounts.c.id > after).order_by(accounts.c.id).limit(limit)
    if prefix:
        q = q.where(accounts.c.code.startswith(prefix, autoescape=True))
    return [_account(r) for r in session.execute(q)]


# --- the write path ---------------------------------------------------------------------------


def _insert(session: Session, table: Any) -> Any:
    """A dialect-specific INSERT, so ``ON CONFLICT DO NOTHING`` works on both databases."""
    return postgresql.insert(table) if is_postgres(session) else sqlite.insert(table)


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

    outcomes: list[Outcome | None] = [None] * len(ops)
    fresh: list[int] = []
    for i, op in enumerate(ops):
        stored = loaded.existing.get(op.meta.key)
        if stored is None:
            fresh.append(i)
        else:
            outcomes[i] = _replayed(op, stored, hashes[i])
    if atomic and any(isinstance(o, XinrenError) for o in outcomes):
        return [o if o is not None else _not_applied() for o in outcomes]

    plan = model.plan_batch(
        [ops[i] for i in fresh],
        loaded.accounts,
        loaded.holds,
        now,
        atomic=atomic,
        internal=internal or system,
    )
    refused = [
        ops[i].meta.key
        for i, p in zip(fresh, plan.outcomes, strict=True)
        if p is not None and isinstance(p, XinrenError)
    ]
    if refused and _taken_meanwhile(session, refused):
        # A duplicate of this request committed while we waited for its locks (the keys were
        # looked up before the wait): its refusal here would read as final. Run again instead.
        raise ConcurrentRequest(
            "a concurrent request with one of these idempotency keys has just finished; retry "
            "to get its result"
        )
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
    if not rows.transfers:
        return [o if o is not None else _not_applied() for o in outcomes]

    try:
        written = storage.write(session, rows)
    except IntegrityError as err:  # the model checks first; this is the last line of defence
        raise LimitExceeded(f"an account limit would be broken: {err.orig}") from err
    if len(written.claimed) != len(rows.transfers) or written.changed_holds != len(final_holds):
        # a concurrent request took one of our keys between load and write: undo it all
        raise ConcurrentRequest(
            "a concurrent request used one of these idempotency keys; retry to get its result"
        )
    for i in fresh:
        if outcomes[i] is None:
            op = ops[i]
            key = op.meta.key
            hold_id = written.new_holds.get(key) or getattr(op, "hold_id", None)
            outcomes[i] = Result(written.claimed[key], op.kind, key, now, hold_id)
    _sync_timers(session, clock, loaded.holds, final_holds, rows.new_holds, written.new_holds)
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


# --- convenience wrappers for the Python API --------------------------------------------------


def transfer(
    session: Session,
    clock: Clock,
    key: str,
    legs: Sequence[tuple[str, str, int]],
    *,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
    system: bool = False,
    internal: bool = False,
) -> Result:
    """Post a balanced transfer; `legs` are ``(account_code, "debit"|"credit", amount)``."""
    parsed = []
    for i, (code, side, amount) in enumerate(legs):
        try:
            parsed.append(model.Leg(code, model.Side(side), amount))
        except ValueError as err:
            raise ValidationFailed(
                f"side is 'debit' or 'credit', got {side!r}", field=f"legs[{i}].side"
            ) from err
    op = model.TransferOp(Meta(key, reason, dict(refs or {})), tuple(parsed))
    return submit_one(session, clock, op, system=system, internal=internal)


def move(
    session: Session,
    clock: Clock,
    key: str,
    debit: str,
    credit: str,
    amount: int,
    *,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
    system: bool = False,
    internal: bool = False,
) -> Result:
    """A two-leg transfer: take `amount` from `debit` and give it to `credit`."""
    return transfer(
        session,
        clock,
        key,
        [(debit, "debit", amount), (credit, "credit", amount)],
        reason=reason,
        refs=refs,
        system=system,
        internal=internal,
    )


def hold(
    session: Session,
    clock: Clock,
    key: str,
    debit: str,
    credit: str,
    amount: int,
    *,
    expires_at: datetime | None = None,
    expiry_action: ExpiryAction | str | None = None,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
    system: bool = False,
) -> Result:
    action = ExpiryAction(expiry_action) if expiry_action else None
    op = model.HoldOp(
        Meta(key, reason, dict(refs or {})), debit, credit, amount, expires_at, action
    )
    return submit_one(session, clock, op, system=system)


def post(
    session: Session,
    clock: Clock,
    key: str,
    hold_id: int,
    amount: int | None = None,
    *,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
) -> Result:
    return submit_one(
        session, clock, model.PostOp(Meta(key, reason, dict(refs or {})), hold_id, amount)
    )


def void(
    session: Session,
    clock: Clock,
    key: str,
    hold_id: int,
    *,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
    system: bool = False,
) -> Result:
    op = model.VoidOp(Meta(key, reason, dict(refs or {})), hold_id)
    return submit_one(session, clock, op, system=system)


def extend(session: Session, clock: Clock, key: str, hold_id: int, expires_at: datetime) -> Result:
    return submit_one(session, clock, model.ExtendOp(Meta(key), hold_id, expires_at))


def pause(session: Session, clock: Clock, key: str, hold_id: int) -> Result:
    return submit_one(session, clock, model.PauseOp(Meta(key), hold_id))


def resume(session: Session, clock: Clock, key: str, hold_id: int) -> Result:
    return submit_one(session, clock, model.ResumeOp(Meta(key), hold_id))


@timers.handler(HOLD_EXPIRY)
def _expire_hold(session: Session, clock: Clock, timer: Timer) -> None:
    """Run a hold's expiry action; the key makes a second run a harmless replay."""
    found = get_hold(session, int(timer.subject))
    if found.status is not HoldStatus.PENDING or found.paused or found.expires_at is None:
        return
    if found.expires_at > clock.now():  # extended after this timer was read
        return
    meta = Meta(f"{SYSTEM_PREFIX}expire:{found.id}", "hold_expired")
    op: model.Operation = (
        model.PostOp(meta, found.id)
        if found.expiry_action is ExpiryAction.POST
        else model.VoidOp(meta, found.id)
    )
    submit_one(session, clock, op, system=True)


# --- reads ------------------------------------------------------------------------------------


def get_hold(session: Session, hold_id: int) -> Hold:
    row = session.execute(select(holds).where(holds.c.id == hold_id)).mappings().first()
    if row is None:
        raise NotFound(f"no hold {hold_id}", field="hold_id")
    return storage.hold_from_row(row)


@dataclass(frozen=True, slots=True)
class TransferView:
    id: int
    kind: Kind
    idempotency_key: str
    reason: str
    refs: dict[str, str]
    hold_id: int | None
    created_at: datetime
    entries: list[tuple[str, Balance]]


def get_transfer(session: Session, transfer_id: int) -> TransferView:
    row = session.execute(
        select(transfers, holds.c.id.label("new_hold_id"))
        .outerjoin(holds, holds.c.transfer_id == transfers.c.id)
        .where(transfers.c.id == transfer_id)
    ).first()
    if row is None:
        raise NotFound(f"no transfer {transfer_id}", field="transfer_id")
    legs = session.execute(
        select(accounts.c.code, entries)
        .join(accounts, accounts.c.id == entries.c.account_id)
        .where(entries.c.transfer_id == transfer_id)
        .order_by(entries.c.id)
    )
    return TransferView(
        row.id,
        Kind(row.kind),
        row.idempotency_key,
        row.reason,
        row.refs or {},
        row.new_hold_id or row.hold_id,
        row.created_at,
        [
            (
                e.code,
                Balance(e.debits_posted, e.credits_posted, e.debits_pending, e.credits_pending),
            )
            for e in legs
        ],
    )


@dataclass(frozen=True, slots=True)
class HistoryLine:
    entry_id: int
    transfer_id: int
    kind: Kind
    reason: str
    created_at: datetime
    change: Balance


def history(session: Session, code: str, *, after: int = 0, limit: int = 100) -> list[HistoryLine]:
    """An account's journal entries, oldest first, after entry id `after`."""
    account = get_account(session, code)
    q = (
        select(entries, transfers.c.kind, transfers.c.reason, transfers.c.created_at)
        .join(transfers, transfers.c.id == entries.c.transfer_id)
        .where(entries.c.account_id == account.id, entries.c.id > after)
        .order_by(entries.c.id)
        .limit(limit)
    )
    return [
        HistoryLine(
            r.id,
            r.transfer_id,
            Kind(r.kind),
            r.reason,
            r.created_at,
            Balance(r.debits_posted, r.credits_posted, r.debits_pending, r.credits_pending),
        )
        for r in session.execute(q)
    ]


def totals_by_currency(session: Session) -> dict[str, Balance]:
    """Sum of every account's totals per currency (a consistent snapshot in one statement)."""
    q = select(
        accounts.c.currency,
        func.sum(accounts.c.debits_posted),
        func.sum(accounts.c.credits_posted),
        func.sum(accounts.c.debits_pending),
        func.sum(accounts.c.credits_pending),
    ).group_by(accounts.c.currency)
    return {
        cur: Balance(int(dp or 0), int(cp or 0), int(dq or 0), int(cq or 0))
        for cur, dp, cp, dq, cq in session.execute(q)
    }
