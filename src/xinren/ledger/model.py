"""Pure ledger rules: no I/O, no SQLAlchemy.

An account keeps four running totals, as TigerBeetle does: debits and credits, each posted and
pending. A transfer is a list of legs whose debits equal its credits in every currency. A hold
is a pending debit/credit pair that is later posted (in full or part; the rest is released) or
voided, exactly once. Limits are checked against posted + pending, so a hold counts at once.

The service loads account and hold states, asks `plan_batch` what a batch of operations does to
them, and persists exactly that; the database's check constraints repeat the limit rules as the
last line of defence.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal, NamedTuple

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
from xinren.money import Money, check_amount

MAX_LEGS = 64
MAX_BATCH = 8190  # TigerBeetle's batch size; larger requests are refused, not truncated
MAX_CODE = 200
MAX_REASON = 64
MAX_REFS = 16
#: an account's four totals are 64-bit columns: an operation that would carry one past this is
#: refused before anything is written (SQLite would silently turn the sum into a float)
MAX_TOTAL = 2**63 - 1


class Side(enum.StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class HoldStatus(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


class ExpiryAction(enum.StrEnum):
    POST = "post"
    VOID = "void"


class Kind(enum.StrEnum):
    """What an operation in the journal did."""

    TRANSFER = "transfer"
    HOLD = "hold"
    POST = "post"
    VOID = "void"
    EXTEND = "extend"
    PAUSE = "pause"
    RESUME = "resume"


class Balance(NamedTuple):
    """The four running totals of an account, in minor units.

    A NamedTuple rather than a frozen dataclass: the write path builds several per leg, and
    tuples are built in C (a batch of 1,000 transfers spent a fifth of its time in __init__).
    """

    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    def __add__(self, other: Balance) -> Balance:  # type: ignore[override]
        return Balance(
            self[0] + other[0], self[1] + other[1], self[2] + other[2], self[3] + other[3]
        )

    @property
    def net(self) -> int:
        """Posted credits minus posted debits: what a liability/revenue account holds."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """Net minus what pending debits have reserved."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    def is_zero(self) -> bool:
        return not any(self)


ZERO = Balance()


@dataclass(frozen=True, slots=True)
class Account:
    """`owner`: the context whose use cases alone move this account (an order's escrow is
    orders'); None for an account anyone with ledger access may use."""

    id: int
    code: str
    currency: str
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    balance: Balance = ZERO
    owner: str | None = None

    def broken_limit(self, balance: Balance) -> str | None:
        """Name the limit `balance` would break on this account, or None."""
        b = balance
        if self.debits_must_not_exceed_credits and (
            b.debits_posted + b.debits_pending > b.credits_posted
        ):
            return "debits_must_not_exceed_credits"
        if self.credits_must_not_exceed_debits and (
            b.credits_posted + b.credits_pending > b.debits_posted
        ):
            return "credits_must_not_exceed_debits"
        return None


def disagreements(
    held: Mapping[str, int], recorded: Mapping[str, int], name: Callable[[str], str]
) -> list[str]:
    """Where an owner's record of movements and the ledger's balances of its accounts differ:
    `held` is each account's balance, `recorded` the sum of the movements the owner recorded
    for it, both under the owner's own key (a merchant, a currency)."""
    out = []
    for key in sorted(set(held) | set(recorded)):
        booked = recorded.get(key, 0)
        if key not in held:
            if booked:
                out.append(f"{name(key)}: movements of {booked} are recorded but it has no account")
        elif held[key] != booked:
            out.append(
                f"{name(key)}: the ledger holds {held[key]}, its recorded movements add up to "
                f"{booked}"
            )
    return out


