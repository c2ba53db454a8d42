"""Notices (DSA Art. 16), trusted flaggers (Art. 22) and abusive reporters (Art. 23).

Anyone may report a listing or a merchant; a merchant may also complain about a buyer's
malicious orders or reports. Trusted flaggers' notices are decided first. A reporter whose
notices are often manifestly unfounded is warned, then its notices are not processed for a
while: they are kept (with the reason) but not queued. Suspensions end on their own, by time.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.clock import Clock
from xinren.detect import buyers
from xinren.errors import (
    ConcurrentRequest,
    Conflict,
    IdempotencyKeyReused,
    NotFound,
    ValidationFailed,
)
from xinren.events import service as events
from xinren.ids import check_idempotency_key
from xinren.parties import service as parties
from xinren.rules.notice_records import (
    BUYER_CATEGORIES,
    MAX_REASON,
    MAX_TEXT,
    NOT_PROCESSED,
    NOTICE_CATEGORIES,
    OPEN,
    OUTCOMES,
    STATUSES,
    Notice,
    ReporterRecord,
    _notice,
    check_ref,
)
from xinren.rules.reporters import reassess, record, reporter_row, set_trusted
from xinren.rules.tables import notices, violations

__all__ = [
    "BUYER_CATEGORIES",
    "MAX_REASON",
    "MAX_TEXT",
    "NOTICE_CATEGORIES",
    "NOT_PROCESSED",
    "OPEN",
    "OUTCOMES",
    "STATUSES",
    "Notice",
    "ReporterRecord",
    "check_ref",
    "decide",
    "file_notice",
    "get",
    "queue",
    "record",
    "set_trusted",
]

_TARGET = re.compile(r"^(?:listing:[0-9]{1,18}|(?:merchant|buyer):[a-z0-9_-]{1,64})$")


def _check_target(reporter: str, target: str, category: str) -> None:
    """Buyers may be reported only by merchants, and only about malicious orders or reports
    (a shop's defence against order and report abuse), never by other buyers."""
    if not isinstance(target, str) or not _TARGET.match(target):
        raise ValidationFailed(
            "target is 'listing:<id>', 'merchant:<id>' or 'buyer:<id>', e.g. 'listing:12'; "
            f"got {target!r}",
            field="target",
        )
    if target.startswith("buyer:") and not reporter.startswith("merchant:"):
        raise ValidationFailed(
            "only a merchant may report a buyer (about malicious orders or reports); report a "
            "listing or a merchant instead",
            field="target",
        )
    if target.startswith("buyer:") and category not in BUYER_CATEGORIES:
        raise ValidationFailed(
            f"a notice about a buyer is for {' or '.join(sorted(BUYER_CATEGORIES))}; "
            f"got {category!r}",
            field="category",
        )


def _require_target(session: Session, target: str) -> None:
    """A listing or merchant must exist to be reported (buyers have no record here)."""
    kind, ident = target.split(":", 1)
    if kind == "buyer":
        return
    try:
        if kind == "listing":
            catalog.get_listing(session, int(ident))
        else:
            parties.get(session, target)
    except NotFound:
        raise NotFound(f"no {kind} {ident} to report", field="target") from None


def _check_text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationFailed(
            f"{name} is required (at most {limit} characters): say what and why", field=name
        )
    return value


def file_notice(
    session: Session,
    clock: Clock,
    key: str,
    *,
    reporter: str,
    target: str,
    category: str,
    text: str,
) -> Notice:
    """Record a notice. A suspended reporter's notice is kept as `not_processed`, so the
    record shows what was sent and why nobody looked at it."""
    check_idempotency_key(key)
    check_ref(reporter, "reporter")
    if category not in NOTICE_CATEGORIES:
        raise ValidationFailed(
            f"category must be one of {', '.join(sorted(NOTICE_CATEGORIES))}; got {category!r}",
            field="category",
        )
    _check_target(reporter, target, category)
    _check_text(text, "text", MAX_TEXT)
    fields = dict(reporter=reporter, target=target, category=category, text=text)
    existing = session.execute(select(notices).where(notices.c.idempotency_key == key)).first()
    if existing is not None:
        if any(getattr(existing, k) != v for k, v in fields.items()):
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} filed notice {existing.id} with other details",
                field="idempotency_key",
            )
        return _notice(existing, replayed=True)
    _require_target(session, target)
    now = clock.now()
    row = reporter_row(session, reporter)
    trusted = bool(row is not None and row.trusted)
    weight = 1.0 if trusted else buyers.weigh(session, clock, reporter)
    status, reason, decided_at = OPEN, None, None
    if row is not None and row.suspended_until is not None and row.suspended_until > now:
        status, decided_at = NOT_PROCESSED, now
        reason = (
            f"not processed: {reporter} is suspended from filing notices until "
            f"{row.suspended_until.isoformat()} for frequent manifestly unfounded notices "
            "(DSA Art. 23)"
        )
    try:
        with session.begin_nested():
            notice_id = session.execute(
                notices.insert().returning(notices.c.id),
                dict(
                    **fields,
                    idempotency_key=key,
                    trusted=trusted,
                    weight=weight,
                    status=status,
                    created_at=now,
                    decided_at=decided_at,
                    reason=reason,
                ),
            ).scalar_one()
    except IntegrityError:
        raise ConcurrentRequest(
            f"another notice with key {key!r} is being filed; retry to get it",
            field="idempotency_key",
        ) from None
    events.append(
        session,
        clock,
        "notice.filed",
        f"notice:{notice_id}",
        {
            "notice": notice_id,
            "reporter": reporter,
            "target": target,
            "category": category,
            "trusted": trusted,
            "weight": round(weight, 3),
            "status": status,
        },
    )
    return get(session, notice_id)


