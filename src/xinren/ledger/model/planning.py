"""Planning a batch: given the accounts' and holds' current states, what each operation does to
them (entries, a new or changed hold), all or nothing, refusing an overdraft, a currency mix, an
account owned by another context or a hold no longer pending. The service persists exactly the
plan; verify uses the same hold rules to check what a resolved hold moved."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from xinren.errors import (
    AccountOwned,
    Conflict,
    CurrencyMismatch,
    HoldNotPending,
    LimitExceeded,
    NotFound,
    RequestTooLarge,
    Unbalanced,
    ValidationFailed,
    XinrenError,
)
from xinren.ledger.model.balances import (
    MAX_BATCH,
    MAX_TOTAL,
    ZERO,
    Account,
    Balance,
    ExpiryAction,
    HoldStatus,
    Side,
)
from xinren.ledger.model.operations import (
    ExtendOp,
    HoldChange,
    HoldOp,
    Meta,
    Operation,
    PauseOp,
    PostOp,
    TransferOp,
    VoidOp,
    validate,
)
from xinren.money import Money


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    debit_account_id: int
    credit_account_id: int
    amount: int
    currency: str
    status: HoldStatus = HoldStatus.PENDING
    expires_at: datetime | None = None
    expiry_action: ExpiryAction | None = None
    paused_remaining: timedelta | None = None
    posted_amount: int | None = None

    @property
    def paused(self) -> bool:
        return self.paused_remaining is not None


class Delta(NamedTuple):
    """One journal entry: what one operation did to one account's four totals."""

    account_id: int
    balance: Balance


@dataclass(slots=True)
class Planned:
    """An accepted operation: its journal entries and the hold it creates or changes."""

    op: Operation
    entries: list[Delta]
    hold: Hold | None = None  # the hold after the operation (new or changed)
    post_amount: int | None = None


@dataclass(slots=True)
class Plan:
    """The outcome of a batch: per operation either a Planned or the error that refused it."""

    outcomes: list[Planned | XinrenError]
    accounts: dict[str, Account]
    holds: dict[int, Hold]

    @property
    def changed_balances(self) -> dict[int, Balance]:
        """Per account id, the sum of the accepted entries: one set-based update per batch."""
        total: dict[int, Balance] = defaultdict(lambda: ZERO)
        for outcome in self.outcomes:
            if isinstance(outcome, Planned):
                for d in outcome.entries:
                    total[d.account_id] = total[d.account_id] + d.balance
        return {k: v for k, v in total.items() if not v.is_zero()}


_new = tuple.__new__  # Balance and Delta are NamedTuples: built in C, without their __new__


def _entries_for_transfer(op: TransferOp, accounts: Mapping[str, Account]) -> list[Delta]:
    """One entry per account the legs name (legs on one account merged), or raise."""
    per_currency: dict[str, int] = {}
    merged: dict[int, list[int]] = {}  # account id -> [debits, credits]
    debit_side = Side.DEBIT
    for i, leg in enumerate(op.legs):
        account = accounts.get(leg.account)
        if account is None:
            raise NotFound(f"no account {leg.account!r}", field=f"legs[{i}].account")
        amount, is_debit = leg.amount, leg.side is debit_side
        cur = account.currency
        per_currency[cur] = per_currency.get(cur, 0) + (amount if is_debit else -amount)
        sides = merged.get(account.id)
        if sides is None:
            sides = merged[account.id] = [0, 0]
        sides[0 if is_debit else 1] += amount
    off = {cur: diff for cur, diff in per_currency.items() if diff}
    if off:
        detail = ", ".join(
            f"{cur}: debits exceed credits by {Money(d, cur)}"
            if d > 0
            else f"{cur}: credits exceed debits by {Money(-d, cur)}"
            for cur, d in sorted(off.items())
        )
        raise Unbalanced(f"transfer legs do not balance ({detail})", field="legs")
    return [_new(Delta, (aid, _new(Balance, (d, c, 0, 0)))) for aid, (d, c) in merged.items()]


