"""Execute a recall: pay every pending remedy task the recall recorded, by whoever the one
who-pays-first rule (`liability.who_pays_first`) names, recovering from the liable."""

from __future__ import annotations

from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX
from xinren.liability import service as liability
from xinren.orders import service as orders
from xinren.recalls import service as recalls
from xinren.remedies.payments import Remedy, pay_buyer, still_owed


def execute_recall(
    session: Session, clock: Clock, recall_id: int, *, decided_by: str
) -> list[Remedy]:
    """Pay every pending remedy task of a recall: the refund and compensation the recall
    computed, by whoever the liability resolution says pays first, recovering from the liable."""
    recall = recalls.get_recall(session, recall_id)
    # Lock every order first, in id order, then read the tasks again under those locks: a
    # concurrent run of this recall (or a decision on one of its orders) then finds the tasks
    # it paid already paid, and what is still owed as it is now.
    orders.lock_many(session, [t.order_id for t in recalls.pending_tasks(session, recall_id)])
    paid = []
    for task in recalls.pending_tasks(session, recall_id, lock=True):
        order = orders.get_order(session, task.order_id)
        payer = liability.who_pays_first(
            session, clock, order, recall.finding.value, assessed_by=decided_by
        )
        remedy = pay_buyer(
            session,
            clock,
            f"{SYSTEM_PREFIX}recall_task:{task.id}",
            order_id=task.order_id,
            refund=min(task.refund, still_owed(session, order)),
            compensation_due=task.compensation,
            payer=payer.party,
            recover_from=payer.recover_from,
            basis=f"recall {recall_id}: {task.basis}; {payer.why}",
            origin=f"recall_task:{task.id}",
        )
        recalls.mark_paid(session, task.id)
        paid.append(remedy)
    if paid:
        events.append(
            session,
            clock,
            "recall.remedied",
            f"batch:{recall.batch_id}",
            {"recall": recall_id, "orders": len(paid)},
        )
    return paid