def check_code(code: object, field: str = "code") -> str:
    """Account codes are short, lower-case, colon-separated words: ``merchant:42:available``."""
    if not isinstance(code, str) or not code or len(code) > MAX_CODE:
        raise ValidationFailed(f"an account code is 1-{MAX_CODE} characters", field=field)
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789:_-.")
    bad = sorted(set(code) - allowed)
    if bad:
        raise ValidationFailed(
            f"account code {code!r} has characters outside a-z 0-9 : _ - . ({''.join(bad)!r})",
            field=field,
        )
    return code


def check_account_flags(debits_limited: bool, credits_limited: bool) -> None:
    if debits_limited and credits_limited:
        raise ValidationFailed(
            "an account cannot limit both debits and credits: nothing could ever move",
            field="flags",
        )


# --- operations -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leg:
    account: str
    side: Side
    amount: int


@dataclass(frozen=True, slots=True)
class Meta:
    """What every mutating operation carries: its idempotency key, why, and what it is about."""

    key: str
    reason: str = ""
    refs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TransferOp:
    meta: Meta
    legs: tuple[Leg, ...]
    kind: Literal[Kind.TRANSFER] = Kind.TRANSFER


@dataclass(frozen=True, slots=True)
class HoldOp:
    meta: Meta
    debit: str
    credit: str
    amount: int
    expires_at: datetime | None = None
    expiry_action: ExpiryAction | None = None
    kind: Literal[Kind.HOLD] = Kind.HOLD


@dataclass(frozen=True, slots=True)
class PostOp:
    meta: Meta
    hold_id: int
    amount: int | None = None  # None: the whole hold
    kind: Literal[Kind.POST] = Kind.POST


@dataclass(frozen=True, slots=True)
class VoidOp:
    meta: Meta
    hold_id: int
    kind: Literal[Kind.VOID] = Kind.VOID


@dataclass(frozen=True, slots=True)
class ExtendOp:
    meta: Meta
    hold_id: int
    expires_at: datetime
    kind: Literal[Kind.EXTEND] = Kind.EXTEND


@dataclass(frozen=True, slots=True)
class PauseOp:
    meta: Meta
    hold_id: int
    kind: Literal[Kind.PAUSE] = Kind.PAUSE


@dataclass(frozen=True, slots=True)
class ResumeOp:
    meta: Meta
    hold_id: int
    kind: Literal[Kind.RESUME] = Kind.RESUME


HoldChange = PostOp | VoidOp | ExtendOp | PauseOp | ResumeOp
Operation = TransferOp | HoldOp | HoldChange


def accounts_of(op: Operation) -> tuple[str, ...]:
    """Account codes an operation names directly (hold changes name theirs through the hold)."""
    if isinstance(op, TransferOp):
        return tuple(leg.account for leg in op.legs)
    if isinstance(op, HoldOp):
        return (op.debit, op.credit)
    return ()


def payload(op: Operation) -> dict[str, object]:
    """The request as the caller meant it, for the idempotency fingerprint (key excluded)."""
    body: dict[str, object] = {
        "kind": op.kind.value,
        "reason": op.meta.reason,
        "refs": dict(op.meta.refs),
    }
    if isinstance(op, TransferOp):
        body["legs"] = [[leg.account, leg.side.value, leg.amount] for leg in op.legs]
    elif isinstance(op, HoldOp):
        body.update(
            debit=op.debit,
            credit=op.credit,
            amount=op.amount,
            expires_at=op.expires_at.isoformat() if op.expires_at else None,
            expiry_action=op.expiry_action.value if op.expiry_action else None,
        )
    else:
        body["hold_id"] = op.hold_id
        if isinstance(op, PostOp):
            body["amount"] = op.amount
        if isinstance(op, ExtendOp):
            body["expires_at"] = op.expires_at.isoformat()
    return body


