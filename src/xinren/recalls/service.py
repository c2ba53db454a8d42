"""Recall a batch: find every paid order of it, tell each buyer through the event feed, and
record a pending remedy task per order with its amounts (the remedies issue executes them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren import policies
from xinren.catalog import model as catalog_model
from xinren.catalog import service as catalog
from xinren.clock import Clock
from xinren.documents import service as documents
from xinren.errors import ConcurrentRequest, IdempotencyKeyReused, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.ids import check_idempotency_key
from xinren.liability.model import Finding
from xinren.orders.model import Action
from xinren.orders.tables import order_actions, orders
from xinren.recalls import model
from xinren.recalls.tables import recalls, remedy_tasks


@dataclass(frozen=True, slots=True)
class Task:
    order_id: int
    buyer: str
    currency: str
    refund: int
    compensation: int
    basis: str
    status: str


@dataclass(frozen=True, slots=True)
class Recall:
    id: int
    batch_id: int
    finding: Finding
    reason: str
    evidence: tuple[str, ...]
    decided_by: str
    policy_version: str
    tasks: tuple[Task, ...]
    replayed: bool = False

    @property
    def buyers(self) -> frozenset[str]:
        return frozenset(t.buyer for t in self.tasks)

    def totals(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for t in self.tasks:
            sums = out.setdefault(t.currency, {"refund": 0, "compensation": 0})
            sums["refund"] += t.refund
            sums["compensation"] += t.compensation
        return out


@cache
def _rules() -> tuple[str, tuple[model.RemedyRule, ...]]:
    p = policies.load("recalls")
    return p.version, model.parse_rules(p.body)


def recall_batch(
    session: Session,
    clock: Clock,
    key: str,
    *,
    batch_id: int,
    finding: Finding | str,
    reason: str,
    evidence: Sequence[str],
    decided_by: str,
) -> Recall:
    """Open a recall; a retry with the same key returns it unchanged."""
    check_idempotency_key(key)
    finding = _check(session, finding, reason, evidence)
    done = _replayed(session, key, batch_id, finding, reason, evidence)
    if done is not None:
        return done
    batch = catalog.get_batch(session, batch_id)
    version, rules = _rules()
    now = clock.now()
    recall_id = _open(session, key, batch.id, finding, reason, evidence, decided_by, version, now)
    owed = model.plan_recall(rules, finding, _sold(session, batch.id))
    _record(session, clock, now, recall_id, (batch.id, batch.lot), finding, reason, owed)
    return get_recall(session, recall_id)


def _check(
    session: Session, finding: Finding | str, reason: str, evidence: Sequence[str]
) -> Finding:
    try:
        finding = Finding(finding)
    except ValueError:
        raise ValidationFailed(
            f"finding must be one of {', '.join(f.value for f in Finding)}", field="finding"
        ) from None
    catalog_model.check_text(reason, "reason", 1000)
    if not evidence:
        raise ValidationFailed(
            "evidence names at least one document (e.g. the lab report that found the fault)",
            field="evidence",
        )
    for sha in evidence:
        try:
            documents.get(session, sha)
        except NotFound:
            raise NotFound(f"evidence: no document {sha}", field="evidence") from None
    return finding


def _replayed(
    session: Session,
    key: str,
    batch_id: int,
    finding: Finding,
    reason: str,
    evidence: Sequence[str],
) -> Recall | None:
    done = session.execute(select(recalls).where(recalls.c.idempotency_key == key)).first()
    if done is None:
        return None
    if (done.batch_id, done.finding, done.reason, list(done.evidence)) != (
        batch_id,
        finding.value,
        reason,
        list(evidence),
    ):
        raise IdempotencyKeyReused(
            f"idempotency key {key!r} opened recall {done.id} of another batch or finding",
            field="idempotency_key",
        )
    return get_recall(session, done.id, replayed=True)


def _open(
    session: Session,
    key: str,
    batch_id: int,
    finding: Finding,
    reason: str,
    evidence: Sequence[str],
    decided_by: str,
    version: str,
    now: datetime,
) -> int:
    try:
        with session.begin_nested():
            return int(
                session.execute(
                    recalls.insert().returning(recalls.c.id),
                    dict(
                        idempotency_key=key,
                        batch_id=batch_id,
                        finding=finding.value,
                        reason=reason,
                        evidence=list(evidence),
                        decided_by=decided_by,
                        policy_version=version,
                        created_at=now,
                    ),
                ).scalar_one()
            )
    except IntegrityError:
        raise ConcurrentRequest(
            f"another recall with key {key!r} is being opened; retry to get it",
            field="idempotency_key",
        ) from None


def _sold(session: Session, batch_id: int) -> list[model.Sold]:
    """Every paid, not cancelled order of the batch, read once."""
    affected = session.execute(
        select(orders)
        .where(orders.c.batch_id == batch_id)
        .where(orders.c.paid > 0)
        .where(orders.c.status != "cancelled")
        .order_by(orders.c.id)
    ).all()
    # The goods left the shop if the order was ever shipped: an order refunded in full before
    # shipment is closed as refunded, not paid, and its buyer never had the goods.
    shipped = set(
        session.scalars(
            select(order_actions.c.order_id)
            .where(order_actions.c.action == Action.SHIP.value)
            .where(order_actions.c.order_id.in_([o.id for o in affected]))
        )
    )
    return [
        model.Sold(
            o.id, o.buyer, o.currency, o.category, o.total, o.paid - o.refunded, o.id in shipped
        )
        for o in affected
    ]


def _record(
    session: Session,
    clock: Clock,
    now: datetime,
    recall_id: int,
    batch: tuple[int, str],
    finding: Finding,
    reason: str,
    owed: list[model.Owed],
) -> None:
    """The pending remedy tasks, the recall's event and one notice to each buyer."""
    batch_id, lot = batch
    if owed:
        session.execute(
            remedy_tasks.insert(),
            [
                dict(
                    recall_id=recall_id,
                    order_id=o.sold.order_id,
                    buyer=o.sold.buyer,
                    currency=o.sold.currency,
                    refund=o.remedy.refund,
                    compensation=o.remedy.compensation,
                    basis=o.remedy.basis,
                    status="pending",
                    created_at=now,
                )
                for o in owed
            ],
        )
    events.append(
        session,
        clock,
        "recall.opened",
        f"batch:{batch_id}",
        {
            "recall": recall_id,
            "batch": batch_id,
            "lot": lot,
            "finding": finding.value,
            "reason": reason,
            "orders": len(owed),
        },
    )
    for o in owed:
        events.append(
            session,
            clock,
            "recall.notice",
            o.sold.buyer,
            {
                "recall": recall_id,
                "order": o.sold.order_id,
                "batch": batch_id,
                "reason": reason,
                "refund": o.remedy.refund,
                "compensation": o.remedy.compensation,
                "currency": o.sold.currency,
                "what_to_do": "stop using the product; your refund and compensation are "
                "recorded and will be paid to your original payment method",
            },
        )


