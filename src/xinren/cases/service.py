"""Buyer complaints end to end: filing with evidence, the merchant's deadline (missed: decided
for the buyer under the published default rule), mediation by an assigned reviewer, a reasoned
decision whose remedies are paid through the ledger in the same transaction, and an appeal.

A decision for the buyer also proposes a violation to enforcement where the rulebook covers
the finding, and a counterfeit or safety finding opens an investigation of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from xinren import policies
from xinren.cases import model
from xinren.cases.model import Outcome, State
from xinren.cases.tables import case_evidence, cases, investigations
from xinren.clock import Clock
from xinren.detect import buyers
from xinren.errors import Conflict, Forbidden, IdempotencyKeyReused, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key
from xinren.liability import service as liability
from xinren.liability.model import Finding
from xinren.orders import service as orders
from xinren.parties import service as parties
from xinren.remedies import service as remedies
from xinren.remedies.tables import recovery_claims, remedy_payments
from xinren.remedies.tables import remedies as remedy_rows
from xinren.rules import service as rules
from xinren.timers import service as timers
from xinren.timers.model import Timer

MERCHANT_DEADLINE = "cases.merchant_deadline"
DECISION_DUE = "cases.decision_due"  # a case held for a reviewer must be decided by then
SYSTEM_DECIDER = "system:default-rule"


@cache
def policy() -> policies.Policy:
    return policies.load("cases")


def _text(value: str, field: str, limit: int = 4000) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationFailed(f"{field} is required (at most {limit} characters)", field=field)
    return value


def get_case(session: Session, case_id: int, *, staff: bool = False) -> dict[str, Any]:
    """The case as its parties see it; `staff` adds the buyer's abuse weight, which is derived
    from what the buyer shares with other accounts and is not the merchant's to know."""
    r = session.execute(select(cases).where(cases.c.id == case_id)).first()
    if r is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    evidence = session.execute(
        select(case_evidence).where(case_evidence.c.case_id == case_id).order_by(case_evidence.c.id)
    )
    hidden = {"idempotency_key"} if staff else {"idempotency_key", "buyer_weight"}
    out = {k: v for k, v in r._mapping.items() if k not in hidden}
    for k, v in out.items():
        if isinstance(v, datetime):
            out[k] = v.isoformat()
    out["evidence"] = [
        {"party": e.party, "ref": e.ref, "note": e.note, "at": e.created_at.isoformat()}
        for e in evidence
    ]
    return out


def _row(session: Session, case_id: int, lock: bool = False) -> Any:
    q = select(cases).where(cases.c.id == case_id)
    r = session.execute(q.with_for_update() if lock else q).first()
    if r is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    return r