def get(session: Session, notice_id: int) -> Notice:
    row = session.execute(select(notices).where(notices.c.id == notice_id)).first()
    if row is None:
        raise NotFound(f"no notice {notice_id}", field="notice_id")
    return _notice(row)


def queue(session: Session, *, limit: int = 50) -> list[Notice]:
    """Open notices to decide: trusted flaggers' first (Art. 22), then by the weight of the
    reporter's word (an abusive reporter's notices wait behind honest ones), then the oldest."""
    if not 1 <= limit <= 500:
        raise ValidationFailed("limit is between 1 and 500", field="limit")
    rows = session.execute(
        select(notices)
        .where(notices.c.status == OPEN)
        .order_by(notices.c.trusted.desc(), notices.c.weight.desc(), notices.c.id)
        .limit(limit)
    )
    return [_notice(r) for r in rows]


def _replay(row: Any, key: str, asked: dict[str, Any]) -> Notice:
    """A decided notice: the same key and details replay its decision; the same key with other
    details, or any other key, is refused."""
    if row.decision_key is not None and row.decision_key == key:
        decided = dict(
            outcome=row.status,
            reason=row.reason,
            decided_by=row.decided_by,
            violation_id=row.violation_id,
        )
        if decided != asked:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} decided notice {row.id} differently",
                field="idempotency_key",
            )
        return _notice(row, replayed=True)
    raise Conflict(
        f"notice {row.id} is {row.status}"
        + (f" ({row.reason})" if row.status == NOT_PROCESSED else "")
        + "; only open notices are decided",
        field="notice_id",
    )


def decide(
    session: Session,
    clock: Clock,
    key: str,
    notice_id: int,
    *,
    outcome: str,
    reason: str,
    decided_by: str,
    violation_id: int | None = None,
) -> Notice:
    """Decide an open notice, with reasons. A manifestly unfounded one counts against its
    reporter, who is warned and then suspended as the rulebook's thresholds say.

    The key is kept with the decision: a retry with the same key and details returns the
    decided notice; the same key with other details is refused.
    """
    check_idempotency_key(key)
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            f"outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}", field="outcome"
        )
    _check_text(reason, "reason", MAX_REASON)
    check_ref(decided_by, "decided_by")
    if violation_id is not None and outcome != "founded":
        raise ValidationFailed(
            "only a founded notice links to the violation it led to", field="violation_id"
        )
    asked = dict(outcome=outcome, reason=reason, decided_by=decided_by, violation_id=violation_id)
    row = session.execute(
        select(notices).where(notices.c.id == notice_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no notice {notice_id}", field="notice_id")
    if row.status != OPEN:
        return _replay(row, key, asked)
    if violation_id is not None:
        found = session.execute(
            select(violations.c.id).where(violations.c.id == violation_id)
        ).first()
        if found is None:
            raise NotFound(f"no violation {violation_id}", field="violation_id")
    now = clock.now()
    session.execute(
        update(notices)
        .where(notices.c.id == notice_id)
        .values(
            status=outcome,
            reason=reason,
            decided_by=decided_by,
            decided_at=now,
            violation_id=violation_id,
            decision_key=key,
        )
    )
    events.append(
        session,
        clock,
        "notice.decided",
        f"notice:{notice_id}",
        {"notice": notice_id, "key": key, "reporter": row.reporter, "target": row.target} | asked,
    )
    if outcome == "manifestly_unfounded":
        reassess(session, clock, row.reporter)
    return get(session, notice_id)