def _entries_for_hold(op: HoldOp, accounts: Mapping[str, Account]) -> tuple[list[Delta], Hold]:
    debit = accounts.get(op.debit)
    if debit is None:
        raise NotFound(f"no account {op.debit!r}", field="debit")
    credit = accounts.get(op.credit)
    if credit is None:
        raise NotFound(f"no account {op.credit!r}", field="credit")
    if debit.currency != credit.currency:
        raise CurrencyMismatch(
            f"hold between {debit.currency} account {debit.code!r} and "
            f"{credit.currency} account {credit.code!r}",
            field="credit",
        )
    hold = Hold(
        id=0,
        debit_account_id=debit.id,
        credit_account_id=credit.id,
        amount=op.amount,
        currency=debit.currency,
        expires_at=op.expires_at,
        expiry_action=op.expiry_action,
    )
    entries = [
        Delta(debit.id, Balance(debits_pending=op.amount)),
        Delta(credit.id, Balance(credits_pending=op.amount)),
    ]
    return entries, hold


def _hold_change(op: HoldChange, hold: Hold, now: datetime) -> tuple[list[Delta], Hold, int | None]:
    if hold.status is not HoldStatus.PENDING:
        raise HoldNotPending(
            f"hold {hold.id} was already {hold.status.value}; a hold resolves exactly once",
            field="hold_id",
            hold_status=hold.status.value,
        )
    a = hold.amount
    if isinstance(op, PostOp):
        amount = a if op.amount is None else op.amount
        if amount > a:
            raise Conflict(
                f"cannot post {Money(amount, hold.currency)} of a hold of "
                f"{Money(a, hold.currency)}",
                field="amount",
            )
        entries = [
            Delta(hold.debit_account_id, Balance(debits_pending=-a, debits_posted=amount)),
            Delta(hold.credit_account_id, Balance(credits_pending=-a, credits_posted=amount)),
        ]
        return entries, replace(hold, status=HoldStatus.POSTED, posted_amount=amount), amount
    if isinstance(op, VoidOp):
        entries = [
            Delta(hold.debit_account_id, Balance(debits_pending=-a)),
            Delta(hold.credit_account_id, Balance(credits_pending=-a)),
        ]
        return entries, replace(hold, status=HoldStatus.VOIDED, posted_amount=0), None
    if isinstance(op, ExtendOp):
        if hold.expires_at is None:
            raise Conflict(f"hold {hold.id} has no expiry to extend", field="hold_id")
        if op.expires_at <= hold.expires_at:
            raise ValidationFailed(
                f"an extension must move the expiry later than {hold.expires_at.isoformat()}",
                field="expires_at",
            )
        if hold.paused:
            raise Conflict(f"hold {hold.id} is paused; resume it first", field="hold_id")
        return [], replace(hold, expires_at=op.expires_at), None
    if isinstance(op, PauseOp):
        if hold.expires_at is None:
            raise Conflict(f"hold {hold.id} has no expiry to pause", field="hold_id")
        if hold.paused:
            raise Conflict(f"hold {hold.id} is already paused", field="hold_id")
        remaining = max(hold.expires_at - now, timedelta(0))
        return [], replace(hold, paused_remaining=remaining), None
    # ResumeOp
    if not hold.paused or hold.paused_remaining is None:
        raise Conflict(f"hold {hold.id} is not paused", field="hold_id")
    resumed = replace(hold, expires_at=now + hold.paused_remaining, paused_remaining=None)
    return [], resumed, None


def check_owner(account: Account, field: str, *, internal: bool) -> None:
    """Only the owning context's use cases (``internal``) move an owned account."""
    if account.owner is not None and not internal:
        raise AccountOwned(
            f"account {account.code!r} belongs to {account.owner}: it moves only through "
            f"{account.owner}'s own operations, never through the generic ledger API",
            field=field,
            account=account.code,
            owner=account.owner,
        )


def _apply(
    entries: Iterable[Delta],
    accounts: Mapping[str, Account],
    balances: dict[str, Balance],
    by_id: Mapping[int, str],
) -> None:
    """Apply entries to the working balances, or raise naming the broken limit."""
    updated: dict[str, Balance] = {}
    for d in entries:
        code = by_id[d.account_id]
        account = accounts[code]
        before = updated.get(code) or balances[code]
        after = before + d.balance
        if max(after) > MAX_TOTAL:
            raise LimitExceeded(
                f"account {code!r} would pass the largest total a ledger account can hold "
                f"({MAX_TOTAL} minor units)",
                field="legs",
                account=code,
                limit="max_total",
            )
        limit = account.broken_limit(after)
        if limit:
            avail = balances[code].available if limit.startswith("debits") else None
            hint = f" (available {Money(avail, account.currency)})" if avail is not None else ""
            raise LimitExceeded(
                f"account {code!r} would break its limit {limit}{hint}",
                field="legs",
                account=code,
                limit=limit,
            )
        updated[code] = after
    balances.update(updated)