def _add_evidence(
    session: Session, clock: Clock, case_id: int, party: str, items: Sequence[tuple[str, str]]
) -> None:
    for ref, note in items:
        rules.evidence_type(session, ref)
        session.execute(
            case_evidence.insert(),
            dict(case_id=case_id, party=party, ref=ref, note=note[:2000], created_at=clock.now()),
        )


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
    _text(statement, "statement")
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
    due = now + timedelta(hours=int(policy().get("merchant_response_hours")))
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
    _add_evidence(session, clock, case_id, buyer, evidence)
    timers.schedule(session, clock, MERCHANT_DEADLINE, str(case_id), due)
    events.append(
        session,
        clock,
        "case.opened",
        order.merchant,
        {"case": case_id, "order": order_id, "kind": kind, "merchant_due_at": due.isoformat()},
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
    r = _row(session, case_id, lock=True)
    if merchant != r.merchant:
        raise Forbidden(f"only {r.merchant} answers case {case_id}")
    _text(statement, "statement")
    to = model.move(State(r.state), "respond")
    if clock.now() > r.merchant_due_at:
        raise Conflict(
            f"the deadline to answer passed at {r.merchant_due_at.isoformat()}: the published "
            "default rule decides this case",
            field="case_id",
        )
    _add_evidence(session, clock, case_id, merchant, evidence)
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
    r = _row(session, case_id)
    if party not in (r.buyer, r.merchant):
        raise Forbidden(f"only {r.buyer} and {r.merchant} add evidence to case {case_id}")
    if State(r.state) not in (State.AWAITING_MERCHANT, State.IN_MEDIATION):
        raise Conflict(f"case {case_id} is {r.state}: evidence is closed", field="case_id")
    _add_evidence(session, clock, case_id, party, [(ref, note)])
    return get_case(session, case_id)


def assign(session: Session, clock: Clock, case_id: int, *, reviewer: str) -> dict[str, Any]:
    r = _row(session, case_id, lock=True)
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


def _payer(
    session: Session, clock: Clock, order: orders.OrderView, finding: str, decided_by: str
) -> tuple[str, list[str], str]:
    """Who pays first and whom the payer recovers from, from the liability resolution where the
    order can be traced, else the seller (or, if its identity cannot be produced, the fund)."""
    if order.listing_id is not None and finding in {f.value for f in Finding}:
        result, _ = liability.assess(session, clock, order.id, finding, assessed_by=decided_by)
        payer = result.pays_first.party
        return payer, [x.party for x in result.recover_from], f"liability rule {result.rule}"
    identity = parties.identities(session, {"seller": order.merchant})["seller"]
    if identity is None:
        return remedies.PLATFORM, [order.merchant], "the seller's identity cannot be produced"
    return order.merchant, [], "the seller answers for what it sold"


def decide(
    session: Session,
    clock: Clock,
    key: str,
    case_id: int,
    *,
    decided_by: str,
    outcome: Outcome | str,
    finding: str,
    reasons: str,
    relied_on: Sequence[str],
    refund: int | None = None,
    compensation: int | None = None,
    by_default: bool = False,
) -> dict[str, Any]:
    """Decide with reasons and the evidence relied on; pay the remedies in this transaction."""
    check_idempotency_key(key, system=by_default)
    # The case first, then the key: a duplicate sent while the first decision is still running
    # waits for it and replays it, instead of meeting a case that is no longer open.
    r = _row(session, case_id, lock=True)
    done = session.execute(select(cases).where(cases.c.decision_key == key)).first()
    if done is not None:
        if done.id != case_id:
            raise IdempotencyKeyReused(
                f"decision key {key!r} decided case {done.id}", field="idempotency_key"
            )
        return get_case(session, case_id)
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise ValidationFailed(
            f"outcome is one of {', '.join(o.value for o in Outcome)}", field="outcome"
        ) from None
    model.check_kind(finding)
    _text(reasons, "reasons")
    to = model.move(State(r.state), "default" if by_default else "decide")
    if r.reviewer is not None and decided_by != r.reviewer and not by_default:
        raise Forbidden(f"case {case_id} is assigned to {r.reviewer}")
    heard = State(r.state) is not State.AWAITING_MERCHANT or clock.now() >= r.merchant_due_at
    if not heard and not by_default:
        raise Conflict(
            f"the merchant has until {r.merchant_due_at.isoformat()} to answer; decide after "
            "hearing it",
            field="case_id",
        )
    on_record = {
        ref
        for (ref,) in session.execute(
            select(case_evidence.c.ref).where(case_evidence.c.case_id == case_id)
        )
    } | {f"order:{r.order_id}"}
    for ref in relied_on:
        rules.evidence_type(session, ref)
        if ref not in on_record:
            raise ValidationFailed(
                f"{ref} is not evidence in case {case_id}: add it to the case first",
                field="relied_on",
            )
    if not relied_on and not by_default:
        raise ValidationFailed("name the evidence the decision relies on", field="relied_on")
    order = orders.get_order(session, r.order_id)
    owed = remedies.still_owed(session, order)
    category = order.category
    payer: str
    recover_from: list[str]
    rule: str | None
    if outcome is Outcome.FOR_MERCHANT:
        refund, compensation = 0, 0
        basis, payer, recover_from, rule = "decided for the merchant", order.merchant, [], None
    else:
        refund = owed if refund is None else refund
        if not 0 <= refund <= owed:
            raise ValidationFailed(f"refund is between 0 and {owed}", field="refund")
        law = remedies.compensation(finding, category, order.state.total)
        rule = law.rule or None
        source = law.source
        if by_default:
            compensation, rule, source = 0, str(policy().get("default_rule")["id"]), ""
        elif compensation is None:
            compensation = law.amount
        elif compensation != law.amount:
            cap = max(10 * order.state.total, 100_000)
            if outcome is Outcome.FOR_BUYER and compensation < law.amount:
                raise ValidationFailed(
                    f"a decision fully for the buyer awards at least the statutory "
                    f"{law.amount} ({law.source})",
                    field="compensation",
                )
            if not 0 <= compensation <= cap:
                raise ValidationFailed(f"compensation is between 0 and {cap}", field="compensation")
            rule, source = "reviewer-award", f"awarded by the reviewer (statute: {law.source})"
        payer, recover_from, why = _payer(session, clock, order, finding, decided_by)
        basis = "; ".join(x for x in (source, why) if x)
    now = clock.now()
    fund_paid = 0
    if refund or compensation:
        remedy = remedies.pay_buyer(
            session,
            clock,
            f"{SYSTEM_PREFIX}case:{case_id}:remedy",
            order_id=order.id,
            refund=refund,
            compensation_due=compensation,
            payer=payer,
            recover_from=recover_from,
            basis=basis,
            origin=f"case:{case_id}",
        )
        fund_paid = remedy.fund_paid
        compensation = remedy.compensation  # less what earlier remedies on the order paid
    proposed = None
    if outcome is not Outcome.FOR_MERCHANT and not by_default:  # a finding, not a missed deadline
        proposed = (policy().get("proposes") or {}).get(finding)
        if finding in policy().get("investigate") and order.batch_id is not None:
            _investigate(session, clock, order.batch_id, finding, case_id)
    session.execute(
        update(cases)
        .where(cases.c.id == case_id)
        .values(
            state=to.value,
            decided_at=now,
            decided_by=decided_by,
            decision_key=key,
            outcome=outcome.value,
            finding=finding,
            refund=refund,
            compensation=compensation,
            payer=payer,
            recover_from=recover_from,
            reasons=reasons,
            relied_on=list(relied_on),
            by_default=by_default,
            rule=rule,
            proposed_rule=proposed,
        )
    )
    timers.cancel(session, MERCHANT_DEADLINE, str(case_id))
    timers.cancel(session, DECISION_DUE, str(case_id))
    if proposed:
        events.append(
            session,
            clock,
            "violation.proposed",
            r.merchant,
            {"case": case_id, "rule": proposed, "subject": r.merchant, "evidence": list(relied_on)},
        )
    events.append(
        session,
        clock,
        "case.decided",
        r.buyer,
        {
            "case": case_id,
            "kind": r.kind,
            "merchant": r.merchant,
            "outcome": outcome.value,
            "by_default": by_default,
            "refund": refund,
            "compensation": compensation,
            "payer": payer,
            "fund_paid": fund_paid,
            "hours_to_decision": round((now - r.opened_at).total_seconds() / 3600, 2),
        },
    )
    return get_case(session, case_id)


def _investigate(session: Session, clock: Clock, batch_id: int, finding: str, case_id: int) -> None:
    exists = session.execute(
        select(investigations.c.id).where(investigations.c.batch_id == batch_id)
    ).first()
    if exists is not None:
        return
    session.execute(
        investigations.insert(),
        dict(
            batch_id=batch_id,
            opened_by=f"case:{case_id}",
            finding=finding,
            status="open",
            created_at=clock.now(),
        ),
    )
    events.append(
        session,
        clock,
        "batch.investigation_opened",
        f"batch:{batch_id}",
        {"batch": batch_id, "finding": finding, "case": case_id},
    )


@timers.handler(MERCHANT_DEADLINE)
def _merchant_deadline(session: Session, clock: Clock, timer: Timer) -> None:
    """The merchant did not answer in time: decide for the buyer under the default rule."""
    case_id = int(timer.subject)
    r = _row(session, case_id, lock=True)
    if State(r.state) is not State.AWAITING_MERCHANT:
        return
    if r.buyer_weight < float(policy().get("default_needs_weight")):
        due = clock.now() + timedelta(days=int(policy().get("decision_days")))
        session.execute(
            update(cases)
            .where(cases.c.id == case_id)
            .values(state=model.move(State(r.state), "hold").value)
        )
        events.append(
            session,
            clock,
            "case.held_for_review",
            r.merchant,
            {
                "case": case_id,
                "buyer_weight": round(r.buyer_weight, 3),
                "reason": "the merchant did not answer, but the buyer's abuse score is high: "
                "a reviewer decides instead of the default rule",
                "decide_by": due.isoformat(),
            },
        )
        timers.schedule(session, clock, DECISION_DUE, str(case_id), due)
        return
    rule = policy().get("default_rule")
    decide(
        session,
        clock,
        f"{SYSTEM_PREFIX}case:{case_id}:default",
        case_id,
        decided_by=SYSTEM_DECIDER,
        outcome=Outcome.FOR_BUYER,
        finding=r.kind,
        reasons=f"{rule['id']}: " + " ".join(str(rule["text"]).split()),
        relied_on=[f"order:{r.order_id}"],
        compensation=0,
        by_default=True,
    )


@timers.handler(DECISION_DUE)
def _decision_due(session: Session, clock: Clock, timer: Timer) -> None:
    """A held case still undecided at its date is escalated to the reviewers' leads, every
    day until someone decides it (it is never decided by default on the abusive buyer's word,
    nor dropped)."""
    case_id = int(timer.subject)
    r = _row(session, case_id, lock=True)
    if r.outcome is not None:
        return
    events.append(
        session,
        clock,
        "case.decision_overdue",
        r.merchant,
        {"case": case_id, "state": r.state, "reviewer": r.reviewer},
    )
    timers.schedule(session, clock, DECISION_DUE, str(case_id), clock.now() + timedelta(days=1))


def appeal(
    session: Session, clock: Clock, case_id: int, *, by: str, grounds: str
) -> dict[str, Any]:
    """Either side may appeal a decision within the policy's days."""
    r = _row(session, case_id, lock=True)
    if by not in (r.buyer, r.merchant):
        raise Forbidden(f"only {r.buyer} or {r.merchant} may appeal case {case_id}")
    _text(grounds, "grounds")
    to = model.move(State(r.state), "appeal")
    limit = r.decided_at + timedelta(days=int(policy().get("appeal_days")))
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
    r = _row(session, case_id, lock=True)
    if reviewer == r.decided_by:
        raise Forbidden(f"{reviewer} decided case {case_id}; the appeal goes to someone else")
    if outcome not in ("upheld", "varied"):
        raise ValidationFailed("outcome is upheld or varied", field="outcome")
    _text(reasons, "reasons")
    if State(r.state) is not State.APPEALED:
        raise Conflict(f"case {case_id} is {r.state}, not appealed", field="case_id")
    to = model.move(State(r.state), "finalise")
    if outcome == "varied":
        # The cap is on all the compensation the buyer has had for the order (this decision's,
        # and a recall's that may have paid first), read under the order's lock.
        order = orders.lock(session, r.order_id)
        paid = remedies.paid_on_order(session, order.id, "compensation")
        most = max(10 * order.state.total, 100_000)
        cap = max(0, most - paid)
        if not 0 < extra_compensation <= cap:
            raise ValidationFailed(
                f"a variation awards extra compensation between 1 and {cap}"
                + (f" (the buyer has had {paid} of the {most} allowed)" if paid else ""),
                field="extra_compensation",
            )
        remedies.pay_buyer(
            session,
            clock,
            f"{SYSTEM_PREFIX}case:{case_id}:appeal",
            order_id=r.order_id,
            refund=0,
            compensation_due=extra_compensation,
            payer=r.payer or r.merchant,
            recover_from=list(r.recover_from or []),
            basis=f"appeal of case {case_id}: {reasons}",
            origin=f"case:{case_id}",
            cumulative=False,
        )
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


def list_cases(
    session: Session,
    *,
    buyer: str | None = None,
    merchant: str | None = None,
    staff: bool = False,
) -> list[dict[str, Any]]:
    q = select(cases.c.id).order_by(cases.c.id)
    if buyer is not None:
        q = q.where(cases.c.buyer == buyer)
    if merchant is not None:
        q = q.where(cases.c.merchant == merchant)
    return [get_case(session, i, staff=staff) for i in session.execute(q).scalars()]


def metrics(session: Session) -> dict[str, object]:
    """The complaint figures, computed from the records every time."""
    decided_rows = session.execute(
        select(cases).where(cases.c.decided_at.is_not(None)).order_by(cases.c.id)
    ).all()
    decided = []
    for r in decided_rows:
        origin = f"case:{r.id}"
        fund_paid = session.execute(
            select(func.coalesce(func.sum(remedy_payments.c.amount), 0))
            .select_from(remedy_payments.join(remedy_rows))
            .where(remedy_rows.c.origin == origin)
            .where(remedy_payments.c.source == "guarantee_fund")
        ).scalar_one()
        recovered = session.execute(
            select(func.coalesce(func.sum(recovery_claims.c.recovered), 0))
            .where(recovery_claims.c.origin == origin)
            .where(recovery_claims.c.creditor == remedies.PLATFORM)
        ).scalar_one()
        decided.append(
            model.Decided(
                r.kind,
                r.merchant,
                r.opened_at,
                r.decided_at,
                Outcome(r.outcome),
                r.compensation or 0,
                int(fund_paid),
                int(recovered),
            )
        )
    open_rows = session.execute(
        select(cases.c.kind, func.count())
        .where(cases.c.decided_at.is_(None))
        .group_by(cases.c.kind)
    ).all()
    return model.metrics(decided, {k: int(n) for k, n in open_rows})
