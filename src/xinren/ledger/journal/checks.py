"""Verifying the books: every balance rebuilt from the journal, limits, sums to zero per
currency, rows that name missing rows, and transfers that do not balance or whose kind does not
fit. `verify` runs these, then the hold checks and the chain checks, in one snapshot."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.ledger import model
from xinren.ledger.journal.chain_checks import check_chain, check_lone_transfers
from xinren.ledger.journal.findings import VerifyReport, found_in, money_text
from xinren.ledger.journal.hold_checks import check_holds
from xinren.ledger.journal.lag import lag
from xinren.ledger.model import Balance, HoldStatus, Kind
from xinren.ledger.tables import accounts, entries, holds, seals, transfers


def verify(session: Session, clock: Clock | None = None) -> VerifyReport:
    """Rebuild every balance from the journal and check sums, limits, holds, orphans, that every
    transfer balances, and the chain; and report the sealer's lag (as of `clock`). Run it in
    one snapshot (REPEATABLE READ on PostgreSQL) while writers write."""
    report = VerifyReport()
    behind = lag(session, clock)
    report.unsealed, report.oldest_unsealed_age = behind.unsealed, behind.oldest_age
    _check_balances(session, report)
    _check_orphans(session, report)
    _check_transfers(session, report)
    check_holds(session, report)
    blocks = check_chain(session, report)
    check_lone_transfers(session, report, blocks)
    return report


def _check_balances(session: Session, report: VerifyReport) -> None:
    """Stored totals equal the journal's, limits hold, pending totals equal the pending holds,
    and every currency sums to zero."""
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
            holds.c.status == HoldStatus.PENDING.value
        )
    ):
        pending_by_account[debit_id] += Balance(debits_pending=amount)
        pending_by_account[credit_id] += Balance(credits_pending=amount)

    per_currency: dict[str, Balance] = defaultdict(Balance)
    a = accounts.c
    q_accounts = select(
        a.id,
        a.code,
        a.currency,
        a.debits_must_not_exceed_credits,
        a.credits_must_not_exceed_debits,
        a.debits_posted,
        a.credits_posted,
        a.debits_pending,
        a.credits_pending,
    ).order_by(a.id)
    for row in session.execute(q_accounts):
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
            diff = money_text(total.credits_posted - total.debits_posted, currency)
            report.problems.append(f"{currency}: posted balances sum to {diff}, not 0")
        if total.debits_pending != total.credits_pending:
            diff = money_text(total.credits_pending - total.debits_pending, currency)
            report.problems.append(f"{currency}: pending balances sum to {diff}, not 0")


def _check_orphans(session: Session, report: VerifyReport) -> None:
    """Rows that name a row that does not exist (the journal has no foreign keys)."""
    e = entries.c
    with found_in(report, "entries on missing accounts") as found:
        q_accounts = (
            select(e.id, e.transfer_id, e.account_id)
            .select_from(entries.outerjoin(accounts, accounts.c.id == e.account_id))
            .where(accounts.c.id.is_(None))
            .order_by(e.id)
        )
        for eid, tid, aid in session.execute(q_accounts):
            found.add(f"entry {eid} (transfer {tid}) is on account {aid}, which does not exist")
    with found_in(report, "entries of missing transfers") as found:
        q_transfers = (
            select(e.id, e.transfer_id, e.account_id)
            .select_from(entries.outerjoin(transfers, transfers.c.id == e.transfer_id))
            .where(transfers.c.id.is_(None))
            .order_by(e.id)
        )
        for eid, tid, aid in session.execute(q_transfers):
            found.add(
                f"entry {eid} (account {aid}) belongs to transfer {tid}, which does not exist"
            )
    with found_in(report, "entries sealed into missing blocks") as found:
        q_seals = (
            select(e.id, e.seal_id)
            .select_from(entries.outerjoin(seals, seals.c.id == e.seal_id))
            .where(e.seal_id.is_not(None), seals.c.id.is_(None))
            .order_by(e.id)
        )
        for eid, sid in session.execute(q_seals):
            found.add(f"entry {eid} is sealed into block {sid}, which does not exist")
    with found_in(report, "holds naming missing rows") as found:
        for problem in _hold_orphans(session):
            found.add(problem)
    with found_in(report, "transfers naming missing holds") as found:
        q_holds = (
            select(transfers.c.id, transfers.c.kind, transfers.c.hold_id)
            .select_from(transfers.outerjoin(holds, holds.c.id == transfers.c.hold_id))
            .where(transfers.c.hold_id.is_not(None), holds.c.id.is_(None))
            .order_by(transfers.c.id)
        )
        for tid, kind, hid in session.execute(q_holds):
            found.add(f"transfer {tid} ({kind}) names hold {hid}, which does not exist")


def _hold_orphans(session: Session) -> Iterator[str]:
    creator = transfers.alias("creator")
    debit, credit = accounts.alias("debit"), accounts.alias("credit")
    q = (
        select(
            holds.c.id,
            holds.c.transfer_id,
            holds.c.debit_account_id,
            holds.c.credit_account_id,
            creator.c.id.label("creator"),
            debit.c.id.label("debit"),
            credit.c.id.label("credit"),
        )
        .select_from(
            holds.outerjoin(creator, creator.c.id == holds.c.transfer_id)
            .outerjoin(debit, debit.c.id == holds.c.debit_account_id)
            .outerjoin(credit, credit.c.id == holds.c.credit_account_id)
        )
        .where(or_(creator.c.id.is_(None), debit.c.id.is_(None), credit.c.id.is_(None)))
        .order_by(holds.c.id)
    )
    for r in session.execute(q):
        if r.creator is None:
            yield f"hold {r.id} was created by transfer {r.transfer_id}, which does not exist"
        if r.debit is None:
            yield f"hold {r.id}: its debit account {r.debit_account_id} does not exist"
        if r.credit is None:
            yield f"hold {r.id}: its credit account {r.credit_account_id} does not exist"


def _imbalance(amounts: Sequence[Any], currency: str | None = None) -> str:
    """Which side of a transfer's sums is off: posted, pending or both."""
    dp, cp, dq, cq = (int(a) for a in amounts)

    def fmt(a: int) -> str:
        return money_text(a, currency) if currency else str(a)

    parts = []
    if dp != cp:
        parts.append(f"posted debits {fmt(dp)} against credits {fmt(cp)}")
    if dq != cq:
        parts.append(f"pending debits {fmt(dq)} against credits {fmt(cq)}")
    return "; ".join(parts) + ("" if currency else ", in minor units")


