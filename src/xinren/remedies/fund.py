"""The platform's guarantee fund (先行赔付): one ledger account per currency, owned by the
remedies context, with a record of every movement and what it was for."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import Conflict, LimitExceeded, NotFound
from xinren.ids import check_idempotency_key
from xinren.ledger import service as ledger
from xinren.ledger.model import disagreements
from xinren.money import Money, check_amount
from xinren.parties.deposits import psp
from xinren.remedies.model import GUARANTEE_FUND, PLATFORM
from xinren.remedies.tables import fund_movements, recovery_claims, remedies, remedy_payments

OWNER = "remedies"  # the ledger reservation the fund's accounts fall under


def fund(currency: str) -> str:
    """The guarantee fund's account for a currency (money is never converted)."""
    return f"platform:guarantee_fund:{currency.lower()}"


ledger.reserve(OWNER, r"platform:guarantee_fund:[a-z]{3}", "the guarantee fund")


def balance_of(session: Session, code: str) -> int:
    """An account's available balance; an account never opened holds nothing."""
    try:
        return ledger.get_account(session, code).balance.available
    except NotFound:
        return 0


def fund_balance(session: Session, currency: str = "CNY") -> int:
    return balance_of(session, fund(currency))


def open_fund(session: Session, clock: Clock, currency: str) -> str:
    """Create the fund's account for `currency` if needed (it may never go below zero)."""
    code = fund(currency)
    ledger.create_account(
        session, clock, code, currency, debits_must_not_exceed_credits=True, internal=True
    )
    return code


def top_up_fund(session: Session, clock: Clock, key: str, amount: int, currency: str) -> int:
    """The platform pays money into the guarantee fund; returns the fund's balance."""
    check_idempotency_key(key)
    check_amount(amount, "amount", positive=True)
    ledger.create_account(session, clock, psp(currency), currency)
    open_fund(session, clock, currency)
    result = ledger.move(
        session,
        clock,
        key,
        psp(currency),
        fund(currency),
        amount,
        reason="guarantee fund top-up",
        internal=True,
    )
    if not result.replayed:
        fund_moved(session, clock, key, currency, amount, "top_up", "top-up")
    return fund_balance(session, currency)


def fund_moved(
    session: Session, clock: Clock, key: str, currency: str, amount: int, kind: str, ref: str
) -> None:
    """Record a movement of the guarantee fund with what it was for (see `reconcile_fund`)."""
    session.execute(
        fund_movements.insert(),
        dict(
            currency=currency,
            amount=amount,
            kind=kind,
            ref=ref[:100],
            ledger_key=key,
            created_at=clock.now(),
        ),
    )


def reconcile_fund(session: Session) -> list[str]:
    """The guarantee fund's balance in each currency against the movements recorded for it."""
    held = {a.currency: a.balance.net for a in ledger.owned_accounts(session, OWNER)}
    recorded = {
        currency: int(total)
        for currency, total in session.execute(
            select(fund_movements.c.currency, func.sum(fund_movements.c.amount)).group_by(
                fund_movements.c.currency
            )
        )
    }
    return disagreements(held, recorded, lambda currency: f"guarantee fund ({currency})")


def move(
    session: Session,
    clock: Clock,
    key: str,
    debit: str,
    credit: str,
    amount: int,
    reason: str,
    *,
    from_fund: str | None = None,
) -> None:
    """A system move; `from_fund` names the currency when the debit is the guarantee fund, so
    a fund too small to pay says so and how to fix it."""
    try:
        ledger.move(session, clock, key, debit, credit, amount, reason=reason, system=True)
    except LimitExceeded as err:
        if from_fund is not None:
            cur = from_fund.upper()
            raise Conflict(
                f"the guarantee fund holds {Money(balance_of(session, debit), cur)}, less than "
                f"{Money(amount, cur)}: top it up (xinren remedies top-up) and retry",
                field="guarantee_fund",
            ) from err
        raise


def fund_position(session: Session, currency: str = "CNY") -> dict[str, int]:
    """The guarantee fund at any moment: its balance, what it paid, recovered and is owed."""
    fund_claims = select(
        func.coalesce(func.sum(recovery_claims.c.amount), 0),
        func.coalesce(func.sum(recovery_claims.c.recovered), 0),
        func.coalesce(func.sum(recovery_claims.c.written_off), 0),
    ).where(recovery_claims.c.creditor == PLATFORM, recovery_claims.c.currency == currency)
    claimed, recovered, written_off = session.execute(fund_claims).one()
    paid = session.execute(
        select(func.coalesce(func.sum(remedy_payments.c.amount), 0))
        .select_from(remedy_payments.join(remedies))
        .where(remedy_payments.c.source == GUARANTEE_FUND, remedies.c.currency == currency)
    ).scalar_one()
    return {
        "balance": fund_balance(session, currency),
        "paid_first": int(paid),
        "claimed": int(claimed),
        "recovered": int(recovered),
        "written_off": int(written_off),
        "receivable": int(claimed) - int(recovered) - int(written_off),
    }