def validate(op: Operation) -> None:
    """Check an operation on its own (shape, amounts, balance of codes); raise naming the field."""
    meta = op.meta
    if len(meta.reason) > MAX_REASON:
        raise ValidationFailed(f"reason is at most {MAX_REASON} characters", field="reason")
    if len(meta.refs) > MAX_REFS:
        raise ValidationFailed(f"at most {MAX_REFS} references", field="refs")
    for name, value in meta.refs.items():
        if not isinstance(name, str) or not isinstance(value, str) or len(value) > 200:
            raise ValidationFailed("references map short names to strings", field=f"refs.{name}")
    if isinstance(op, TransferOp):
        if not op.legs:
            raise ValidationFailed("a transfer needs at least two legs", field="legs")
        if len(op.legs) > MAX_LEGS:
            raise RequestTooLarge(f"a transfer has at most {MAX_LEGS} legs", field="legs")
        for i, leg in enumerate(op.legs):
            check_code(leg.account, field=f"legs[{i}].account")
            check_amount(leg.amount, field=f"legs[{i}].amount", positive=True)
        if not any(leg.side is Side.DEBIT for leg in op.legs) or not any(
            leg.side is Side.CREDIT for leg in op.legs
        ):
            raise Unbalanced("a transfer needs at least one debit and one credit", field="legs")
    elif isinstance(op, HoldOp):
        check_code(op.debit, field="debit")
        check_code(op.credit, field="credit")
        check_amount(op.amount, field="amount", positive=True)
        if op.debit == op.credit:
            raise ValidationFailed("a hold must move money between two accounts", field="credit")
        if (op.expires_at is None) != (op.expiry_action is None):
            raise ValidationFailed(
                "give both expires_at and expiry_action, or neither", field="expiry_action"
            )
    elif isinstance(op, PostOp) and op.amount is not None:
        check_amount(op.amount, field="amount", positive=True)


# --- planning ---------------------------------------------------------------------------------


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


def _entries_for_transfer(op: TransferOp, accounts: Mapping[str, Account]) -> list[Delta]:
    per_currency: dict[str, int] = defaultdict(int)
    merged: dict[int, Balance] = {}
    for i, leg in enumerate(op.legs):
        account = accounts.get(leg.account)
        if account is None:
            raise NotFound(f"no account {leg.account!r}", field=f"legs[{i}].account")
        per_currency[account.currency] += leg.amount if leg.side is Side.DEBIT else -leg.amount
        delta = Balance(leg.amount, 0, 0, 0) if leg.side is Side.DEBIT else Balance(0, leg.amount)
        previous = merged.get(account.id)
        merged[account.id] = delta if previous is None else previous + delta
    off = {cur: diff for cur, diff in per_currency.items() if diff}
    if off:
        detail = ", ".join(
            f"{cur}: debits exceed credits by {Money(d, cur)}"
            if d > 0
            else f"{cur}: credits exceed debits by {Money(-d, cur)}"
            for cur, d in sorted(off.items())
        )
        raise Unbalanced(f"transfer legs do not balance ({detail})", field="legs")
    return [Delta(aid, bal) for aid, bal in merged.items()]


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


# --- the sealed journal -----------------------------------------------------------------------

GENESIS = "0" * 64
CHAIN_VERSION = 2  # the line format `seal` writes; `verify` reads each block with its own

#: Kinds that must move money (have journal entries), and kinds that name the hold they change.
MOVES_MONEY = frozenset({Kind.TRANSFER, Kind.HOLD, Kind.POST, Kind.VOID})
CHANGES_A_HOLD = frozenset({Kind.POST, Kind.VOID, Kind.EXTEND, Kind.PAUSE, Kind.RESUME})


def entry_line(
    entry_id: int,
    transfer_id: int,
    account_id: int,
    change: Balance,
    kind: str,
    key: str,
    payload_hash: str,
) -> str:
    """Version 1's text of one journal entry: kept because blocks sealed with it must verify.

    It leaves out the transfer's reason, refs and created_at, the account and the hold, and
    joins fields with '|' (a field containing '|' could shift into its neighbour).
    """
    return (
        f"{entry_id}|{transfer_id}|{account_id}|{change.debits_posted}|{change.credits_posted}|"
        f"{change.debits_pending}|{change.credits_pending}|{kind}|{key}|{payload_hash}"
    )