def plan_batch(
    ops: Sequence[Operation],
    accounts: Mapping[str, Account],
    holds: Mapping[int, Hold],
    now: datetime,
    *,
    atomic: bool,
    internal: bool = False,
) -> Plan:
    """Decide, in order, what each operation does; later operations see earlier ones' effects.

    With ``atomic`` the first refusal refuses the whole batch (every outcome is then that error
    or a `Conflict` saying the batch was rolled back). Accounts a context owns are moved only
    by ``internal`` calls (that context's use cases).
    """
    if len(ops) > MAX_BATCH:
        raise RequestTooLarge(f"a batch holds at most {MAX_BATCH} operations", field="operations")
    balances = {code: a.balance for code, a in accounts.items()}
    by_id = {a.id: a.code for a in accounts.values()}
    hold_state = dict(holds)
    outcomes: list[Planned | XinrenError] = []
    for index, op in enumerate(ops):
        try:
            validate(op)
            planned = _plan_one(op, accounts, balances, hold_state, by_id, now, internal)
        except XinrenError as err:
            if atomic:
                rolled_back = Conflict(
                    f"operation {index} was refused, so the all-or-nothing batch was not applied",
                    field=f"operations[{index}]",
                )
                outcomes = [err if i == index else rolled_back for i in range(len(ops))]
                return Plan(outcomes, dict(accounts), dict(holds))
            outcomes.append(err)
            continue
        if planned.hold is not None and planned.hold.id:
            hold_state[planned.hold.id] = planned.hold
        outcomes.append(planned)
    final = {
        code: a if balances[code] == a.balance else replace(a, balance=balances[code])
        for code, a in accounts.items()
    }
    return Plan(outcomes, final, hold_state)


def _plan_one(
    op: Operation,
    accounts: Mapping[str, Account],
    balances: dict[str, Balance],
    holds: Mapping[int, Hold],
    by_id: Mapping[int, str],
    now: datetime,
    internal: bool,
) -> Planned:
    if isinstance(op, TransferOp):
        entries = _entries_for_transfer(op, accounts)
        for i, leg in enumerate(op.legs):
            check_owner(accounts[leg.account], f"legs[{i}].account", internal=internal)
        _apply(entries, accounts, balances, by_id)
        return Planned(op, entries)
    if isinstance(op, HoldOp):
        entries, hold = _entries_for_hold(op, accounts)
        check_owner(accounts[op.debit], "debit", internal=internal)
        check_owner(accounts[op.credit], "credit", internal=internal)
        if op.expires_at is not None and op.expires_at <= now:
            raise ValidationFailed("expires_at must be in the future", field="expires_at")
        _apply(entries, accounts, balances, by_id)
        return Planned(op, entries, hold=hold)
    hold_found = holds.get(op.hold_id)
    if hold_found is None:
        raise NotFound(f"no hold {op.hold_id}", field="hold_id")
    for account_id in (hold_found.debit_account_id, hold_found.credit_account_id):
        check_owner(accounts[by_id[account_id]], "hold_id", internal=internal)
    entries, changed, posted = _hold_change(op, hold_found, now)
    _apply(entries, accounts, balances, by_id)
    return Planned(op, entries, hold=changed, post_amount=posted)


def hold_creation(hold: Hold) -> dict[int, Balance]:
    """What the transfer that created `hold` must have moved, per account."""
    moved: dict[int, Balance] = defaultdict(Balance)
    moved[hold.debit_account_id] += Balance(debits_pending=hold.amount)
    moved[hold.credit_account_id] += Balance(credits_pending=hold.amount)
    return dict(moved)


def hold_resolution(hold: Hold) -> dict[int, Balance] | None:
    """What the transfer that posted or voided `hold` must have moved, per account, by the same
    rule the write path used (`_hold_change`); None if no post or void could leave the hold so.
    """
    if hold.status is HoldStatus.POSTED:
        posted = hold.posted_amount
        if posted is None or not 0 <= posted <= hold.amount:
            return None
        op: HoldChange = PostOp(Meta(""), hold.id, posted)
    elif hold.status is HoldStatus.VOIDED:
        op = VoidOp(Meta(""), hold.id)
    else:
        return None
    pending = replace(hold, status=HoldStatus.PENDING, posted_amount=None)
    deltas, _, _ = _hold_change(op, pending, datetime.min.replace(tzinfo=UTC))
    moved: dict[int, Balance] = defaultdict(Balance)
    for d in deltas:
        moved[d.account_id] += d.balance
    return dict(moved)
