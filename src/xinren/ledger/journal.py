"""Sealing the journal into a hash chain, and verifying the whole ledger from it.

Writers never touch the chain: they append entries with no seal. A sealer (`xinren tick`, the
server loop, `xinren ledger seal`) later takes every committed unsealed entry, in id order, into
the next block: ``hash = sha256(block no, previous hash, entry lines)``. Entries that commit late
(a lower id committing after a higher one was sealed) simply land in a later block, so the chain
never depends on commit order and concurrent writers never queue on one lock. Changing, deleting
or re-sealing a sealed entry breaks its block's hash, and the chain shows the first broken block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.ledger.model import GENESIS, Balance, block_hash, entry_line
from xinren.ledger.tables import accounts, entries, holds, seals, transfers
from xinren.money import Money

_SEAL_LOCK = 0x5EA1  # PostgreSQL advisory lock id: one sealer at a time
_CHUNK = 1000


def _lines(session: Session, cond: object, limit: int | None = None) -> Iterator[tuple[int, str]]:
    q = (
        select(
            entries.c.id,
            entries.c.transfer_id,
            entries.c.account_id,
            entries.c.debits_posted,
            entries.c.credits_posted,
            entries.c.debits_pending,
            entries.c.credits_pending,
            transfers.c.kind,
            transfers.c.idempotency_key,
            transfers.c.payload_hash,
        )
        .join(transfers, transfers.c.id == entries.c.transfer_id)
        .where(cond)  # type: ignore[arg-type]
        .order_by(entries.c.id)
        .limit(limit)
    )
    for r in session.execute(q):
        change = Balance(r.debits_posted, r.credits_posted, r.debits_pending, r.credits_pending)
        yield (
            r.id,
            entry_line(
                r.id, r.transfer_id, r.account_id, change, r.kind, r.idempotency_key, r.payload_hash
            ),
        )


def seal(session: Session, clock: Clock, max_entries: int = 50_000) -> int:
    """Seal committed unsealed entries into the next block; returns how many were sealed."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SEAL_LOCK})
    head = session.execute(
        select(seals.c.id, seals.c.hash).order_by(seals.c.id.desc()).limit(1)
    ).first()
    block_id, prev = (head.id + 1, head.hash) if head else (1, GENESIS)
    unsealed = list(_lines(session, entries.c.seal_id.is_(None), max_entries))
    if not unsealed:
        return 0
    digest = block_hash(block_id, prev, (line for _, line in unsealed))
    session.execute(
        seals.insert(),
        dict(
            id=block_id,
            prev_hash=prev,
            hash=digest,
            entry_count=len(unsealed),
            sealed_at=clock.now(),
        ),
    )
    ids = [i for i, _ in unsealed]
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            update(entries)
            .where(entries.c.id.in_(ids[start : start + _CHUNK]), entries.c.seal_id.is_(None))
            .values(seal_id=block_id)
        )
    return len(unsealed)


