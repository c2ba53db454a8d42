"""Reading cases as their parties and staff see them, the evidence on record, and the complaint
figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinren.cases import model
from xinren.cases.model import Outcome
from xinren.cases.tables import case_evidence, cases
from xinren.clock import Clock
from xinren.errors import NotFound, ValidationFailed
from xinren.remedies.model import GUARANTEE_FUND, PLATFORM
from xinren.remedies.tables import recovery_claims, remedy_payments
from xinren.remedies.tables import remedies as remedy_rows
from xinren.rules import service as rules


def text(value: str, field: str, limit: int = 4000) -> str:
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


def row(session: Session, case_id: int, lock: bool = False) -> Any:
    q = select(cases).where(cases.c.id == case_id)
    r = session.execute(q.with_for_update() if lock else q).first()
    if r is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    return r


def add_evidence_rows(
    session: Session, clock: Clock, case_id: int, party: str, items: Sequence[tuple[str, str]]
) -> None:
    for ref, note in items:
        rules.evidence_type(session, ref)
        session.execute(
            case_evidence.insert(),
            dict(case_id=case_id, party=party, ref=ref, note=note[:2000], created_at=clock.now()),
        )


def on_record(session: Session, case_id: int, order_id: int) -> set[str]:
    """The evidence a decision may rely on: what the parties added, and the order itself."""
    return {
        ref
        for (ref,) in session.execute(
            select(case_evidence.c.ref).where(case_evidence.c.case_id == case_id)
        )
    } | {f"order:{order_id}"}


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
            .where(remedy_payments.c.source == GUARANTEE_FUND)
        ).scalar_one()
        recovered = session.execute(
            select(func.coalesce(func.sum(recovery_claims.c.recovered), 0))
            .where(recovery_claims.c.origin == origin)
            .where(recovery_claims.c.creditor == PLATFORM)
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
