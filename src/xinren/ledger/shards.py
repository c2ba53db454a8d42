"""Clearing shards: how a busy account (the payment provider's clearing account, the platform's
commission, a top host's balance) takes thousands of concurrent orders without becoming the
row every one of them waits on.

A transfer locks each account it moves until its transaction commits, so every order that
credits the same account waits for the one before it to commit: a flash sale of one listing to
10,000 buyers would run one order at a time. Instead the account is split: an order moves
shard ``{code}:s{k}`` (`model.shard_code`, k chosen by the caller from the order, so one order
always uses the same shard), concurrent orders touch different rows, and the sweep moves every
shard's balance into the account itself in one transfer per account, written in the journal
like any other (reason ``sweep``). The shards keep their own limits (a shard of a limited
account is limited), so nothing is ever swept that is not there.

The sweep runs on every tick of the timer loop (`xinren tick`, the loop of `xinren serve`),
after the due timers: no order asks for it (that would be one more statement per order, and a
row they would all write), and a tick that finds nothing to move costs one query over the
shards alone (a partial index holds only them). On PostgreSQL it skips shards locked by orders
in flight (``SKIP LOCKED``), so it never waits on an order and no order waits on it; the next
tick takes them. Until it runs, an account's balance is its own plus its shards'
(`family_balance`); a shard is never debited by anything but the sweep and its own order's
refund, so the lag delays money, it never lets an account pay out what it does not have.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.ids import derived
from xinren.ledger import model
from xinren.ledger.accounts import create_account, create_accounts, get_account
from xinren.ledger.model import Balance
from xinren.ledger.tables import accounts
from xinren.ledger.writes import submit


def open_shards(
    session: Session,
    clock: Clock,
    parent: str,
    count: int,
    currency: str,
    *,
    limited: bool,
    internal: bool,
    swept: bool = True,
) -> list[str]:
    """Open `parent` (if it is not open) and its shards 0 .. `count` - 1, all with the same
    limit, in one insert; their codes. The first move into any shard opens the whole family,
    so the others never miss. A shard that is not ``swept`` is emptied by its owner instead
    (a merchant's pending settlement is released order by order from the shard it was settled
    into)."""
    codes = [model.shard_code(parent, k) for k in range(count)]
    create_account(
        session, clock, parent, currency, debits_must_not_exceed_credits=limited, internal=internal
    )
    create_accounts(
        session,
        clock,
        codes,
        currency,
        debits_must_not_exceed_credits=limited,
        internal=internal,
        sweep_into=parent if swept else None,
    )
    return codes


def family_balance(session: Session, code: str) -> Balance:
    """The account's balance with its shards' (those not yet swept, and those never swept)."""
    total = get_account(session, code).balance
    shard_codes = [model.shard_code(code, k) for k in range(model.MAX_SHARDS)]
    rows = session.execute(
        select(
            accounts.c.debits_posted,
            accounts.c.credits_posted,
            accounts.c.debits_pending,
            accounts.c.credits_pending,
        ).where(accounts.c.code.in_(shard_codes))
    )
    for r in rows:
        total = total + Balance(*r)
    return total


def sweep(session: Session, clock: Clock) -> int:
    """Move every shard's posted balance into its account: one transfer per account; the
    number of shards swept. Shards with pending amounts, and on PostgreSQL shards an order
    holds locked right now, wait for the next sweep."""
    q = (
        select(
            accounts.c.id,
            accounts.c.code,
            accounts.c.sweep_into,
            accounts.c.debits_posted,
            accounts.c.credits_posted,
        )
        .where(accounts.c.sweep_into.is_not(None))
        .where(accounts.c.debits_posted != accounts.c.credits_posted)
        .where(accounts.c.debits_pending == 0, accounts.c.credits_pending == 0)
        .order_by(accounts.c.id)
    )
    if is_postgres(session):
        q = q.with_for_update(skip_locked=True)
    shards = session.execute(q).all()
    by_parent: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for s in shards:
        by_parent[s.sweep_into].append((s.code, s.credits_posted - s.debits_posted))
    parents = dict(
        session.execute(
            select(accounts.c.id, accounts.c.code).where(accounts.c.id.in_(list(by_parent)))
        ).all()
    )
    ops = [
        op
        for pid, moved in sorted(by_parent.items())
        for op in model.plan_sweep(
            parents[pid], moved, derived("ledger.sweep", pid, clock.now(), moved)
        )
    ]
    if ops:
        for outcome in submit(session, clock, ops, system=True, internal=True):
            if isinstance(outcome, Exception):
                raise outcome  # the shards were read under lock: a refusal is a bug
    return sum(len(m) for m in by_parent.values())