@dataclass
class VerifyReport:
    """What `verify` found; `problems` lists inconsistencies, the first one first."""

    accounts: int = 0
    entries: int = 0
    blocks: int = 0
    unsealed: int = 0
    totals: dict[str, Balance] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> VerifyReport:
    """Rebuild every balance from the journal and check sums, limits, holds and the chain."""
    report = VerifyReport()
    rebuilt: dict[int, Balance] = defaultdict(Balance)
    q = select(
        entries.c.account_id,
        func.sum(entries.c.debits_posted),
        func.sum(entries.c.credits_posted),
        func.sum(entries.c.debits_pending),
        func.sum(entries.c.credits_pending),
        func.count(),
    ).group_by(entries.c.account_id)
    for aid, dp, cp, dq, cq, n in session.execute(q):
        rebuilt[aid] = Balance(int(dp), int(cp), int(dq), int(cq))
        report.entries += int(n)

    pending_by_account: dict[int, Balance] = defaultdict(Balance)
    for debit_id, credit_id, amount in session.execute(
        select(holds.c.debit_account_id, holds.c.credit_account_id, holds.c.amount).where(
            holds.c.status == "pending"
        )
    ):
        pending_by_account[debit_id] += Balance(debits_pending=amount)
        pending_by_account[credit_id] += Balance(credits_pending=amount)

    per_currency: dict[str, Balance] = defaultdict(Balance)
    for row in session.execute(select(accounts).order_by(accounts.c.id)):
        report.accounts += 1
        stored = Balance(
            row.debits_posted, row.credits_posted, row.debits_pending, row.credits_pending
        )
        journal = rebuilt.get(row.id, Balance())
        per_currency[row.currency] += stored
        if stored != journal:
            report.problems.append(
                f"account {row.code!r}: stored totals {stored} differ from the journal's {journal}"
            )
        if row.debits_must_not_exceed_credits and (
            stored.debits_posted + stored.debits_pending > stored.credits_posted
        ):
            report.problems.append(f"account {row.code!r} breaks debits_must_not_exceed_credits")
        if row.credits_must_not_exceed_debits and (
            stored.credits_posted + stored.credits_pending > stored.debits_posted
        ):
            report.problems.append(f"account {row.code!r} breaks credits_must_not_exceed_debits")
        held = pending_by_account.get(row.id, Balance())
        if (held.debits_pending, held.credits_pending) != (
            stored.debits_pending,
            stored.credits_pending,
        ):
            report.problems.append(
                f"account {row.code!r}: pending totals ({stored.debits_pending} debit, "
                f"{stored.credits_pending} credit) differ from its pending holds "
                f"({held.debits_pending}, {held.credits_pending})"
            )
    report.totals = dict(per_currency)
    for currency, total in sorted(per_currency.items()):
        if total.debits_posted != total.credits_posted:
            diff = Money(total.credits_posted - total.debits_posted, currency)
            report.problems.append(f"{currency}: posted balances sum to {diff}, not 0")
        if total.debits_pending != total.credits_pending:
            diff = Money(total.credits_pending - total.debits_pending, currency)
            report.problems.append(f"{currency}: pending balances sum to {diff}, not 0")

    unbalanced = session.execute(
        select(entries.c.transfer_id, accounts.c.currency)
        .join(accounts, accounts.c.id == entries.c.account_id)
        .group_by(entries.c.transfer_id, accounts.c.currency)
        .having(
            (func.sum(entries.c.debits_posted) != func.sum(entries.c.credits_posted))
            | (func.sum(entries.c.debits_pending) != func.sum(entries.c.credits_pending))
        )
        .order_by(entries.c.transfer_id)
        .limit(5)
    ).all()
    for tid, currency in unbalanced:
        report.problems.append(f"transfer {tid}: its {currency} entries do not balance")

    _verify_chain(session, report)
    return report


def _verify_chain(session: Session, report: VerifyReport) -> None:
    prev = GENESIS
    expected_id = 1
    for block in session.execute(select(seals).order_by(seals.c.id)):
        report.blocks += 1
        if block.id != expected_id:
            report.problems.append(f"seal block {expected_id} is missing (next is {block.id})")
            return
        if block.prev_hash != prev:
            report.problems.append(f"seal block {block.id}: does not link to block {block.id - 1}")
            return
        lines = [line for _, line in _lines(session, entries.c.seal_id == block.id)]
        if len(lines) != block.entry_count:
            report.problems.append(
                f"seal block {block.id}: holds {len(lines)} entries, sealed with "
                f"{block.entry_count} (entries deleted or added)"
            )
            return
        if block_hash(block.id, prev, lines) != block.hash:
            report.problems.append(
                f"seal block {block.id}: hash mismatch: a sealed entry or its transfer was changed"
            )
            return
        prev = block.hash
        expected_id += 1
    report.unsealed = int(
        session.execute(select(func.count()).where(entries.c.seal_id.is_(None))).scalar_one()
    )
