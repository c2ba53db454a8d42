"""Reading what the ledger wrote: a hold, a transfer with its legs, an account's history and
the totals per currency. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinren.errors import NotFound
from xinren.ledger import storage
from xinren.ledger.accounts import get_account
from xinren.ledger.model import Balance, Hold, Kind
from xinren.ledger.tables import accounts, entries, holds, transfers


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
