"""Every figure of the transparency report, counted from the records for a period [from, to)
each time it is asked for: nothing is cached, nothing typed in.

Read-only SQLAlchemy Core selects over the contexts' tables (the report reads everyone's records
and writes none), the same on SQLite and PostgreSQL. Counting happens in SQL; Python only sorts
rows into the report's categories and takes medians, which SQLite cannot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, case, distinct, func, select
from sqlalchemy.orm import Session

from xinren.cases.tables import cases
from xinren.catalog.tables import interceptions
from xinren.clock import Clock
from xinren.errors import XinrenError
from xinren.events.tables import outbox
from xinren.provenance.tables import recalls, remedy_tasks
from xinren.remedies.tables import recovery_claims, remedy_payments
from xinren.remedies.tables import remedies as remedy_rows
from xinren.report import model
from xinren.report.model import Period
from xinren.reviews.tables import reviews
from xinren.rules import rulebooks
from xinren.rules.model import Automation
from xinren.rules.tables import appeals, notices, sanctions, violations


def snapshot(session: Session) -> None:
    """Read every figure from one snapshot: on PostgreSQL a REPEATABLE READ, read-only
    transaction (READ COMMITTED would give each query its own, so a decision committed
    meanwhile could be in one figure and not another). SQLite's transactions already are one
    snapshot. Call before the session's first query; a session already inside a transaction
    (a test's savepoint) keeps its own."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )


def _within(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.execute(query).scalar_one() or 0)


# --- enforcement ---


def _title(rule_id: str, version: str) -> tuple[str, str]:
    try:
        rule = rulebooks.version(version).rule(rule_id)
    except XinrenError:
        return rule_id, rule_id
    return rule.title_zh, rule.title_en


def enforcement(session: Session, period: Period) -> model.Enforcement:
    """Merchants with a sanction that started in the period and was not reversed (an
    overturned decision restricted nobody), by rule, category and measure."""
    joined = sanctions.join(violations, violations.c.id == sanctions.c.violation_id)
    applied = and_(_within(sanctions.c.starts_at, period), sanctions.c.status != "reversed")
    cleared = func.count(
        distinct(case((sanctions.c.kind == "clearance", sanctions.c.subject), else_=None))
    )
    sanctioned = func.count(distinct(sanctions.c.subject))
    total = session.execute(select(sanctioned, cleared).select_from(joined).where(applied)).one()
    by_rule = [
        model.RuleRow(r.rule_id, r.category, *_title(r.rule_id, r.version), int(r.s), int(r.c))
        for r in session.execute(
            select(
                violations.c.rule_id,
                violations.c.category,
                func.max(violations.c.rule_version).label("version"),
                sanctioned.label("s"),
                cleared.label("c"),
            )
            .select_from(joined)
            .where(applied)
            .group_by(violations.c.rule_id, violations.c.category)
            .order_by(violations.c.rule_id, violations.c.category)
        )
    ]
    categories = {
        r.category: (int(r.s), int(r.c))
        for r in session.execute(
            select(violations.c.category, sanctioned.label("s"), cleared.label("c"))
            .select_from(joined)
            .where(applied)
            .group_by(violations.c.category)
        )
    }
    kinds = dict.fromkeys(model.SANCTIONS, 0)
    for kind, n in session.execute(
        select(sanctions.c.kind, sanctioned).where(applied).group_by(sanctions.c.kind)
    ):
        kinds[kind] = int(n)
    # a statement of reasons for each of the period's decisions with a measure in force or served
    statements = _count(
        session,
        select(func.count(distinct(sanctions.c.violation_id)))
        .select_from(joined)
        .where(_within(violations.c.decided_at, period))
        .where(sanctions.c.status.in_(("active", "ended"))),
    )
    return model.Enforcement(
        int(total[0]),
        int(total[1]),
        statements,
        tuple(by_rule),
        tuple(
            model.CategoryRow(c, *categories.get(c, (0, 0)))
            for c in (*model.CATEGORIES, *sorted(set(categories) - set(model.CATEGORIES)))
        ),
        kinds,
    )


# --- the gate ---


def gate(session: Session, period: Period) -> model.Gate:
    """Listings intercepted: a new listing's draft counts once (a retried request is not
    recorded again), and an existing listing whose changes were blocked counts once however
    many changes were; each listing's reasons count once per kind."""
    when = _within(interceptions.c.created_at, period)
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


# --- violations, appeals ---


def violation_figures(session: Session, period: Period) -> model.Violations:
    by_source = dict.fromkeys(model.SOURCES, 0)
    automation = dict.fromkeys((a.value for a in Automation), 0)
    total = 0
    for source, automated, n in session.execute(
        select(violations.c.source, violations.c.automated_decision, func.count())
        .where(_within(violations.c.decided_at, period))
        .group_by(violations.c.source, violations.c.automated_decision)
    ):
        by_source[source] = by_source.get(source, 0) + int(n)
        automation[automated] = automation.get(automated, 0) + int(n)
        total += int(n)
    return model.Violations(
        total, by_source, automation[Automation.FULLY.value], automation[Automation.PARTIALLY.value]
    )


def appeal_figures(session: Session, period: Period) -> model.Appeals:
    filed = _count(
        session,
        select(func.count()).select_from(appeals).where(_within(appeals.c.filed_at, period)),
    )
    rows = session.execute(
        select(appeals.c.status, appeals.c.filed_at, appeals.c.decided_at).where(
            _within(appeals.c.decided_at, period)
        )
    ).all()
    outcomes = {"upheld": 0, "reduced": 0, "overturned": 0}
    for r in rows:
        outcomes[r.status] = outcomes.get(r.status, 0) + 1
    days = tuple((r.decided_at - r.filed_at).total_seconds() / 86_400 for r in rows)
    automated = and_(
        _within(violations.c.decided_at, period),
        violations.c.automated_decision != Automation.NOT_AUTOMATED.value,
    )
    decisions, overturned = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((violations.c.status == "overturned", 1), else_=0)), 0),
        ).where(automated)
    ).one()
    return model.Appeals(
        filed,
        outcomes["upheld"],
        outcomes["reduced"],
        outcomes["overturned"],
        days,
        int(decisions),
        int(overturned),
    )


