"""`GET /transparency` (the public report page, Chinese or English) and `GET /v1/transparency`
(the same figures as JSON). Public and read-only: no key, nothing written.

The period is `from` and `to`, whole days in `tz` (UTC by default), both included, at most
three years; without
`from`, from 1 January of `to`'s year; without `to`, up to today.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from fastapi.responses import HTMLResponse

from xinren.api.deps import ClockDep, SessionDep
from xinren.api.threads import Router
from xinren.report import figures, html
from xinren.report.model import Period, parse_day

router = Router(tags=["transparency"])

MAX_PUBLIC_DAYS = 3 * 366  # a few years at a time on the public page and its JSON


def get_period(
    clock: ClockDep,
    first: Annotated[
        str | None, Query(alias="from", description="first day, YYYY-MM-DD (UTC)")
    ] = None,
    last: Annotated[
        str | None, Query(alias="to", description="last day, YYYY-MM-DD (UTC), included")
    ] = None,
    tz: Annotated[
        str, Query(max_length=64, description="the days' time zone, e.g. Asia/Shanghai")
    ] = "UTC",
) -> Period:
    end = parse_day(last, "to") if last is not None else clock.now().date()
    return Period.parse(first if first is not None else date(end.year, 1, 1), end, tz).at_most(
        MAX_PUBLIC_DAYS
    )


PeriodDep = Annotated[Period, Depends(get_period)]


@router.get("/v1/transparency")
def transparency_json(period: PeriodDep, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    """Every figure of the transparency report for the period, computed now."""
    figures.snapshot(session)
    return figures.report(session, clock, period).as_dict()


@router.get("/transparency", response_class=HTMLResponse)
def transparency_page(
    period: PeriodDep,
    session: SessionDep,
    clock: ClockDep,
    lang: Literal["zh", "en"] = "zh",
) -> HTMLResponse:
    """The public trust report (信任建设报告) for the period, in Chinese or English."""
    figures.snapshot(session)
    report = figures.report(session, clock, period)
    return HTMLResponse(html.page(report, lang))
