"""Merchant deposits (保证金): paid into a ledger account the merchant cannot draw below zero,
checked against the category's requirement before the merchant may take orders.

The deposit account is this module's (`ledger.reserve`): every movement in or out of it goes
through `pay_deposit`, `take` or `put`, which record it in `deposit_movements` with what it was
for, in the same transaction as the ledger move. The merchant's statement is that record, and
`reconcile` proves it adds up to the ledger's balance.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinren import policies
from xinren.clock import Clock
from xinren.errors import DepositTooLow, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.ids import check_idempotency_key
from xinren.ledger import service as ledger
from xinren.ledger.model import disagreements
from xinren.money import Money, check_amount
from xinren.parties import model
from xinren.parties import service as parties
from xinren.parties.tables import deposit_movements


def psp(currency: str) -> str:
    """The payment provider's clearing account for a currency (money enters and leaves here)."""
    return f"psp:{currency.lower()}"


def deposit_account(merchant: str) -> str:
    return f"{merchant}:deposit"


ledger.reserve("parties", r".+:deposit", "merchants' deposits")


def deposit_balance(session: Session, merchant: str) -> int:
    try:
        return ledger.get_account(session, deposit_account(merchant)).balance.net
    except NotFound:
        return 0


def pay_deposit(
    session: Session, clock: Clock, key: str, merchant: str, amount: int, currency: str
) -> int:
    """The merchant pays (or tops up) its deposit; returns the new deposit balance."""
    check_idempotency_key(key)
    model.check_ref(merchant, "merchant", kind="merchant")
    parties.get(session, merchant)
    check_amount(amount, "amount", positive=True)
    _, policy_currency = policies.required_deposit("default")
    if currency != policy_currency:
        raise ValidationFailed(f"deposits are held in {policy_currency}", field="currency")
    ledger.create_account(session, clock, psp(currency), currency)
    ledger.create_account(
        session,
        clock,
        deposit_account(merchant),
        currency,
        debits_must_not_exceed_credits=True,
        internal=True,
    )
    result = ledger.move(
        session,
        clock,
        key,
        psp(currency),
        deposit_account(merchant),
        amount,
        reason="deposit",
        refs={"merchant": merchant},
        internal=True,
    )
    _record(session, clock, result, key, merchant, currency, amount, "paid", "payment")
    if not result.replayed:
        events.append(
            session,
            clock,
            "deposit.paid",
            merchant,
            {"merchant": merchant, "amount": amount, "currency": currency},
        )
    return deposit_balance(session, merchant)


def check_deposit(session: Session, merchant: str, category: str) -> None:
    required, currency = policies.required_deposit(category)
    held = deposit_balance(session, merchant)
    if held < required:
        raise DepositTooLow(
            f"{merchant} holds a deposit of {Money(held, currency)}; category {category!r} "
            f"requires {Money(required, currency)}: pay the difference (POST "
            f"/v1/merchants/{merchant}/deposit) before taking orders",
            field="merchant",
            required=required,
            held=held,
        )


def take(
    session: Session,
    clock: Clock,
    key: str,
    merchant: str,
    amount: int,
    *,
    to: str,
    kind: str,
    ref: str,
) -> None:
    """Take `amount` out of the merchant's deposit into account `to` (a penalty, a remedy, a
    recovery), recorded with what it was for; a replayed key records nothing twice."""
    account = ledger.get_account(session, deposit_account(merchant))
    result = ledger.move(
        session,
        clock,
        key,
        account.code,
        to,
        amount,
        reason=kind,
        refs={"merchant": merchant, "for": ref},
        system=True,
        internal=True,
    )
    _record(session, clock, result, key, merchant, account.currency, -amount, kind, ref)


def put(
    session: Session,
    clock: Clock,
    key: str,
    merchant: str,
    amount: int,
    *,
    source: str,
    kind: str,
    ref: str,
) -> None:
    """Put `amount` back into the merchant's deposit from account `source` (a penalty
    refunded on appeal), recorded with what it was for."""
    account = ledger.get_account(session, deposit_account(merchant))
    result = ledger.move(
        session,
        clock,
        key,
        source,
        account.code,
        amount,
        reason=kind,
        refs={"merchant": merchant, "for": ref},
        system=True,
        internal=True,
    )
    _record(session, clock, result, key, merchant, account.currency, amount, kind, ref)


def _record(
    session: Session,
    clock: Clock,
    result: ledger.Result,
    key: str,
    merchant: str,
    currency: str,
    amount: int,
    kind: str,
    ref: str,
) -> None:
    if result.replayed:
        return
    session.execute(
        deposit_movements.insert(),
        dict(
            merchant=merchant,
            currency=currency,
            amount=amount,
            kind=kind,
            ref=ref[:100],
            ledger_key=key,
            created_at=clock.now(),
        ),
    )


def movements(session: Session, merchant: str) -> list[dict[str, Any]]:
    """The merchant's deposit statement, oldest first."""
    rows = session.execute(
        select(deposit_movements)
        .where(deposit_movements.c.merchant == merchant)
        .order_by(deposit_movements.c.id)
    )
    return [
        {
            "amount": r.amount,
            "currency": r.currency,
            "kind": r.kind,
            "for": r.ref,
            "at": r.created_at.isoformat(),
        }
        for r in rows
    ]


def reconcile(session: Session) -> list[str]:
    """Every deposit account's balance against the movements recorded for it."""
    held = {
        a.code.removesuffix(":deposit"): a.balance.net
        for a in ledger.owned_accounts(session, "parties")
    }
    recorded = {
        merchant: int(total)
        for merchant, total in session.execute(
            select(deposit_movements.c.merchant, func.sum(deposit_movements.c.amount)).group_by(
                deposit_movements.c.merchant
            )
        )
    }
    return disagreements(held, recorded, lambda merchant: f"deposit of {merchant}")
