"""Appeals: either side appeals a decision within the policy's days; a reviewer who did not
decide the case upholds it or varies it in the buyer's favour, within the award cap."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from xinren.cases import model
from xinren.cases.model import State
from xinren.cases.records import get_case, row, text
from xinren.cases.tables import cases
from xinren.cases.terms import policy
from xinren.clock import Clock
from xinren.errors import Conflict, Forbidden, ValidationFailed
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX
from xinren.orders import service as orders
from xinren.remedies import service as remedies


def appeal(
    session: Session, clock: Clock, case_id: int, *, by: str, grounds: str
) -> dict[str, Any]:
    """Either side may appeal a decision within the policy's days."""
    r = row(session, case_id, lock=True)
    if by not in (r.buyer, r.merchant):
        raise Forbidden(f"only {r.buyer} or {r.merchant} may appeal case {case_id}")
    text(grounds, "grounds")
    to = model.move(State(r.state), "appeal")
    limit = r.decided_at + policy().appeal
    if clock.now() > limit:
        raise Conflict(f"the appeal period ended on {limit.date()}", field="case_id")
    session.execute(
        update(cases)
        .where(cases.c.id == case_id)
        .values(state=to.value, appeal_by=by, appeal_grounds=grounds)
    )
    events.append(session, clock, "case.appealed", r.merchant, {"case": case_id, "by": by})
    return get_case(session, case_id)


def decide_appeal(
    session: Session,
    clock: Clock,
    case_id: int,
    *,
    reviewer: str,
    outcome: str,
    reasons: str,
    extra_compensation: int = 0,
) -> dict[str, Any]:
    """Final word by a reviewer who did not decide the case: upheld, or varied in the buyer's
    favour (extra compensation from the same payer). Nothing is clawed back from a buyer."""
    r = row(session, case_id, lock=True)
    if reviewer == r.decided_by:
        raise Forbidden(f"{reviewer} decided case {case_id}; the appeal goes to someone else")
    if outcome not in ("upheld", "varied"):
        raise ValidationFailed("outcome is upheld or varied", field="outcome")
    text(reasons, "reasons")
    if State(r.state) is not State.APPEALED:
        raise Conflict(f"case {case_id} is {r.state}, not appealed", field="case_id")
    to = model.move(State(r.state), "finalise")
    if outcome == "varied":
        _vary(session, clock, r, reasons, extra_compensation)
    session.execute(
        update(cases)
        .where(cases.c.id == case_id)
        .values(
            state=to.value,
            appeal_outcome=outcome,
            appeal_reasons=reasons,
            final_at=clock.now(),
            compensation=(r.compensation or 0) + (extra_compensation if outcome == "varied" else 0),
        )
    )
    events.append(
        session, clock, "case.final", r.buyer, {"case": case_id, "appeal_outcome": outcome}
    )
    return get_case(session, case_id)


def _vary(session: Session, clock: Clock, r: Any, reasons: str, extra: int) -> None:
    """Pay the extra compensation. The cap is on all the compensation the buyer has had for
    the order (this decision's, and a recall's that may have paid first), read under the
    order's lock."""
    order = orders.lock(session, r.order_id)
    paid = remedies.paid_on_order(session, order.id, "compensation")
    model.check_variation(extra, remedies.award_cap(order.state.total), paid)
    remedies.pay_buyer(
        session,
        clock,
        f"{SYSTEM_PREFIX}case:{r.id}:appeal",
        order_id=r.order_id,
        refund=0,
        compensation_due=extra,
        payer=r.payer or r.merchant,
        recover_from=list(r.recover_from or []),
        basis=f"appeal of case {r.id}: {reasons}",
        origin=f"case:{r.id}",
        cumulative=False,
    )
