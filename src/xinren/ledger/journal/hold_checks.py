"""Verifying holds: a hold's status, posted amount and resolution change after sealing, so no
hash covers them; they must agree with the sealed transfers that created and resolved the hold,
and with what those transfers' entries moved (the model's `hold_creation`/`hold_resolution`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinren.ledger import model
from xinren.ledger.journal.findings import VerifyReport, found_in
from xinren.ledger.journal.lines import STREAM, instant
from xinren.ledger.model import Balance, Hold, HoldStatus, Kind
from xinren.ledger.tables import accounts, entries, holds, transfers

_RESOLVED_BY = {HoldStatus.POSTED.value: Kind.POST.value, HoldStatus.VOIDED.value: Kind.VOID.value}


def check_holds(session: Session, report: VerifyReport) -> None:
    """A hold's status, posted_amount, resolved_by and resolved_at are not sealed (they change
    when it resolves): they must agree with the sealed transfer that resolved it, and with what
    that transfer's entries moved; the transfer that created it must have moved its amount."""
    with found_in(report, "holds that disagree with the journal") as found:
        for problem in _hold_row_problems(session):
            found.add(problem)
        for problem in _resolutions_not_recorded(session):
            found.add(problem)
        for problem in _hold_moves(session, resolving=False):
            found.add(problem)
        for problem in _hold_moves(session, resolving=True):
            found.add(problem)


def _hold_row_problems(session: Session) -> Iterator[str]:
    creator, resolver = transfers.alias("creator"), transfers.alias("resolver")
    debit, credit = accounts.alias("debit"), accounts.alias("credit")
    h = holds.c
    q = (
        select(
            h.id,
            h.transfer_id,
            h.debit_account_id,
            h.credit_account_id,
            h.currency,
            h.status,
            h.posted_amount,
            h.resolved_by,
            instant(h.resolved_at).label("resolved_at"),
            creator.c.kind.label("creator_kind"),
            resolver.c.id.label("resolver_id"),
            resolver.c.kind.label("resolver_kind"),
            resolver.c.hold_id.label("resolver_hold"),
            instant(resolver.c.created_at).label("resolver_at"),
            debit.c.currency.label("debit_currency"),
            credit.c.currency.label("credit_currency"),
        )
        .select_from(
            holds.outerjoin(creator, creator.c.id == h.transfer_id)
            .outerjoin(resolver, resolver.c.id == h.resolved_by)
            .outerjoin(debit, debit.c.id == h.debit_account_id)
            .outerjoin(credit, credit.c.id == h.credit_account_id)
        )
        .order_by(h.id)
        .execution_options(yield_per=STREAM)
    )
    for r in session.execute(q):
        yield from _hold_problems(r)


def _when(value: object) -> str:
    return model.canonical_instant(value) if isinstance(value, datetime) else repr(value)


def _hold_problems(r: Any) -> Iterator[str]:
    """What is wrong with one hold row, given its creating and resolving transfers."""
    h = f"hold {r.id}"
    if r.creator_kind is not None and r.creator_kind != Kind.HOLD.value:
        yield f"{h}: transfer {r.transfer_id} that created it is a {r.creator_kind}, not a hold"
    for side, account_id, currency in (
        ("debit", r.debit_account_id, r.debit_currency),
        ("credit", r.credit_account_id, r.credit_currency),
    ):
        if currency is not None and currency != r.currency:
            yield f"{h} is in {r.currency}, but its {side} account {account_id} is in {currency}"
    if r.status == HoldStatus.PENDING.value:
        if r.resolved_by is not None or r.resolved_at is not None or r.posted_amount is not None:
            yield (
                f"{h} is pending but has resolved_by {r.resolved_by}, resolved_at "
                f"{_when(r.resolved_at)}, posted_amount {r.posted_amount}"
            )
        return
    kind = _RESOLVED_BY.get(r.status)
    if kind is None:
        yield f"{h} has the unknown status {r.status!r}"
        return
    if r.resolved_by is None:
        yield f"{h} is {r.status} but names no transfer that resolved it"
        return
    if r.resolver_id is None:
        yield f"{h} is {r.status} by transfer {r.resolved_by}, which does not exist"
        return
    by = f"transfer {r.resolved_by}"
    if r.resolver_kind != kind:
        yield f"{h} is {r.status}, but {by} that resolved it is a {r.resolver_kind}, not a {kind}"
    if r.resolver_hold != r.id:
        yield f"{h} names {by} as what resolved it, but that transfer is for hold {r.resolver_hold}"
    if _when(r.resolved_at) != _when(r.resolver_at):
        yield (
            f"{h} has resolved_at {_when(r.resolved_at)}, but {by} that resolved it was made at "
            f"{_when(r.resolver_at)}"
        )
    if r.status == HoldStatus.VOIDED.value and r.posted_amount != 0:
        yield f"{h} is voided but has posted_amount {r.posted_amount}"
    if r.status == HoldStatus.POSTED.value and r.posted_amount is None:
        yield f"{h} is posted but has no posted_amount"


