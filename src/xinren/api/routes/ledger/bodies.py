"""The request and response bodies of /v1/ledger: what a caller sends (validated strictly: an
unknown field is refused) and how accounts, holds, transfers and results are written back."""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from xinren.api.types import Amount
from xinren.ids import unscoped
from xinren.ledger import model, service
from xinren.ledger.model import Account, Balance, Hold
from xinren.money import Money

T = TypeVar("T")

Code = Annotated[str, Field(min_length=1, max_length=model.MAX_CODE)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BalanceOut(BaseModel):
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    net: int
    available: int

    @classmethod
    def of(cls, b: Balance) -> BalanceOut:
        return cls(
            debits_posted=b.debits_posted,
            credits_posted=b.credits_posted,
            debits_pending=b.debits_pending,
            credits_pending=b.credits_pending,
            net=b.net,
            available=b.available,
        )


class AccountIn(Strict):
    code: Code
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    debits_must_not_exceed_credits: StrictBool = False
    credits_must_not_exceed_debits: StrictBool = False


class AccountOut(BaseModel):
    id: int
    code: str
    currency: str
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    balance: BalanceOut
    net_formatted: str

    @classmethod
    def of(cls, a: Account) -> AccountOut:
        return cls(
            id=a.id,
            code=a.code,
            currency=a.currency,
            debits_must_not_exceed_credits=a.debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=a.credits_must_not_exceed_debits,
            balance=BalanceOut.of(a.balance),
            net_formatted=Money(a.balance.net, a.currency).format(),
        )


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: done")


class LegIn(Strict):
    account: Code
    side: Literal["debit", "credit"]
    amount: Amount


class MetaIn(Strict):
    reason: Annotated[str, Field(max_length=model.MAX_REASON)] = ""
    refs: Annotated[dict[str, str], Field(max_length=model.MAX_REFS)] = {}


class TransferIn(MetaIn):
    legs: Annotated[list[LegIn], Field(min_length=2, max_length=model.MAX_LEGS)]


class HoldIn(MetaIn):
    debit: Code
    credit: Code
    amount: Amount
    expires_at: AwareDatetime | None = None
    expiry_action: Literal["post", "void"] | None = None


class PostIn(MetaIn):
    amount: Amount | None = None


class ExtendIn(Strict):
    expires_at: AwareDatetime


class ResultOut(BaseModel):
    id: int
    kind: str
    idempotency_key: str
    created_at: AwareDatetime
    hold_id: int | None
    replayed: bool

    @classmethod
    def of(cls, r: service.Result) -> ResultOut:
        return cls(
            id=r.id,
            kind=r.kind.value,
            idempotency_key=unscoped(r.idempotency_key),
            created_at=r.created_at,
            hold_id=r.hold_id,
            replayed=r.replayed,
        )


class HoldOut(BaseModel):
    id: int
    amount: int
    currency: str
    status: str
    expires_at: AwareDatetime | None
    expiry_action: str | None
    paused: bool
    posted_amount: int | None

    @classmethod
    def of(cls, h: Hold) -> HoldOut:
        return cls(
            id=h.id,
            amount=h.amount,
            currency=h.currency,
            status=h.status.value,
            expires_at=h.expires_at,
            expiry_action=h.expiry_action.value if h.expiry_action else None,
            paused=h.paused,
            posted_amount=h.posted_amount,
        )


class EntryOut(BaseModel):
    account: str
    change: BalanceOut


class TransferOut(BaseModel):
    id: int
    kind: str
    idempotency_key: str
    reason: str
    refs: dict[str, str]
    hold_id: int | None
    created_at: AwareDatetime
    entries: list[EntryOut]


class HistoryOut(BaseModel):
    entry_id: int
    transfer_id: int
    kind: str
    reason: str
    created_at: AwareDatetime
    change: BalanceOut


class VerifyOut(BaseModel):
    ok: bool
    accounts: int
    entries: int
    blocks: int
    unsealed: int
    problems: list[str]
    # the sealer's lag: how long the oldest unsealed entry has waited (null: none waits)
    oldest_unsealed_age_seconds: float | None = None