def pending_tasks(session: Session, recall_id: int, *, lock: bool = False) -> list[Any]:
    """The recall's remedy tasks not yet paid, in order id order (locked when `lock`)."""
    q = (
        select(remedy_tasks)
        .where(remedy_tasks.c.recall_id == recall_id)
        .where(remedy_tasks.c.status == "pending")
        .order_by(remedy_tasks.c.order_id, remedy_tasks.c.id)
    )
    return list(session.execute(q.with_for_update() if lock else q).all())


def mark_paid(session: Session, task_id: int) -> None:
    """A remedy task the remedies context paid."""
    session.execute(update(remedy_tasks).where(remedy_tasks.c.id == task_id).values(status="paid"))


def get_recall(session: Session, recall_id: int, replayed: bool = False) -> Recall:
    row = session.execute(select(recalls).where(recalls.c.id == recall_id)).first()
    if row is None:
        raise NotFound(f"no recall {recall_id}", field="recall_id")
    tasks = session.execute(
        select(remedy_tasks)
        .where(remedy_tasks.c.recall_id == recall_id)
        .order_by(remedy_tasks.c.order_id)
    )
    return Recall(
        row.id,
        row.batch_id,
        Finding(row.finding),
        row.reason,
        tuple(row.evidence),
        row.decided_by,
        row.policy_version,
        tuple(
            Task(t.order_id, t.buyer, t.currency, t.refund, t.compensation, t.basis, t.status)
            for t in tasks
        ),
        replayed,
    )


def as_dict(recall: Recall) -> dict[str, Any]:
    return {
        "id": recall.id,
        "batch": recall.batch_id,
        "finding": recall.finding.value,
        "reason": recall.reason,
        "evidence": list(recall.evidence),
        "decided_by": recall.decided_by,
        "policy_version": recall.policy_version,
        "buyers": len(recall.buyers),
        "totals": recall.totals(),
        "tasks": [
            {
                "order": t.order_id,
                "buyer": t.buyer,
                "currency": t.currency,
                "refund": t.refund,
                "compensation": t.compensation,
                "basis": t.basis,
                "status": t.status,
            }
            for t in recall.tasks
        ],
        "replayed": recall.replayed,
    }
