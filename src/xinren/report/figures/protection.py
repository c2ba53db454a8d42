"""Figures of what buyers were spared or paid: listings the gate stopped, complaints decided,
compensation paid first and recovered, recalls, and reviews excluded from ratings."""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.orm import Session

from xinren.cases.tables import cases
from xinren.catalog.tables import interceptions
from xinren.recalls.tables import recalls, remedy_tasks
from xinren.remedies.tables import recovery_claims, remedy_payments
from xinren.remedies.tables import remedies as remedy_rows
from xinren.report import model
from xinren.report.figures.common import count_of, within
from xinren.report.model import Period
from xinren.reviews.tables import reviews


def gate(session: Session, period: Period) -> model.Gate:
    """Listings intercepted: a new listing's draft counts once (a retried request is not
    recorded again), and an existing listing whose changes were blocked counts once however
    many changes were; each listing's reasons count once per kind."""
    when = within(interceptions.c.created_at, period)
    per_listing: dict[str, dict[str, set[str]]] = {"block": {}, "review": {}}
    blocked_merchants: set[str] = set()
    for row in session.execute(
        select(
            interceptions.c.id,
            interceptions.c.listing_id,
            interceptions.c.merchant,
            interceptions.c.outcome,
            interceptions.c.reasons,
        ).where(when)
    ):
        if row.outcome not in per_listing:
            continue
        which = f"listing:{row.listing_id}" if row.listing_id is not None else f"draft:{row.id}"
        kinds = per_listing[row.outcome].setdefault(which, set())
        kinds.update(model.gate_reason(str(text)) for text in row.reasons or ())
        if row.outcome == "block":
            blocked_merchants.add(row.merchant)
    reasons = dict.fromkeys(model.GATE_REASONS, 0)
    for kinds in per_listing["block"].values():
        for kind in kinds:
            reasons[kind] += 1
    return model.Gate(
        len(per_listing["block"]), len(per_listing["review"]), len(blocked_merchants), reasons
    )


def complaint_figures(session: Session, period: Period) -> model.Complaints:
    by_kind = dict.fromkeys(model.COMPLAINTS, 0)
    for kind, n in session.execute(
        select(cases.c.kind, func.count())
        .where(within(cases.c.opened_at, period))
        .group_by(cases.c.kind)
    ):
        by_kind[kind] = int(n)
    rows = session.execute(
        select(cases.c.outcome, cases.c.by_default, cases.c.opened_at, cases.c.decided_at).where(
            within(cases.c.decided_at, period)
        )
    ).all()
    outcomes = {"for_buyer": 0, "partly_for_buyer": 0, "for_merchant": 0}
    for r in rows:
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    return model.Complaints(
        sum(by_kind.values()),
        by_kind,
        outcomes["for_buyer"],
        outcomes["partly_for_buyer"],
        outcomes["for_merchant"],
        sum(1 for r in rows if r.by_default),
        tuple((r.decided_at - r.opened_at).total_seconds() / 3600 for r in rows),
    )


