"""HTTP routes under /v1/ledger: parse the request, call the service, serialise the answer."""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from xinren import reconciliation
from xinren.api.deps import (
    AfterDep,
    ClockDep,
    IdempotencyKeyDep,
    LedgerReader,
    LedgerWriter,
    SessionDep,
    next_cursor,
)
from xinren.api.types import Amount
from xinren.errors import XinrenError
from xinren.ids import scoped, unscoped
from xinren.ledger import journal, model, service
from xinren.ledger.model import Account, Balance, ExpiryAction, Hold, Meta
from xinren.money import Money

T = TypeVar("T")

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])

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


# --- batch ------------------------------------------------------------------------------------

Key = Annotated[str, Field(min_length=1, max_length=128)]


class TransferItem(TransferIn):
    kind: Literal["transfer"]
    idempotency_key: Key


class HoldItem(HoldIn):
    kind: Literal["hold"]
    idempotency_key: Key


class PostItem(PostIn):
    kind: Literal["post"]
    idempotency_key: Key
    hold_id: int


class VoidItem(MetaIn):
    kind: Literal["void"]
    idempotency_key: Key
    hold_id: int


class ExtendItem(ExtendIn):
    kind: Literal["extend"]
    idempotency_key: Key
    hold_id: int


class PauseItem(Strict):
    kind: Literal["pause", "resume"]
    idempotency_key: Key
    hold_id: int


Item = Annotated[
    TransferItem | HoldItem | PostItem | VoidItem | ExtendItem | PauseItem,
    Field(discriminator="kind"),
]


class BatchIn(Strict):
    atomic: StrictBool = Field(False, description="all operations or none")
    operations: Annotated[list[Item], Field(min_length=1, max_length=model.MAX_BATCH)]


class BatchResult(BaseModel):
    index: int
    ok: bool
    result: ResultOut | None = None
    problem: dict[str, object] | None = None


class BatchOut(BaseModel):
    results: list[BatchResult]


def _meta(key: str, body: MetaIn) -> Meta:
    return Meta(key, body.reason, body.refs)


def _transfer_op(key: str, body: TransferIn) -> model.TransferOp:
    legs = tuple(model.Leg(leg.account, model.Side(leg.side), leg.amount) for leg in body.legs)
    return model.TransferOp(_meta(key, body), legs)


def _hold_op(key: str, body: HoldIn) -> model.HoldOp:
    action = ExpiryAction(body.expiry_action) if body.expiry_action else None
    return model.HoldOp(
        _meta(key, body), body.debit, body.credit, body.amount, body.expires_at, action
    )


def _item_op(
    item: TransferItem | HoldItem | PostItem | VoidItem | ExtendItem | PauseItem, scope: str
) -> model.Operation:
    key = scoped(scope, item.idempotency_key)
    if isinstance(item, TransferItem):
        return _transfer_op(key, item)
    if isinstance(item, HoldItem):
        return _hold_op(key, item)
    if isinstance(item, PostItem):
        return model.PostOp(_meta(key, item), item.hold_id, item.amount)
    if isinstance(item, VoidItem):
        return model.VoidOp(_meta(key, item), item.hold_id)
    if isinstance(item, ExtendItem):
        return model.ExtendOp(Meta(key), item.hold_id, item.expires_at)
    if item.kind == "pause":
        return model.PauseOp(Meta(key), item.hold_id)
    return model.ResumeOp(Meta(key), item.hold_id)


def _apply(
    session: SessionDep, clock: ClockDep, op: model.Operation, response: Response
) -> ResultOut:
    result = service.submit_one(session, clock, op)
    if result.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return ResultOut.of(result)


# --- routes -----------------------------------------------------------------------------------


@router.post("/accounts", status_code=status.HTTP_201_CREATED)
def create_account(
    body: AccountIn, session: SessionDep, clock: ClockDep, _: LedgerWriter
) -> AccountOut:
    account = service.create_account(
        session,
        clock,
        body.code,
        body.currency,
        debits_must_not_exceed_credits=body.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=body.credits_must_not_exceed_debits,
    )
    return AccountOut.of(account)


@router.get("/accounts")
def list_accounts(
    session: SessionDep,
    _: LedgerReader,
    after: AfterDep,
    prefix: str = "",
    limit: Limit = 100,
) -> Page[AccountOut]:
    found = service.list_accounts(session, prefix=prefix, after=after, limit=limit)
    ids = [a.id for a in found]
    return Page(items=[AccountOut.of(a) for a in found], next_cursor=next_cursor(ids, limit))


@router.get("/accounts/{code}")
def get_account(code: Annotated[str, Path()], session: SessionDep, _: LedgerReader) -> AccountOut:
    return AccountOut.of(service.get_account(session, code))


