"""Ledger use cases on a Session: the caller owns the transaction (one request = one commit).

`submit` is the one write path: a batch of one for single calls, up to `MAX_BATCH` for batched
ones. Per batch it does a fixed number of round trips whatever its size: claim the idempotency
keys (one multi-row ``INSERT ... ON CONFLICT DO NOTHING``), lock the holds and accounts it
touches (``SELECT ... FOR UPDATE`` in id order, so concurrent batches cannot deadlock), let
`model.plan_batch` decide, then write the journal entries and one set-based balance update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.errors import (
    AlreadyExists,
    ConcurrentRequest,
    Conflict,
    HoldNotPending,
    IdempotencyKeyReused,
    LimitExceeded,
    NotFound,
    RequestTooLarge,
    ValidationFailed,
    XinrenError,
)
from xinren.ids import check_idempotency_key, payload_hash
from xinren.ledger import model
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
    )


def create_account(
    session: Session,
    clock: Clock,
    code: str,
    currency: str,
    *,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
) -> Account:
    """Open an account; the code is its idempotency key (same code and settings: the same one)."""
    model.check_code(code)
    check_currency(currency)
    model.check_account_flags(debits_must_not_exceed_credits, credits_must_not_exceed_debits)
    wanted = dict(
        code=code,
        currency=currency,
        debits_must_not_exceed_credits=debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=credits_must_not_exceed_debits,
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


def get_account(session: Session, code: str) -> Account:
    row = session.execute(select(accounts).where(accounts.c.code == code)).first()
    if row is None:
        raise NotFound(f"no account {code!r}", field="code")
    return _account(row)


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


def submit(
    session: Session, clock: Clock, ops: Sequence[Operation], *, atomic: bool = False
) -> list[Outcome]:
    """Apply a batch in order; each operation gets its own result or error.

    With ``atomic`` either every operation is applied or none is (and the errors say which one
    was refused). Idempotent: an operation whose key was used before returns the original result
    (``replayed``) if its payload is the same, and `IdempotencyKeyReused` if it is not.
    """
    if len(ops) > model.MAX_BATCH:
        raise RequestTooLarge(f"a batch holds at most {model.MAX_BATCH} operations")
    now = clock.now()
    hashes = []
    seen: set[str] = set()
    for i, op in enumerate(ops):
        check_idempotency_key(op.meta.key, field=f"operations[{i}].idempotency_key")
        if op.meta.key in seen:
            raise ValidationFailed(
                f"idempotency key {op.meta.key!r} appears twice in one batch",
                field=f"operations[{i}].idempotency_key",
            )
        seen.add(op.meta.key)
        hashes.append(payload_hash(model.payload(op)))

    claimed = _claim_keys(session, ops, hashes, now)
    outcomes: list[Outcome | None] = [None] * len(ops)
    fresh: list[int] = []
    replays = [i for i in range(len(ops)) if ops[i].meta.key not in claimed]
    if replays:
        for i, outcome in zip(
            replays, _replay(session, [ops[i] for i in replays], hashes, replays), strict=True
        ):
            outcomes[i] = outcome
    fresh = [i for i in range(len(ops)) if ops[i].meta.key in claimed]
    if atomic and any(isinstance(o, XinrenError) for o in outcomes):
        _unclaim(session, [claimed[ops[i].meta.key] for i in fresh])
        return [o if o is not None else _not_applied() for o in outcomes]
    if fresh:
        plan_ops = [ops[i] for i in fresh]
        hold_states = _lock_holds(session, plan_ops)
        account_states = _lock_accounts(session, plan_ops, hold_states.values())
        plan = model.plan_batch(plan_ops, account_states, hold_states, now, atomic=atomic)
        refused = [
            claimed[ops[i].meta.key]
            for i, o in zip(fresh, plan.outcomes, strict=True)
            if isinstance(o, XinrenError)
        ]
        if refused:
            _unclaim(session, refused)
        accepted = [
            (claimed[ops[i].meta.key], o)
            for i, o in zip(fresh, plan.outcomes, strict=True)
            if isinstance(o, model.Planned)
        ]
        hold_ids = _write(session, clock, accepted, plan, now)
        for i, o in zip(fresh, plan.outcomes, strict=True):
            if isinstance(o, XinrenError):
                outcomes[i] = o
            else:
                tid = claimed[ops[i].meta.key]
                hold_id = hold_ids.get(tid) or getattr(o.op, "hold_id", None)
                outcomes[i] = Result(tid, o.op.kind, o.op.meta.key, now, hold_id)
    return [o if o is not None else _not_applied() for o in outcomes]


def _not_applied() -> XinrenError:
    return Conflict("not applied: another operation in the all-or-nothing batch was refused")


def _claim_keys(
    session: Session, ops: Sequence[Operation], hashes: Sequence[str], now: datetime
) -> dict[str, int]:
    """Insert a transfer row per key not used before; return key -> new transfer id."""
    claimed: dict[str, int] = {}
    rows = [
        dict(
            kind=op.kind.value,
            idempotency_key=op.meta.key,
            payload_hash=h,
            reason=op.meta.reason,
            refs=dict(op.meta.refs) or None,
            hold_id=getattr(op, "hold_id", None),
            created_at=now,
        )
        for op, h in zip(ops, hashes, strict=True)
    ]
    for start in range(0, len(rows), _CHUNK):
        stmt = (
            _insert(session, transfers)
            .values(rows[start : start + _CHUNK])
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(transfers.c.id, transfers.c.idempotency_key)
        )
        for tid, key in session.execute(stmt):
            claimed[key] = tid
    return claimed


def _unclaim(session: Session, transfer_ids: Sequence[int]) -> None:
    """Drop the rows of refused operations: a refusal leaves nothing behind, a retry re-runs."""
    for start in range(0, len(transfer_ids), _CHUNK):
        chunk = transfer_ids[start : start + _CHUNK]
        session.execute(delete(transfers).where(transfers.c.id.in_(chunk)))


def _replay(
    session: Session, ops: Sequence[Operation], hashes: Sequence[str], positions: Sequence[int]
) -> list[Outcome]:
    keys = [op.meta.key for op in ops]
    found: dict[str, Row[Any]] = {}
    for start in range(0, len(keys), _CHUNK):
        q = (
            select(transfers, holds.c.id.label("new_hold_id"))
            .outerjoin(holds, holds.c.transfer_id == transfers.c.id)
            .where(transfers.c.idempotency_key.in_(keys[start : start + _CHUNK]))
        )
        for row in session.execute(q):
            found[row.idempotency_key] = row
    out: list[Outcome] = []
    for op, pos in zip(ops, positions, strict=True):
        stored = found.get(op.meta.key)
        if stored is None:  # claimed by a transaction that then rolled back: ask for a retry
            out.append(
                ConcurrentRequest(f"key {op.meta.key!r} is in use by a concurrent request; retry")
            )
        elif stored.payload_hash != hashes[pos]:
            out.append(
                IdempotencyKeyReused(
                    f"idempotency key {op.meta.key!r} was used for a different "
                    f"{stored.kind} (transfer {stored.id}); use a new key for a new request",
                    field="idempotency_key",
                    transfer_id=stored.id,
                )
            )
        else:
            out.append(
                Result(
                    stored.id,
                    Kind(stored.kind),
                    stored.idempotency_key,
                    stored.created_at,
                    stored.new_hold_id or stored.hold_id,
                    replayed=True,
                )
            )
    return out


def _hold(row: Any) -> Hold:
    return Hold(
        id=row.id,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount=row.amount,
        currency=row.currency,
        status=HoldStatus(row.status),
        expires_at=row.expires_at,
        expiry_action=ExpiryAction(row.expiry_action) if row.expiry_action else None,
        paused_remaining=(
            timedelta(milliseconds=row.paused_remaining_ms)
            if row.paused_remaining_ms is not None
            else None
        ),
        posted_amount=row.posted_amount,
    )


def _lock_holds(session: Session, ops: Sequence[Operation]) -> dict[int, Hold]:
    ids = sorted({op.hold_id for op in ops if not isinstance(op, model.TransferOp | model.HoldOp)})
    if not ids:
        return {}
    q = select(holds).where(holds.c.id.in_(ids)).order_by(holds.c.id).with_for_update()
    return {r.id: _hold(r) for r in session.execute(q)}


def _lock_accounts(
    session: Session, ops: Sequence[Operation], held: Iterable[Hold]
) -> dict[str, Account]:
    codes = {code for op in ops for code in model.accounts_of(op)}
    ids = {i for h in held for i in (h.debit_account_id, h.credit_account_id)}
    if not codes and not ids:
        return {}
    cond = or_(accounts.c.code.in_(sorted(codes)), accounts.c.id.in_(sorted(ids)))
    q = select(accounts).where(cond).order_by(accounts.c.id).with_for_update()
    return {r.code: _account(r) for r in session.execute(q)}


def _write(
    session: Session,
    clock: Clock,
    accepted: Sequence[tuple[int, model.Planned]],
    plan: model.Plan,
    now: datetime,
) -> dict[int, int]:
    """Persist the accepted operations; returns transfer id -> id of the hold it created."""
    rows = [
        dict(
            transfer_id=tid,
            account_id=d.account_id,
            debits_posted=d.balance.debits_posted,
            credits_posted=d.balance.credits_posted,
            debits_pending=d.balance.debits_pending,
            credits_pending=d.balance.credits_pending,
        )
        for tid, planned in accepted
        for d in planned.entries
    ]
    if rows:
        session.execute(entries.insert(), rows)
    changed = plan.changed_balances
    if changed:
        stmt = (
            update(accounts)
            .where(accounts.c.id == bindparam("aid"))
            .values(
                debits_posted=accounts.c.debits_posted + bindparam("dp"),
                credits_posted=accounts.c.credits_posted + bindparam("cp"),
                debits_pending=accounts.c.debits_pending + bindparam("dq"),
                credits_pending=accounts.c.credits_pending + bindparam("cq"),
            )
        )
        params = [
            dict(
                aid=aid,
                dp=b.debits_posted,
                cp=b.credits_posted,
                dq=b.debits_pending,
                cq=b.credits_pending,
            )
            for aid, b in sorted(changed.items())
        ]
        try:
            session.execute(stmt, params)
        except IntegrityError as err:  # the model checks first; this is the last line of defence
            raise LimitExceeded(f"an account limit would be broken: {err.orig}") from err
    return _write_holds(session, clock, accepted, now)


def _write_holds(
    session: Session, clock: Clock, accepted: Sequence[tuple[int, model.Planned]], now: datetime
) -> dict[int, int]:
    created: dict[int, int] = {}
    for tid, planned in accepted:
        op, hold = planned.op, planned.hold
        if hold is None:
            continue
        if isinstance(op, model.HoldOp):
            hold_id = session.execute(
                holds.insert().returning(holds.c.id),
                dict(
                    transfer_id=tid,
                    debit_account_id=hold.debit_account_id,
                    credit_account_id=hold.credit_account_id,
                    amount=hold.amount,
                    currency=hold.currency,
                    status=HoldStatus.PENDING.value,
                    expires_at=hold.expires_at,
                    expiry_action=hold.expiry_action.value if hold.expiry_action else None,
                ),
            ).scalar_one()
            created[tid] = hold_id
            if hold.expires_at is not None:
                timers.schedule(session, clock, HOLD_EXPIRY, str(hold_id), hold.expires_at)
            continue
        values: dict[str, Any] = dict(
            status=hold.status.value,
            expires_at=hold.expires_at,
            paused_remaining_ms=(
                int(hold.paused_remaining / timedelta(milliseconds=1))
                if hold.paused_remaining is not None
                else None
            ),
            posted_amount=hold.posted_amount,
        )
        if hold.status is not HoldStatus.PENDING:
            values.update(resolved_by=tid, resolved_at=now)
        res = session.execute(
            update(holds)
            .where(holds.c.id == hold.id, holds.c.status == HoldStatus.PENDING.value)
            .values(**values)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise HoldNotPending(f"hold {hold.id} was resolved concurrently", field="hold_id")
        subject = str(hold.id)
        if hold.status is not HoldStatus.PENDING or isinstance(op, model.PauseOp):
            timers.cancel(session, HOLD_EXPIRY, subject)
        elif isinstance(op, model.ExtendOp) and hold.expires_at is not None:
            timers.reschedule(session, HOLD_EXPIRY, subject, hold.expires_at)
        elif isinstance(op, model.ResumeOp) and hold.expires_at is not None:
            timers.schedule(session, clock, HOLD_EXPIRY, subject, hold.expires_at)
    return created


def submit_one(session: Session, clock: Clock, op: Operation) -> Result:
    """Apply one operation or raise its error."""
    (outcome,) = submit(session, clock, [op], atomic=True)
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
    return submit_one(session, clock, op)


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
) -> Result:
    """A two-leg transfer: take `amount` from `debit` and give it to `credit`."""
    return transfer(
        session,
        clock,
        key,
        [(debit, "debit", amount), (credit, "credit", amount)],
        reason=reason,
        refs=refs,
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
) -> Result:
    action = ExpiryAction(expiry_action) if expiry_action else None
    op = model.HoldOp(
        Meta(key, reason, dict(refs or {})), debit, credit, amount, expires_at, action
    )
    return submit_one(session, clock, op)


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
) -> Result:
    return submit_one(session, clock, model.VoidOp(Meta(key, reason, dict(refs or {})), hold_id))


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
    key = f"expire-{found.id}"
    if found.expiry_action is ExpiryAction.POST:
        post(session, clock, key, found.id, reason="hold_expired")
    else:
        void(session, clock, key, found.id, reason="hold_expired")


# --- reads ------------------------------------------------------------------------------------


def get_hold(session: Session, hold_id: int) -> Hold:
    row = session.execute(select(holds).where(holds.c.id == hold_id)).first()
    if row is None:
        raise NotFound(f"no hold {hold_id}", field="hold_id")
    return _hold(row)


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
