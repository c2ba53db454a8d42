"""A batch of ledger operations over HTTP: the item bodies (one per kind, told apart by
`kind`) and how each request body becomes the model's operation, with the caller's key scope."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from xinren.api.routes.ledger.bodies import (
    ExtendIn,
    HoldIn,
    MetaIn,
    PostIn,
    ResultOut,
    Strict,
    TransferIn,
)
from xinren.ids import scoped
from xinren.ledger import model
from xinren.ledger.model import ExpiryAction, Meta

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


class BatchResult(BaseModel):
    index: int
    ok: bool
    result: ResultOut | None = None
    problem: dict[str, object] | None = None


class BatchOut(BaseModel):
    results: list[BatchResult]


def meta_of(key: str, body: MetaIn) -> Meta:
    return Meta(key, body.reason, body.refs)


def transfer_op(key: str, body: TransferIn) -> model.TransferOp:
    legs = tuple(model.Leg(leg.account, model.Side(leg.side), leg.amount) for leg in body.legs)
    return model.TransferOp(meta_of(key, body), legs)


def hold_op(key: str, body: HoldIn) -> model.HoldOp:
    action = ExpiryAction(body.expiry_action) if body.expiry_action else None
    return model.HoldOp(
        meta_of(key, body), body.debit, body.credit, body.amount, body.expires_at, action
    )


def item_op(
    item: TransferItem | HoldItem | PostItem | VoidItem | ExtendItem | PauseItem, scope: str
) -> model.Operation:
    key = scoped(scope, item.idempotency_key)
    if isinstance(item, TransferItem):
        return transfer_op(key, item)
    if isinstance(item, HoldItem):
        return hold_op(key, item)
    if isinstance(item, PostItem):
        return model.PostOp(meta_of(key, item), item.hold_id, item.amount)
    if isinstance(item, VoidItem):
        return model.VoidOp(meta_of(key, item), item.hold_id)
    if isinstance(item, ExtendItem):
        return model.ExtendOp(Meta(key), item.hold_id, item.expires_at)
    if item.kind == "pause":
        return model.PauseOp(Meta(key), item.hold_id)
    return model.ResumeOp(Meta(key), item.hold_id)