def _check_transfers(session: Session, report: VerifyReport) -> None:
    """Every transfer balances: from its entries alone (a leg on a missing account counts too),
    and per currency where the accounts are known. It has entries exactly when its kind moves
    money, and names a hold exactly when its kind changes one."""
    e = entries.c
    sums = (
        func.sum(e.debits_posted),
        func.sum(e.credits_posted),
        func.sum(e.debits_pending),
        func.sum(e.credits_pending),
    )
    off = (sums[0] != sums[1]) | (sums[2] != sums[3])
    named: set[int] = set()
    with found_in(report, "unbalanced transfers") as found:
        q_all = (
            select(e.transfer_id, *sums).group_by(e.transfer_id).having(off).order_by(e.transfer_id)
        )
        for tid, *amounts in session.execute(q_all):
            named.add(tid)
            found.add(f"transfer {tid}: its entries do not balance ({_imbalance(amounts)})")
    with found_in(report, "transfers unbalanced in one currency") as found:
        q_currency = (
            select(e.transfer_id, accounts.c.currency, *sums)
            .join(accounts, accounts.c.id == e.account_id)
            .group_by(e.transfer_id, accounts.c.currency)
            .having(off)
            .order_by(e.transfer_id, accounts.c.currency)
        )
        for tid, currency, *amounts in session.execute(q_currency):
            if tid in named:
                continue
            detail = _imbalance(amounts, currency)
            found.add(f"transfer {tid}: its {currency} entries do not balance ({detail})")
    with found_in(report, "transfers whose kind does not fit") as found:
        for problem in _kind_problems(session):
            found.add(problem)


def _kind_problems(session: Session) -> Iterator[str]:
    moves = [k.value for k in model.MOVES_MONEY]
    changes = [k.value for k in model.CHANGES_A_HOLD]
    n = (
        select(entries.c.transfer_id, func.count().label("n"))
        .group_by(entries.c.transfer_id)
        .subquery()
    )
    t = transfers.c
    q = (
        select(t.id, t.kind, t.hold_id, n.c.n)
        .select_from(transfers.outerjoin(n, n.c.transfer_id == t.id))
        .where(
            or_(
                t.kind.in_(moves) & n.c.n.is_(None),
                t.kind.not_in(moves) & n.c.n.is_not(None),
                t.kind.in_(changes) & t.hold_id.is_(None),
                t.kind.not_in(changes) & t.hold_id.is_not(None),
            )
        )
        .order_by(t.id)
    )
    for tid, kind, hold_id, count in session.execute(q):
        if kind not in {k.value for k in Kind}:
            yield f"transfer {tid} has the unknown kind {kind!r}"
            continue
        if kind in moves and count is None:
            yield f"transfer {tid} ({kind}) has no journal entries"
        if kind not in moves and count is not None:
            yield f"transfer {tid} ({kind}) has {count} journal entries; {kind}s move no money"
        if kind in changes and hold_id is None:
            yield f"transfer {tid} ({kind}) names no hold"
        if kind not in changes and hold_id is not None:
            yield f"transfer {tid} ({kind}) names hold {hold_id}, but a {kind} changes no hold"