def _resolutions_not_recorded(session: Session) -> Iterator[str]:
    """Post and void transfers their hold does not name as its resolution (a pending hold with
    a post, or a second post or void of one hold)."""
    t = transfers.c
    q = (
        select(t.id, t.kind, t.hold_id, holds.c.status, holds.c.resolved_by)
        .select_from(transfers.join(holds, holds.c.id == t.hold_id))
        .where(
            t.kind.in_([Kind.POST.value, Kind.VOID.value]),
            or_(holds.c.resolved_by.is_(None), holds.c.resolved_by != t.id),
        )
        .order_by(t.id)
    )
    for tid, kind, hold_id, status, resolved_by in session.execute(q):
        if resolved_by is None:
            yield f"transfer {tid} ({kind}) resolved hold {hold_id}, but the hold is {status}"
        else:
            yield (
                f"transfer {tid} ({kind}) resolved hold {hold_id}, but the hold names transfer "
                f"{resolved_by} as what resolved it"
            )


def _describe(moved: dict[int, Balance]) -> str:
    parts = []
    for account_id, change in sorted(moved.items()):
        fields = ", ".join(f"{n} {v:+d}" for n, v in zip(Balance._fields, change, strict=True) if v)
        parts.append(f"account {account_id}: {fields or 'nothing'}")
    return "; ".join(parts) or "nothing"


def _hold_moves(session: Session, *, resolving: bool) -> Iterator[str]:
    """Compare what each hold's creating (or resolving) transfer moved with what the model says
    such a transfer moves."""
    e = entries.c
    moved = (
        select(
            e.transfer_id,
            e.account_id,
            func.sum(e.debits_posted).label("dp"),
            func.sum(e.credits_posted).label("cp"),
            func.sum(e.debits_pending).label("dq"),
            func.sum(e.credits_pending).label("cq"),
        )
        .group_by(e.transfer_id, e.account_id)
        .subquery()
    )
    h = holds.c
    by = h.resolved_by if resolving else h.transfer_id
    q = (
        select(
            h.id,
            h.debit_account_id,
            h.credit_account_id,
            h.amount,
            h.currency,
            h.status,
            h.posted_amount,
            by.label("by"),
            moved.c.account_id,
            moved.c.dp,
            moved.c.cp,
            moved.c.dq,
            moved.c.cq,
        )
        .select_from(holds.outerjoin(moved, moved.c.transfer_id == by))
        .where(by.is_not(None))
        .order_by(h.id)
        .execution_options(yield_per=STREAM)
    )
    statuses = {s.value for s in HoldStatus}
    for _, group in groupby(session.execute(q), key=lambda r: r.id):
        rows = list(group)
        r = rows[0]
        if r.status not in statuses:
            continue  # named by the row check
        hold = Hold(
            r.id,
            r.debit_account_id,
            r.credit_account_id,
            r.amount,
            r.currency,
            status=HoldStatus(r.status),
            posted_amount=r.posted_amount,
        )
        expected = model.hold_resolution(hold) if resolving else model.hold_creation(hold)
        if expected is None:
            continue  # a status or posted_amount no resolution leaves: named by the row check
        actual = {
            x.account_id: Balance(int(x.dp), int(x.cp), int(x.dq), int(x.cq))
            for x in rows
            if x.account_id is not None
        }
        if actual != expected:
            what = _what_moves(hold) if resolving else f"creating a hold of {hold.amount}"
            yield (
                f"hold {hold.id}: transfer {r.by} moved {_describe(actual)}, but {what} moves "
                f"{_describe(expected)}"
            )


def _what_moves(hold: Hold) -> str:
    if hold.status is HoldStatus.POSTED:
        return f"posting {hold.posted_amount} of a hold of {hold.amount}"
    return f"voiding a hold of {hold.amount}"