@lru_cache(maxsize=4096)  # a batch's entries share one instant, an account's entries another
def canonical_instant(value: datetime) -> str:
    """One text per instant whatever zone or driver it came in: UTC, to the microsecond.

    A naive value is UTC (SQLite drops the zone of what Xinren stored as UTC).
    """
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return canonical_instant(value)
    # anything else a tampered row could hold (bytes, a float...) still gets one fixed text
    return f"{type(value).__name__}:{value!r}"


def chain_line(tag: str, values: Iterable[object]) -> str:
    """Version 2's text of one sealed row: `tag` and every value, as a JSON array.

    JSON keeps each field in its place (no separator can leak), sorts the keys of nested
    objects (refs) and renders instants as UTC text, so a line reads the same from SQLite and
    PostgreSQL and any change to any value changes it.
    """
    return json.dumps(
        [tag, *values], sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_canonical
    )


def block_header(
    version: object,
    entry_count: object,
    transfer_horizon: object,
    transfer_ids: object,
    late: object,
    sealed_at: object,
) -> str:
    """The first line of a version 2 block: its own columns, so changing them breaks it too.

    Values as stored (`verify` passes what it read, however a tamperer left it).
    """
    return chain_line(
        "block", [version, entry_count, transfer_horizon, transfer_ids, late, sealed_at]
    )


class BlockHasher:
    """A block's hash fed one line at a time: `verify` streams the journal once, in id order,
    feeding each entry to its block, instead of reading the journal once per block."""

    __slots__ = ("_h", "lines")

    def __init__(self, block_id: int, prev_hash: str) -> None:
        self._h = hashlib.sha256(f"{block_id}|{prev_hash}\n".encode())
        self.lines = 0

    def add(self, line: str) -> None:
        self._h.update(line.encode())
        self._h.update(b"\n")
        self.lines += 1

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def block_hash(block_id: int, prev_hash: str, lines: Iterable[str]) -> str:
    """sha256 over the block number, the previous block's hash and the block's lines."""
    h = BlockHasher(block_id, prev_hash)
    for line in lines:
        h.add(line)
    return h.hexdigest()


def missing_ids(after: int, horizon: int, seen: Iterable[int], cap: int) -> list[int]:
    """The ids in (after, horizon] not in `seen`, highest first, at most `cap` of them.

    Walks down from `horizon` so a huge gap (a sequence that jumped) costs `cap`, not its size.
    """
    present = sorted({i for i in seen if after < i <= horizon}, reverse=True)
    out: list[int] = []
    expect = horizon
    for i in [*present, after]:
        while expect > i and len(out) < cap:
            out.append(expect)
            expect -= 1
        if len(out) >= cap:
            break
        expect = i - 1
    return out


def still_late(
    previous: Sequence[tuple[int, int]],
    after: int,
    horizon: int,
    seen: Iterable[int],
    now: datetime,
    keep_for: timedelta,
    cap: int,
) -> list[tuple[int, int]]:
    """Transfer ids up to `horizon` that the sealer could not see yet, with when (epoch
    seconds) each was first missed: a transaction that took an id and commits later.

    Ids seen now leave the list; ids missed longer than `keep_for` leave it too (a rolled-back
    id never appears; `verify` names any transfer that does appear after that). The highest
    `cap` ids are kept.
    """
    seen_set = set(seen)
    now_s = int(now.timestamp())
    oldest = now_s - int(keep_for.total_seconds())
    kept = {i: since for i, since in previous if i not in seen_set and since >= oldest}
    for i in missing_ids(after, horizon, seen_set, cap):
        kept.setdefault(i, now_s)
    return sorted(kept.items())[-cap:] if len(kept) > cap else sorted(kept.items())


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
