"""Deciding a complaint: check the case can be decided now and on what evidence, read the order
once, plan the award (`model.plan_award`), ask the one who-pays-first rule
(`liability.who_pays_first`), pay through remedies in this transaction, then record the
decision, propose a violation to enforcement and open a batch investigation where the policy
says so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.cases import model
from xinren.cases.model import Award, Outcome, State
from xinren.cases.records import get_case, on_record, row, text
from xinren.cases.tables import cases, investigations
from xinren.cases.terms import DECISION_DUE, MERCHANT_DEADLINE, policy
from xinren.clock import Clock
from xinren.detect import buyers  # noqa: F401  its abuse record subscribes to case.decided
from xinren.errors import Conflict, Forbidden, IdempotencyKeyReused, ValidationFailed
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key
from xinren.liability import service as liability
from xinren.orders import service as orders
from xinren.remedies import service as remedies
from xinren.rules import service as rules
from xinren.timers import service as timers


@dataclass(frozen=True, slots=True)
class Decision:
    """What the decision pays and records, once planned and paid."""

    outcome: Outcome
    finding: str
    award: Award
    payer: str
    recover_from: list[str]
    fund_paid: int
    compensation: int  # paid now: the award less what earlier remedies on the order paid
    at: datetime  # when it was decided


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
    r = row(session, case_id, lock=True)
    done = session.execute(select(cases).where(cases.c.decision_key == key)).first()
    if done is not None:
        if done.id != case_id:
            raise IdempotencyKeyReused(
                f"decision key {key!r} decided case {done.id}", field="idempotency_key"
            )
        return get_case(session, case_id)
    outcome = _outcome(outcome)
    model.check_kind(finding)
    text(reasons, "reasons")
    to = _decidable(clock, r, decided_by, by_default)
    _check_relied_on(session, r, relied_on, by_default)
    order = orders.get_order(session, r.order_id)
    award = _plan(session, order, outcome, finding, refund, compensation, by_default)
    decision = _pay(session, clock, key, r, order, outcome, finding, award, decided_by)
    found = outcome is not Outcome.FOR_MERCHANT and not by_default  # not a missed deadline
    proposed = policy().proposes.get(finding) if found else None
    if found and finding in policy().investigate and order.batch_id is not None:
        _investigate(session, clock, order.batch_id, finding, case_id)
    _record(session, key, r, to, decision, proposed, (decided_by, reasons, relied_on, by_default))
    _announce(session, clock, r, decision, proposed, relied_on, by_default)
    return get_case(session, case_id)


def _outcome(outcome: Outcome | str) -> Outcome:
    try:
        return Outcome(outcome)
    except ValueError:
        raise ValidationFailed(
            f"outcome is one of {', '.join(o.value for o in Outcome)}", field="outcome"
        ) from None


def _decidable(clock: Clock, r: Any, decided_by: str, by_default: bool) -> State:
    """The state the decision moves the case to; only its reviewer decides, after the merchant
    was heard or its deadline passed."""
    to = model.move(State(r.state), "default" if by_default else "decide")
    if r.reviewer is not None and decided_by != r.reviewer and not by_default:
        raise Forbidden(f"case {r.id} is assigned to {r.reviewer}")
    heard = State(r.state) is not State.AWAITING_MERCHANT or clock.now() >= r.merchant_due_at
    if not heard and not by_default:
        raise Conflict(
            f"the merchant has until {r.merchant_due_at.isoformat()} to answer; decide after "
            "hearing it",
            field="case_id",
        )
    return to


def _check_relied_on(session: Session, r: Any, relied_on: Sequence[str], by_default: bool) -> None:
    recorded = on_record(session, r.id, r.order_id)
    for ref in relied_on:
        rules.evidence_type(session, ref)
        if ref not in recorded:
            raise ValidationFailed(
                f"{ref} is not evidence in case {r.id}: add it to the case first",
                field="relied_on",
            )
    if not relied_on and not by_default:
        raise ValidationFailed("name the evidence the decision relies on", field="relied_on")


def _plan(
    session: Session,
    order: orders.OrderView,
    outcome: Outcome,
    finding: str,
    refund: int | None,
    compensation: int | None,
    by_default: bool,
) -> Award:
    law = None
    if outcome is not Outcome.FOR_MERCHANT:
        c = remedies.compensation(finding, order.category, order.state.total)
        law = model.Statute(c.amount, c.rule, c.source)
    return model.plan_award(
        outcome,
        owed=remedies.still_owed(session, order) if outcome is not Outcome.FOR_MERCHANT else 0,
        refund=refund,
        compensation=compensation,
        law=law,
        cap=remedies.award_cap(order.state.total),
        by_default=by_default,
        default_rule=policy().default_rule_id,
    )


def _pay(
    session: Session,
    clock: Clock,
    key: str,
    r: Any,
    order: orders.OrderView,
    outcome: Outcome,
    finding: str,
    award: Award,
    decided_by: str,
) -> Decision:
    """Who pays first (the one rule), then the payment, in this transaction."""
    if outcome is Outcome.FOR_MERCHANT:
        payer, recover_from, basis = order.merchant, [], award.source
    else:
        who = liability.who_pays_first(session, clock, order, finding, assessed_by=decided_by)
        payer, recover_from = who.party, list(who.recover_from)
        basis = "; ".join(x for x in (award.source, who.why) if x)
    now = clock.now()
    fund_paid, compensation = 0, award.compensation
    if award.refund or award.compensation:
        remedy = remedies.pay_buyer(
            session,
            clock,
            f"{SYSTEM_PREFIX}case:{r.id}:remedy",
            order_id=order.id,
            refund=award.refund,
            compensation_due=award.compensation,
            payer=payer,
            recover_from=recover_from,
            basis=basis,
            origin=f"case:{r.id}",
        )
        fund_paid = remedy.fund_paid
        compensation = remedy.compensation  # less what earlier remedies on the order paid
    return Decision(outcome, finding, award, payer, recover_from, fund_paid, compensation, now)


def _record(
    session: Session,
    key: str,
    r: Any,
    to: State,
    d: Decision,
    proposed: str | None,
    by: tuple[str, str, Sequence[str], bool],  # decided_by, reasons, relied_on, by_default
) -> None:
    decided_by, reasons, relied_on, by_default = by
    session.execute(
        update(cases)
        .where(cases.c.id == r.id)
        .values(
            state=to.value,
            decided_at=d.at,
            decided_by=decided_by,
            decision_key=key,
            outcome=d.outcome.value,
            finding=d.finding,
            refund=d.award.refund,
            compensation=d.compensation,
            payer=d.payer,
            recover_from=d.recover_from,
            reasons=reasons,
            relied_on=list(relied_on),
            by_default=by_default,
            rule=d.award.rule,
            proposed_rule=proposed,
        )
    )
    timers.cancel(session, MERCHANT_DEADLINE, str(r.id))
    timers.cancel(session, DECISION_DUE, str(r.id))


def _announce(
    session: Session,
    clock: Clock,
    r: Any,
    d: Decision,
    proposed: str | None,
    relied_on: Sequence[str],
    by_default: bool,
) -> None:
    if proposed:
        events.append(
            session,
            clock,
            "violation.proposed",
            r.merchant,
            {"case": r.id, "rule": proposed, "subject": r.merchant, "evidence": list(relied_on)},
        )
    events.append(
        session,
        clock,
        "case.decided",
        r.buyer,
        {
            "case": r.id,
            "kind": r.kind,
            "merchant": r.merchant,
            "outcome": d.outcome.value,
            "by_default": by_default,
            "refund": d.award.refund,
            "compensation": d.compensation,
            "payer": d.payer,
            "fund_paid": d.fund_paid,
            "hours_to_decision": round((d.at - r.opened_at).total_seconds() / 3600, 2),
        },
    )


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
