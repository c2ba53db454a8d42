"""Filing a complaint and hearing the merchant: the buyer files with evidence, the merchant has
the policy's hours to answer (missed: the default rule decides, see `cases.service`), a reviewer
is assigned."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.cases import model
from xinren.cases.model import State
from xinren.cases.records import add_evidence_rows, get_case, row, text
from xinren.cases.tables import case_evidence, cases
from xinren.cases.terms import MERCHANT_DEADLINE, policy
from xinren.clock import Clock
from xinren.detect import buyers
from xinren.errors import Conflict, Forbidden, IdempotencyKeyReused
from xinren.events import service as events
from xinren.ids import check_idempotency_key
from xinren.orders import service as orders
from xinren.timers import service as timers


def file_case(
    session: Session,
    clock: Clock,
    key: str,
    *,
    order_id: int,
    buyer: str,
    kind: str,
    statement: str,
    evidence: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The buyer complains about its order; the merchant has the policy's hours to answer."""
    check_idempotency_key(key)
    model.check_kind(kind)
    text(statement, "statement")
    # Lock the order before looking the key up: a duplicate sent while the first filing is
    # still running waits for it and then replays it, instead of meeting "one complaint per
    # order".
    order = orders.lock(session, order_id)
    done = session.execute(select(cases).where(cases.c.idempotency_key == key)).first()
    if done is not None:
        if (done.order_id, done.buyer, done.kind) != (order_id, buyer, kind):
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} filed case {done.id} about another order",
                field="idempotency_key",
            )
        return get_case(session, done.id)
    if order.buyer != buyer:
        raise Forbidden(f"only the order's buyer may complain about order {order_id}")
    if order.state.paid == 0:
        raise Conflict(
            "the order was never paid: there is nothing to complain about", field="order_id"
        )
    earlier = session.execute(
        select(cases.c.id, cases.c.state).where(cases.c.order_id == order_id)
    ).first()
    if earlier is not None:
        raise Conflict(
            f"case {earlier.id} on this order is {earlier.state}: one complaint per order "
            "(appeal the decision instead)",
            field="order_id",
        )
    now = clock.now()
    due = now + policy().merchant_response
    case_id = session.execute(
        cases.insert().returning(cases.c.id),
        dict(
            idempotency_key=key,
            order_id=order_id,
            buyer=buyer,
            merchant=order.merchant,
            kind=kind,
            statement=statement,
            state=State.AWAITING_MERCHANT.value,
            buyer_weight=buyers.weigh(session, clock, buyer),
            opened_at=now,
            merchant_due_at=due,
            by_default=False,
        ),
    ).scalar_one()
    add_evidence_rows(session, clock, case_id, buyer, evidence)
    timers.schedule(session, clock, MERCHANT_DEADLINE, str(case_id), due)
    events.append(
        session,
        clock,
        "case.opened",
        order.merchant,
        {"case": case_id, "order": order_id, "kind": kind, "merchant_due_at": due.isoformat()}
        | {"buyer": buyer, "opened_at": now.isoformat()},
    )
    return get_case(session, case_id)


def respond(
    session: Session,
    clock: Clock,
    case_id: int,
    *,
    merchant: str,
    statement: str,
    evidence: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The merchant answers with its side and evidence; the case goes to mediation."""
    r = row(session, case_id, lock=True)
    if merchant != r.merchant:
        raise Forbidden(f"only {r.merchant} answers case {case_id}")
    text(statement, "statement")
    to = model.move(State(r.state), "respond")
    if clock.now() > r.merchant_due_at:
        raise Conflict(
            f"the deadline to answer passed at {r.merchant_due_at.isoformat()}: the published "
            "default rule decides this case",
            field="case_id",
        )
    add_evidence_rows(session, clock, case_id, merchant, evidence)
    session.execute(
        case_evidence.insert(),
        dict(
            case_id=case_id, party=merchant, ref="statement", note=statement, created_at=clock.now()
        ),
    )
    session.execute(update(cases).where(cases.c.id == case_id).values(state=to.value))
    timers.cancel(session, MERCHANT_DEADLINE, str(case_id))
    events.append(session, clock, "case.answered", r.buyer, {"case": case_id})
    return get_case(session, case_id)


def add_evidence(
    session: Session, clock: Clock, case_id: int, *, party: str, ref: str, note: str
) -> dict[str, Any]:
    r = row(session, case_id)
    if party not in (r.buyer, r.merchant):
        raise Forbidden(f"only {r.buyer} and {r.merchant} add evidence to case {case_id}")
    if State(r.state) not in (State.AWAITING_MERCHANT, State.IN_MEDIATION):
        raise Conflict(f"case {case_id} is {r.state}: evidence is closed", field="case_id")
    add_evidence_rows(session, clock, case_id, party, [(ref, note)])
    return get_case(session, case_id)


def assign(session: Session, clock: Clock, case_id: int, *, reviewer: str) -> dict[str, Any]:
    r = row(session, case_id, lock=True)
    model.move(State(r.state), "assign")
    if r.reviewer is not None:
        if r.reviewer == reviewer:
            return get_case(session, case_id)
        raise Conflict(f"case {case_id} is assigned to {r.reviewer}", field="reviewer")
    session.execute(update(cases).where(cases.c.id == case_id).values(reviewer=reviewer))
    events.append(
        session, clock, "case.assigned", r.merchant, {"case": case_id, "reviewer": reviewer}
    )
    return get_case(session, case_id)
