"""Buyer complaints end to end: filing with evidence, the merchant's deadline (missed: decided
for the buyer under the published default rule), mediation by an assigned reviewer, a reasoned
decision whose remedies are paid through the ledger in the same transaction, and an appeal.

A decision for the buyer also proposes a violation to enforcement where the rulebook covers
the finding, and a counterfeit or safety finding opens an investigation of the batch.

The use cases live in their own modules (`filing`, `deciding`, `appeals`, `records`), the
decisions in `model` (the state machine, `plan_award`, `check_variation`) and the policy file
(`terms`); this module is their one entry point and holds the timer handlers.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from xinren.cases import model
from xinren.cases.appeals import appeal, decide_appeal
from xinren.cases.deciding import decide
from xinren.cases.filing import add_evidence, assign, file_case, respond
from xinren.cases.model import Outcome, State
from xinren.cases.records import get_case, list_cases, metrics, row
from xinren.cases.tables import cases
from xinren.cases.terms import DECISION_DUE, MERCHANT_DEADLINE, SYSTEM_DECIDER, policy
from xinren.clock import Clock
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX
from xinren.timers import service as timers
from xinren.timers.model import Timer

__all__ = [
    "DECISION_DUE",
    "MERCHANT_DEADLINE",
    "SYSTEM_DECIDER",
    "add_evidence",
    "appeal",
    "assign",
    "decide",
    "decide_appeal",
    "file_case",
    "get_case",
    "list_cases",
    "metrics",
    "policy",
    "respond",
]


@timers.handler(MERCHANT_DEADLINE)
def _merchant_deadline(session: Session, clock: Clock, timer: Timer) -> None:
    """The merchant did not answer in time: decide for the buyer under the default rule."""
    case_id = int(timer.subject)
    r = row(session, case_id, lock=True)
    if State(r.state) is not State.AWAITING_MERCHANT:
        return
    terms = policy()
    if not model.decides_by_default(terms, r.buyer_weight):
        due = clock.now() + terms.decision
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
    decide(
        session,
        clock,
        f"{SYSTEM_PREFIX}case:{case_id}:default",
        case_id,
        decided_by=SYSTEM_DECIDER,
        outcome=Outcome.FOR_BUYER,
        finding=r.kind,
        reasons=f"{terms.default_rule_id}: {terms.default_rule_text}",
        relied_on=[f"order:{r.order_id}"],
        compensation=0,
        by_default=True,
    )


@timers.handler(DECISION_DUE)
def _decision_due(session: Session, clock: Clock, timer: Timer) -> None:
    """A held case still undecided at its date is escalated to the reviewers' leads, every
    `overdue_every_days` until someone decides it (it is never decided by default on the
    abusive buyer's word, nor dropped)."""
    case_id = int(timer.subject)
    r = row(session, case_id, lock=True)
    if r.outcome is not None:
        return
    events.append(
        session,
        clock,
        "case.decision_overdue",
        r.merchant,
        {"case": case_id, "state": r.state, "reviewer": r.reviewer},
    )
    timers.schedule(
        session, clock, DECISION_DUE, str(case_id), clock.now() + policy().overdue_every
    )