def compensation(session: Session, period: Period) -> model.Compensation:
    """Payments to buyers by remedies decided in the period, by who paid; recovery claims
    opened in the period, by who recovers from whom, as they stand now."""
    when = within(remedy_rows.c.created_at, period)
    paid: dict[tuple[str, str], dict[str, int]] = {}
    for currency, source, paid_by, kind, amount in session.execute(
        select(
            remedy_rows.c.currency,
            remedy_payments.c.source,
            remedy_payments.c.paid_by,
            remedy_payments.c.kind,
            func.sum(remedy_payments.c.amount),
        )
        .select_from(remedy_payments.join(remedy_rows))
        .where(when)
        .group_by(
            remedy_rows.c.currency,
            remedy_payments.c.source,
            remedy_payments.c.paid_by,
            remedy_payments.c.kind,
        )
    ):
        sums = paid.setdefault(
            (currency, model.payer_class(source, paid_by)), {"refund": 0, "compensation": 0}
        )
        sums[kind] = sums.get(kind, 0) + int(amount)
    buyers = count_of(  # buyers actually paid something, not every buyer with a remedy record
        session,
        select(func.count(distinct(remedy_rows.c.buyer)))
        .select_from(
            remedy_payments.join(remedy_rows, remedy_rows.c.id == remedy_payments.c.remedy_id)
        )
        .where(when, remedy_payments.c.amount > 0),
    )
    claims: dict[tuple[str, str, str], list[int]] = {}
    for r in session.execute(
        select(
            recovery_claims.c.currency,
            recovery_claims.c.creditor,
            recovery_claims.c.debtor,
            func.count().label("n"),
            func.sum(recovery_claims.c.amount).label("amount"),
            func.sum(recovery_claims.c.recovered).label("recovered"),
            func.sum(recovery_claims.c.written_off).label("written_off"),
        )
        .where(within(recovery_claims.c.created_at, period))
        .group_by(recovery_claims.c.currency, recovery_claims.c.creditor, recovery_claims.c.debtor)
    ):
        key = (r.currency, model.party_class(r.creditor), model.party_class(r.debtor))
        sums_ = claims.setdefault(key, [0, 0, 0, 0])
        for i, v in enumerate((r.n, r.amount, r.recovered, r.written_off)):
            sums_[i] += int(v)
    currencies = sorted({c for c, _ in paid} | {c for c, _, _ in claims}) or ["CNY"]
    rows = []
    for currency in currencies:
        for payer in model.PAYERS:
            found = paid.get((currency, payer))
            if found is None and payer not in model.ALWAYS_SHOWN_PAYERS:
                continue
            found = found or {"refund": 0, "compensation": 0}
            rows.append(model.PaidRow(currency, payer, found["refund"], found["compensation"]))
    order = {p: i for i, p in enumerate(model.PAYERS)}
    recovery = [
        model.RecoveryRow(currency, creditor, debtor, *sums_)
        for (currency, creditor, debtor), sums_ in sorted(
            claims.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], order[kv[0][2]])
        )
    ]
    return model.Compensation(buyers, tuple(rows), tuple(recovery))


def recall_figures(session: Session, period: Period) -> model.Recalls:
    """Recalls decided in the period; each buyer counts once per recall, and is remedied once
    every remedy task of theirs in that recall is paid."""
    ids = select(recalls.c.id).where(within(recalls.c.created_at, period))
    count = count_of(session, select(func.count()).select_from(ids.subquery()))

    def pairs(*where: ColumnElement[bool]) -> int:
        found = (
            select(remedy_tasks.c.recall_id, remedy_tasks.c.buyer)
            .where(remedy_tasks.c.recall_id.in_(ids), *where)
            .distinct()
            .subquery()
        )
        return count_of(session, select(func.count()).select_from(found))

    affected = pairs()
    return model.Recalls(count, affected, affected - pairs(remedy_tasks.c.status != "paid"))


def review_figures(session: Session, period: Period) -> model.Reviews:
    """Reviews written in the period, those excluded as fake, and per merchant the mean of all
    of them against the mean of those kept."""
    when = within(reviews.c.reviewed_at, period)
    excluded = reviews.c.excluded.is_(True)
    received, fakes = session.execute(
        select(func.count(), func.coalesce(func.sum(case((excluded, 1), else_=0)), 0)).where(when)
    ).one()
    per_merchant = [
        model.RatingChange(r.merchant, int(r.n), int(r.x), int(r.total), int(r.kept))
        for r in session.execute(
            select(
                reviews.c.merchant,
                func.count().label("n"),
                func.sum(case((excluded, 1), else_=0)).label("x"),
                func.sum(reviews.c.rating).label("total"),
                func.sum(case((excluded, 0), else_=reviews.c.rating)).label("kept"),
            )
            .where(when)
            .group_by(reviews.c.merchant)
            .having(func.sum(case((excluded, 1), else_=0)) > 0)
        )
    ]
    return model.Reviews(
        int(received),
        int(fakes),
        len(per_merchant),
        model.biggest_changes(per_merchant),
    )
