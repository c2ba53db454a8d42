"""Reporters (DSA Art. 22 and 23): trusted flaggers, and reporters warned then suspended when
their notices are often manifestly unfounded, as the rulebook's thresholds say; a party's
notice record (what it reported, its standing, the founded notices against it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.catalog.tables import listings
from xinren.clock import Clock
from xinren.detect import buyers
from xinren.errors import ValidationFailed
from xinren.events import service as events
from xinren.rules.model import ReporterStanding, Rulebook, reporter_standing
from xinren.rules.notice_records import (
    STATUSES,
    Notice,
    ReporterRecord,
    _book,
    _notice,
    check_ref,
)
from xinren.rules.tables import notices, reporters


def reporter_row(session: Session, ref: str, *, lock: bool = False) -> Any:
    q = select(reporters).where(reporters.c.ref == ref)
    return session.execute(q.with_for_update() if lock else q).first()


def _ensure_reporter(session: Session, clock: Clock, ref: str) -> Any:
    """The reporter's row, created if missing and locked: standing changes one at a time."""
    row = reporter_row(session, ref, lock=True)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.execute(
                reporters.insert(), dict(ref=ref, trusted=False, updated_at=clock.now())
            )
    except IntegrityError:  # created concurrently: fine, lock theirs
        pass
    return reporter_row(session, ref, lock=True)


def _count_manifestly_unfounded(session: Session, book: Rulebook, ref: str, now: datetime) -> int:
    """Manifestly unfounded notices filed within the rulebook's window before `now`."""
    return int(
        session.execute(
            select(func.count())
            .select_from(notices)
            .where(
                notices.c.reporter == ref,
                notices.c.status == "manifestly_unfounded",
                notices.c.created_at > now - book.notice_window,
            )
        ).scalar_one()
    )


def reassess(session: Session, clock: Clock, ref: str) -> None:
    """Warn or suspend the reporter when its count reaches the rulebook's thresholds."""
    book = _book(clock)
    now = clock.now()
    row = _ensure_reporter(session, clock, ref)
    count = _count_manifestly_unfounded(session, book, ref, now)
    standing = reporter_standing(book, count)
    values: dict[str, Any] = {}
    payload = {"reporter": ref, "manifestly_unfounded": count, "rulebook": book.version}
    if standing is ReporterStanding.SUSPENDED:
        if row.suspended_until is None or row.suspended_until <= now:
            until = now + book.reporter_suspension
            values["suspended_until"] = until
            events.append(
                session,
                clock,
                "reporter.suspended",
                ref,
                payload | {"until": until.isoformat()},
            )
    elif standing is ReporterStanding.WARNED and (
        row.warned_at is None or row.warned_at <= now - book.notice_window
    ):
        values["warned_at"] = now
        events.append(session, clock, "reporter.warned", ref, payload)
    if values:
        session.execute(
            update(reporters).where(reporters.c.ref == ref).values(**values, updated_at=now)
        )


def _against(session: Session, ref: str) -> list[Notice]:
    """Founded notices against `ref`, and for a merchant against its listings too."""
    listing_refs = select(literal("listing:") + cast(listings.c.id, String)).where(
        listings.c.merchant == ref
    )
    rows = session.execute(
        select(notices)
        .where(
            notices.c.status == "founded",
            or_(notices.c.target == ref, notices.c.target.in_(listing_refs)),
        )
        .order_by(notices.c.id)
    )
    return [_notice(r) for r in rows]


def record(session: Session, clock: Clock, ref: str) -> ReporterRecord:
    """A party's notice record: what it reported and how that was decided, its standing as a
    reporter, and the founded notices against it (e.g. a buyer's malicious orders)."""
    check_ref(ref)
    book = _book(clock)
    now = clock.now()
    counts = {s: 0 for s in STATUSES}
    for status, n in session.execute(
        select(notices.c.status, func.count())
        .where(notices.c.reporter == ref)
        .group_by(notices.c.status)
    ):
        counts[status] = int(n)
    in_window = _count_manifestly_unfounded(session, book, ref, now)
    row = reporter_row(session, ref)
    suspended_until = row.suspended_until if row is not None else None
    standing = reporter_standing(book, in_window)
    if suspended_until is not None and suspended_until > now:
        standing = ReporterStanding.SUSPENDED
    elif standing is ReporterStanding.SUSPENDED:  # served its suspension; still on notice
        standing = ReporterStanding.WARNED
    return ReporterRecord(
        ref,
        counts,
        in_window,
        standing,
        row.warned_at if row is not None else None,
        suspended_until,
        bool(row is not None and row.trusted),
        tuple(_against(session, ref)),
        buyers.explain(session, ref),
    )


def set_trusted(
    session: Session, clock: Clock, ref: str, trusted: bool, *, decided_by: str
) -> ReporterRecord:
    """Award or withdraw trusted-flagger status (Art. 22); setting it again changes nothing."""
    check_ref(ref)
    check_ref(decided_by, "decided_by")
    if not isinstance(trusted, bool):
        raise ValidationFailed("trusted is true or false", field="trusted")
    row = _ensure_reporter(session, clock, ref)
    if bool(row.trusted) != trusted:
        session.execute(
            update(reporters)
            .where(reporters.c.ref == ref)
            .values(trusted=trusted, updated_at=clock.now())
        )
        events.append(
            session,
            clock,
            "reporter.trust_changed",
            ref,
            {"reporter": ref, "trusted": trusted, "decided_by": decided_by},
        )
    return record(session, clock, ref)
