"""Ledger accounts: opening one (its code is its idempotency key), the codes a context reserves
for itself, locking accounts in one global order, and reading them. Moving money is not here:
every move goes through `service.submit`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.errors import AccountOwned, AlreadyExists, NotFound
from xinren.ledger import model
from xinren.ledger.model import Account, Balance
from xinren.ledger.tables import accounts
from xinren.money import check_currency


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
    sweep_into: str | None = None,
) -> Account:
    """Open an account; the code is its idempotency key (same code and settings: the same one).

    A code another context reserved (an order's escrow, a deposit, ...) is opened only by that
    context (``internal``) and records it as the owner, so nobody can open it first by hand.
    ``sweep_into`` opens a clearing shard of that account (`xinren.ledger.shards`), which
    must exist in the same currency.
    """
    (opened,) = create_accounts(
        session,
        clock,
        [code],
        currency,
        debits_must_not_exceed_credits=debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=credits_must_not_exceed_debits,
        internal=internal,
        sweep_into=sweep_into,
    )
    return opened


def create_accounts(
    session: Session,
    clock: Clock,
    codes: Sequence[str],
    currency: str,
    *,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
    internal: bool = False,
    sweep_into: str | None = None,
) -> list[Account]:
    """`create_account` for several codes with the same settings: one insert and one read,
    whatever their number (a family of clearing shards is opened at once)."""
    check_currency(currency)
    model.check_account_flags(debits_must_not_exceed_credits, credits_must_not_exceed_debits)
    wanted: dict[str, dict[str, Any]] = {}
    for code in codes:
        model.check_code(code)
        reserved = owner_of(code)
        if reserved is not None and not internal:
            raise AccountOwned(
                f"account code {code!r} is reserved for {reserved.what} ({reserved.owner} opens "
                "them itself); choose another code",
                field="code",
                owner=reserved.owner,
            )
        wanted[code] = dict(
            code=code,
            currency=currency,
            debits_must_not_exceed_credits=debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=credits_must_not_exceed_debits,
            owner=reserved.owner if reserved else None,
        )
    parent_id = _parent_id(session, sweep_into, currency) if sweep_into is not None else None
    now = clock.now()
    rows = [
        dict(
            **w,
            sweep_into=parent_id,
            debits_posted=0,
            credits_posted=0,
            debits_pending=0,
            credits_pending=0,
            created_at=now,
        )
        for w in wanted.values()
    ]
    stmt = insert_ignoring(session, accounts).values(rows)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["code"]))
    found = {
        row.code: row
        for row in session.execute(select(accounts).where(accounts.c.code.in_(list(wanted))))
    }
    opened = []
    for code, w in wanted.items():
        row = found[code]
        existing = _account(row)
        for name, value in w.items():
            if getattr(existing, name) != value:
                raise AlreadyExists(
                    f"account {code!r} exists with {name}={getattr(existing, name)!r}",
                    field=name,
                )
        if row.sweep_into != parent_id:
            raise AlreadyExists(
                f"account {code!r} exists, "
                + (
                    f"as a shard of account {row.sweep_into}"
                    if row.sweep_into
                    else "not as a shard"
                ),
                field="sweep_into",
            )
        opened.append(existing)
    return opened


def _parent_id(session: Session, parent: str, currency: str) -> int:
    """The id of the account a shard sweeps into; it exists, in the shard's currency."""
    found = get_account(session, parent)
    if found.currency != currency:
        raise AlreadyExists(
            f"account {parent!r} is in {found.currency}, not {currency}", field="currency"
        )
    return found.id


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


def insert_ignoring(session: Session, table: Any) -> Any:
    """A dialect-specific INSERT, so ``ON CONFLICT DO NOTHING`` works on both databases."""
    return postgresql.insert(table) if is_postgres(session) else sqlite.insert(table)
