"""Figures of the platform's own conduct under its rules: merchants sanctioned and cleared by
rule, violations decided, appeals and their outcomes, and the notices it received and handled."""

from __future__ import annotations

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from xinren.errors import XinrenError
from xinren.events.tables import outbox
from xinren.report import model
from xinren.report.figures.common import count_of, within
from xinren.report.model import Period
from xinren.rules import rulebooks
from xinren.rules.model import Automation
from xinren.rules.tables import appeals, notices, sanctions, violations


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
    applied = and_(within(sanctions.c.starts_at, period), sanctions.c.status != "reversed")
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
    statements = count_of(
        session,
        select(func.count(distinct(sanctions.c.violation_id)))
        .select_from(joined)
        .where(within(violations.c.decided_at, period))
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


def violation_figures(session: Session, period: Period) -> model.Violations:
    by_source = dict.fromkeys(model.SOURCES, 0)
    automation = dict.fromkeys((a.value for a in Automation), 0)
    total = 0
    for source, automated, n in session.execute(
        select(violations.c.source, violations.c.automated_decision, func.count())
        .where(within(violations.c.decided_at, period))
        .group_by(violations.c.source, violations.c.automated_decision)
    ):
        by_source[source] = by_source.get(source, 0) + int(n)
        automation[automated] = automation.get(automated, 0) + int(n)
        total += int(n)
    return model.Violations(
        total, by_source, automation[Automation.FULLY.value], automation[Automation.PARTIALLY.value]
    )


def appeal_figures(session: Session, period: Period) -> model.Appeals:
    filed = count_of(
        session,
        select(func.count()).select_from(appeals).where(within(appeals.c.filed_at, period)),
    )
    rows = session.execute(
        select(appeals.c.status, appeals.c.filed_at, appeals.c.decided_at).where(
            within(appeals.c.decided_at, period)
        )
    ).all()
    outcomes = {"upheld": 0, "reduced": 0, "overturned": 0}
    for r in rows:
        outcomes[r.status] = outcomes.get(r.status, 0) + 1
    days = tuple((r.decided_at - r.filed_at).total_seconds() / 86_400 for r in rows)
    automated = and_(
        within(violations.c.decided_at, period),
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


def _reporters(session: Session, topic: str, period: Period) -> int:
    return count_of(
        session,
        select(func.count(distinct(outbox.c.subject)))
        .where(outbox.c.topic == topic)
        .where(within(outbox.c.created_at, period)),
    )


def notice_figures(session: Session, period: Period) -> model.Notices:
    """Notices received in the period and how they were decided; reporters warned or
    suspended in it (the event feed records each warning and suspension when it happens)."""
    when = within(notices.c.created_at, period)
    statuses: dict[str, int] = dict(
        session.execute(
            select(notices.c.status, func.count()).where(when).group_by(notices.c.status)
        ).all()
    )
    trusted = count_of(
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
