"""HTTP routes under /v1/merchants: a merchant's deposit."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    SessionDep,
)
from xinren.api.threads import Router
from xinren.api.types import Amount
from xinren.errors import Forbidden, NotFound
from xinren.parties import deposits

router = Router(prefix="/v1/merchants", tags=["merchants"])


class DepositIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Amount
    currency: Annotated[str, Field(min_length=3, max_length=3)]


class DepositOut(BaseModel):
    merchant: str
    balance: int
    required_by_category: dict[str, int]


def _deposit_out(session: SessionDep, merchant: str) -> DepositOut:
    from xinren import policies

    table = policies.load("deposits").get("required")
    return DepositOut(
        merchant=merchant,
        balance=deposits.deposit_balance(session, merchant),
        required_by_category={k: int(v) for k, v in table.items()},
    )


@router.post("/{merchant}/deposit")
def pay_deposit(
    merchant: str,
    body: DepositIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> DepositOut:
    if principal.role not in ("admin", "platform"):
        raise Forbidden("deposits are recorded by the platform back end (role platform)")
    deposits.pay_deposit(session, clock, key, merchant, body.amount, body.currency)
    return _deposit_out(session, merchant)


@router.get("/{merchant}/deposit")
def get_deposit(merchant: str, session: SessionDep, principal: PrincipalDep) -> DepositOut:
    own = principal.role == "merchant" and principal.subject == merchant
    if principal.role not in ("admin", "platform", "auditor", "reviewer") and not own:
        raise NotFound(f"no merchant {merchant}", field="merchant")
    return _deposit_out(session, merchant)
