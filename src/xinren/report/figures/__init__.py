"""Every figure of the transparency report, counted from the records for a period [from, to)
each time it is asked for: nothing is cached, nothing typed in.

Read-only SQLAlchemy Core selects over the contexts' tables (the report reads everyone's records
and writes none), the same on SQLite and PostgreSQL. Counting happens in SQL; Python only sorts
rows into the report's categories and takes medians, which SQLite cannot.

By use case: `conduct` (the rules' enforcement, violations, appeals, notices) and `protection`
(the gate, complaints, compensation, recalls, reviews); this module puts one report together.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.report import model
from xinren.report.figures.common import within
from xinren.report.figures.conduct import (
    appeal_figures,
    enforcement,
    notice_figures,
    violation_figures,
)
from xinren.report.figures.protection import (
    compensation,
    complaint_figures,
    gate,
    recall_figures,
    review_figures,
)
from xinren.report.model import Period
from xinren.rules.tables import sanctions, violations


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
        .where(within(violations.c.decided_at, period))
        .where(sanctions.c.status.in_(("active", "ended")))
        .order_by(sanctions.c.violation_id)
    ).scalars()
