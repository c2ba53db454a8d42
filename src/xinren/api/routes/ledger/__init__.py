"""HTTP routes under /v1/ledger: parse the request, call the service, serialise the answer.

Every route of the prefix is here (one module per URL prefix); the bodies are in `bodies`, the
batch items and how a body becomes an operation in `batch`. `BatchIn` stays here: its schema
name in the OpenAPI document (`xinren__api__routes__ledger__BatchIn`) names this module."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response, status
from pydantic import Field, StrictBool

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
from xinren.api.routes.ledger.batch import (
    BatchOut,
    BatchResult,
    Item,
    hold_op,
    item_op,
    meta_of,
    transfer_op,
)
from xinren.api.routes.ledger.bodies import (
    AccountIn,
    AccountOut,
    BalanceOut,
    EntryOut,
    ExtendIn,
    HistoryOut,
    HoldIn,
    HoldOut,
    Limit,
    MetaIn,
    Page,
    PostIn,
    ResultOut,
    Strict,
    TransferIn,
    TransferOut,
    VerifyOut,
)
from xinren.api.threads import Router
from xinren.errors import XinrenError
from xinren.ids import unscoped
from xinren.ledger import journal, model, service
from xinren.ledger.model import Meta

router = Router(prefix="/v1/ledger", tags=["ledger"])


class BatchIn(Strict):
    atomic: StrictBool = Field(False, description="all operations or none")
    operations: Annotated[list[Item], Field(min_length=1, max_length=model.MAX_BATCH)]


def _apply(
    session: SessionDep, clock: ClockDep, op: model.Operation, response: Response
) -> ResultOut:
    result = service.submit_one(session, clock, op)
    if result.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return ResultOut.of(result)


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
    return _apply(session, clock, transfer_op(key, body), response)


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
    return _apply(session, clock, hold_op(key, body), response)


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
    return _apply(session, clock, model.PostOp(meta_of(key, body), hold_id, body.amount), response)


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
    return _apply(session, clock, model.VoidOp(meta_of(key, body), hold_id), response)


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
    ops = [item_op(i, principal.key_scope) for i in body.operations]
    outcomes = service.submit(session, clock, ops, atomic=body.atomic)
    return BatchOut(
        results=[
            BatchResult(index=i, ok=False, problem=o.problem())
            if isinstance(o, XinrenError)
            else BatchResult(index=i, ok=True, result=ResultOut.of(o))
            for i, o in enumerate(outcomes)
        ]
    )


@router.get("/verify")
def verify(session: SessionDep, clock: ClockDep, _: LedgerReader) -> VerifyOut:
    r = journal.verify(session, clock)
    r.problems.extend(reconciliation.problems(session))
    age = r.oldest_unsealed_age
    return VerifyOut(
        ok=r.ok,
        accounts=r.accounts,
        entries=r.entries,
        blocks=r.blocks,
        unsealed=r.unsealed,
        problems=r.problems,
        oldest_unsealed_age_seconds=None if age is None else age.total_seconds(),
    )
