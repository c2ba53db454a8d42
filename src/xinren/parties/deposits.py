"""Merchant deposits (保证金): paid into a ledger account the merchant cannot draw below zero,
checked against the category's requirement before the merchant may take orders."""

from __future__ import annotations

from sqlalchemy.orm import Session

from xinren import policies
from xinren.clock import Clock
from xinren.errors import DepositTooLow, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.ids import check_idempotency_key
from xinren.ledger import service as ledger
from xinren.money import Money, check_amount
from xinren.parties import model
from xinren.parties import service as parties


def psp(currency: str) -> str:
    """The payment provider's clearing account for a currency (money enters and leaves here)."""
    return f"psp:{currency.lower()}"


def deposit_account(merchant: str) -> str:
    return f"{merchant}:deposit"


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
        session, clock, deposit_account(merchant), currency, debits_must_not_exceed_credits=True
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
    )
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