@router.get("/accounts/{code}/history")
def account_history(
    code: str,
    session: SessionDep,
    _: LedgerReader,
    after: AfterDep,
    limit: Limit = 100,
) -> Page[HistoryOut]:
    lines = service.history(session, code, after=after, limit=limit)
    items = [
        HistoryOut(
            entry_id=h.entry_id,
            transfer_id=h.transfer_id,
            kind=h.kind.value,
            reason=h.reason,
            created_at=h.created_at,
            change=BalanceOut.of(h.change),
        )
        for h in lines
    ]
    return Page(items=items, next_cursor=next_cursor([h.entry_id for h in lines], limit))


@router.post("/transfers", status_code=status.HTTP_201_CREATED)
def create_transfer(
    body: TransferIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    _: LedgerWriter,
    response: Response,
) -> ResultOut:
    return _apply(session, clock, _transfer_op(key, body), response)


@router.get("/transfers/{transfer_id}")
def get_transfer(transfer_id: int, session: SessionDep, _: LedgerReader) -> TransferOut:
    t = service.get_transfer(session, transfer_id)
    return TransferOut(
        id=t.id,
        kind=t.kind.value,
        idempotency_key=unscoped(t.idempotency_key),
        reason=t.reason,
        refs=t.refs,
        hold_id=t.hold_id,
        created_at=t.created_at,
        entries=[EntryOut(account=code, change=BalanceOut.of(b)) for code, b in t.entries],
    )


@router.post("/holds", status_code=status.HTTP_201_CREATED)
def create_hold(
    body: HoldIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    _: LedgerWriter,
    response: Response,
) -> ResultOut:
    return _apply(session, clock, _hold_op(key, body), response)


@router.get("/holds/{hold_id}")
def get_hold(hold_id: int, session: SessionDep, _: LedgerReader) -> HoldOut:
    return HoldOut.of(service.get_hold(session, hold_id))


@router.post("/holds/{hold_id}/post", status_code=status.HTTP_201_CREATED)
def post_hold(
    hold_id: int,
    body: PostIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    _: LedgerWriter,
    response: Response,
) -> ResultOut:
    return _apply(session, clock, model.PostOp(_meta(key, body), hold_id, body.amount), response)


@router.post("/holds/{hold_id}/void", status_code=status.HTTP_201_CREATED)
def void_hold(
    hold_id: int,
    body: MetaIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    _: LedgerWriter,
    response: Response,
) -> ResultOut:
    return _apply(session, clock, model.VoidOp(_meta(key, body), hold_id), response)


@router.post("/holds/{hold_id}/extend", status_code=status.HTTP_201_CREATED)
def extend_hold(
    hold_id: int,
    body: ExtendIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    _: LedgerWriter,
    response: Response,
) -> ResultOut:
    return _apply(session, clock, model.ExtendOp(Meta(key), hold_id, body.expires_at), response)


@router.post("/holds/{hold_id}/pause", status_code=status.HTTP_201_CREATED)
def pause_hold(
    hold_id: int,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    _: LedgerWriter,
    response: Response,
) -> ResultOut:
    return _apply(session, clock, model.PauseOp(Meta(key), hold_id), response)


@router.post("/holds/{hold_id}/resume", status_code=status.HTTP_201_CREATED)
def resume_hold(
    hold_id: int,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    _: LedgerWriter,
    response: Response,
) -> ResultOut:
    return _apply(session, clock, model.ResumeOp(Meta(key), hold_id), response)


@router.post("/batches")
def submit_batch(
    body: BatchIn, session: SessionDep, clock: ClockDep, principal: LedgerWriter
) -> BatchOut:
    """Many operations in one call and one transaction, each with its own result."""
    ops = [_item_op(i, principal.key_scope) for i in body.operations]
    outcomes = service.submit(session, clock, ops, atomic=body.atomic)
    return BatchOut(
        results=[
            BatchResult(index=i, ok=False, problem=o.problem())
            if isinstance(o, XinrenError)
            else BatchResult(index=i, ok=True, result=ResultOut.of(o))
            for i, o in enumerate(outcomes)
        ]
    )


class VerifyOut(BaseModel):
    ok: bool
    accounts: int
    entries: int
    blocks: int
    unsealed: int
    problems: list[str]


@router.get("/verify")
def verify(session: SessionDep, _: LedgerReader) -> VerifyOut:
    r = journal.verify(session)
    r.problems.extend(reconciliation.problems(session))
    return VerifyOut(
        ok=r.ok,
        accounts=r.accounts,
        entries=r.entries,
        blocks=r.blocks,
        unsealed=r.unsealed,
        problems=r.problems,
    )
