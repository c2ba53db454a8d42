"""What every figure query shares: a period as a [start, end) condition, and a count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_
from sqlalchemy.orm import Session

from xinren.report.model import Period


def within(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def count_of(session: Session, query: Select[Any]) -> int:
    return int(session.execute(query).scalar_one() or 0)