# --- notices ---


def _reporters(session: Session, topic: str, period: Period) -> int:
    return _count(
        session,
        select(func.count(distinct(outbox.c.subject)))
        .where(outbox.c.topic == topic)
        .where(_within(outbox.c.created_at, period)),
    )


def notice_figures(session: Session, period: Period) -> model.Notices:
    """Notices received in the period and how they were decided; reporters warned or
    suspended in it (the event feed records each warning and suspension when it happens)."""
    when = _within(notices.c.created_at, period)
    statuses: dict[str, int] = dict(
        session.execute(
            select(notices.c.status, func.count()).where(when).group_by(notices.c.status)
        ).all()
    )
    trusted = _count(
        session, select(func.count()).select_from(notices).where(when, notices.c.trusted.is_(True))
    )
    return model.Notices(
        sum(statuses.values()),
        trusted,
        int(statuses.get("founded", 0)),
        int(statuses.get("unfounded", 0)),
        int(statuses.get("manifestly_unfounded", 0)),
        int(statuses.get("not_processed", 0)),
        _reporters(session, "reporter.warned", period),
        _reporters(session, "reporter.suspended", period),
    )


# --- complaints ---


def complaint_figures(session: Session, period: Period) -> model.Complaints:
    by_kind = dict.fromkeys(model.COMPLAINTS, 0)
    for kind, n in session.execute(
        select(cases.c.kind, func.count())
        .where(_within(cases.c.opened_at, period))
        .group_by(cases.c.kind)
    ):
        by_kind[kind] = int(n)
    rows = session.execute(
        select(cases.c.outcome, cases.c.by_default, cases.c.opened_at, cases.c.decided_at).where(
            _within(cases.c.decided_at, period)
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


# --- compensation and recovery ---


def compensation(session: Session, period: Period) -> model.Compensation:
    """Payments to buyers by remedies decided in the period, by who paid; recovery claims
    opened in the period, by who recovers from whom, as they stand now."""
    when = _within(remedy_rows.c.created_at, period)
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
    buyers = _count(  # buyers actually paid something, not every buyer with a remedy record
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
        .where(_within(recovery_claims.c.created_at, period))
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


# --- recalls ---


def recall_figures(session: Session, period: Period) -> model.Recalls:
    """Recalls decided in the period; each buyer counts once per recall, and is remedied once
    every remedy task of theirs in that recall is paid."""
    ids = select(recalls.c.id).where(_within(recalls.c.created_at, period))
    count = _count(session, select(func.count()).select_from(ids.subquery()))

    def pairs(*where: ColumnElement[bool]) -> int:
        found = (
            select(remedy_tasks.c.recall_id, remedy_tasks.c.buyer)
            .where(remedy_tasks.c.recall_id.in_(ids), *where)
            .distinct()
            .subquery()
        )
        return _count(session, select(func.count()).select_from(found))

    affected = pairs()
    return model.Recalls(count, affected, affected - pairs(remedy_tasks.c.status != "paid"))


# --- reviews ---


def review_figures(session: Session, period: Period) -> model.Reviews:
    """Reviews written in the period, those excluded as fake, and per merchant the mean of all
    of them against the mean of those kept."""
    when = _within(reviews.c.reviewed_at, period)
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


# --- the whole report ---


def report(session: Session, clock: Clock, period: Period) -> model.Report:
    """Every figure for `period`, counted now."""
    comp = compensation(session, period)
    return model.Report(
        period=period,
        generated_at=clock.now(),
        enforcement=enforcement(session, period),
        gate=gate(session, period),
        violations=violation_figures(session, period),
        appeals=appeal_figures(session, period),
        notices=notice_figures(session, period),
        complaints=complaint_figures(session, period),
        compensation=comp,
        recalls=recall_figures(session, period),
        reviews=review_figures(session, period),
    )


def statement_ids(session: Session, period: Period) -> Iterable[int]:
    """The period's decisions that carry a statement of reasons (a measure in force or served),
    in decision order."""
    return session.execute(
        select(sanctions.c.violation_id)
        .distinct()
        .select_from(sanctions.join(violations, violations.c.id == sanctions.c.violation_id))
        .where(_within(violations.c.decided_at, period))
        .where(sanctions.c.status.in_(("active", "ended")))
        .order_by(sanctions.c.violation_id)
    ).scalars()
