"""Notices (DSA Art. 16), trusted flaggers (Art. 22) and abusive reporters (Art. 23).

Anyone may report a listing or a merchant; a merchant may also complain about a buyer's
malicious orders or reports. Trusted flaggers' notices are decided first. A reporter whose
notices are often manifestly unfounded is warned, then its notices are not processed for a
while: they are kept (with the reason) but not queued. Suspensions end on their own, by time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.catalog.tables import listings
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
from xinren.events.tables import outbox
from xinren.ids import check_idempotency_key
from xinren.parties import service as parties
from xinren.rules import rulebooks
from xinren.rules.model import CATEGORIES, ReporterStanding, Rulebook, reporter_standing
from xinren.rules.tables import notices, reporters, violations

#: What a notice may be about: the rulebook's categories, and complaints about buyers.
BUYER_CATEGORIES = frozenset({"malicious_orders", "malicious_reports"})
NOTICE_CATEGORIES = CATEGORIES | BUYER_CATEGORIES | {"other"}
OUTCOMES = ("founded", "unfounded", "manifestly_unfounded")
OPEN, NOT_PROCESSED = "open", "not_processed"
STATUSES = (*OUTCOMES, OPEN, NOT_PROCESSED)
MAX_TEXT = 5000
MAX_REASON = 2000

_TARGET = re.compile(r"^(?:listing:[0-9]{1,18}|(?:merchant|buyer):[a-z0-9_-]{1,64})$")
_REF = re.compile(r"^[a-z_]{1,20}:[A-Za-z0-9_.@-]{1,79}$")


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    reporter: str
    target: str  # "listing:12", "merchant:acme" or "buyer:bob"
    category: str
    text: str
    trusted: bool  # filed by a trusted flagger: decided first
    status: str  # open | founded | unfounded | manifestly_unfounded | not_processed
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    violation_id: int | None
    replayed: bool = False
    weight: float = 1.0  # how much the reporter's word counts, from its abuse score when filed

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reporter": self.reporter,
            "target": self.target,
            "category": self.category,
            "text": self.text,
            "trusted": self.trusted,
            "weight": round(self.weight, 3),
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "reason": self.reason,
            "violation_id": self.violation_id,
        }


@dataclass(frozen=True, slots=True)
class ReporterRecord:
    """How a party has used the notice system, and what founded notices say about it."""

    ref: str
    notices: dict[str, int]  # status -> how many notices it filed
    manifestly_unfounded_in_window: int
    standing: ReporterStanding
    warned_at: datetime | None
    suspended_until: datetime | None  # in the past once the suspension ended
    trusted: bool
    founded_against: tuple[Notice, ...] = field(default=())
    abuse: dict[str, Any] = field(default_factory=dict)  # the abuse score, its inputs, reasons

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "notices": dict(self.notices),
            "manifestly_unfounded_in_window": self.manifestly_unfounded_in_window,
            "standing": self.standing.value,
            "warned_at": self.warned_at.isoformat() if self.warned_at else None,
            "suspended_until": self.suspended_until.isoformat() if self.suspended_until else None,
            "trusted": self.trusted,
            "founded_against": [n.as_dict() for n in self.founded_against],
            "abuse": self.abuse,
        }


def _notice(row: Any, replayed: bool = False) -> Notice:
    return Notice(
        row.id,
        row.reporter,
        row.target,
        row.category,
        row.text,
        bool(row.trusted),
        row.status,
        row.created_at,
        row.decided_by,
        row.decided_at,
        row.reason,
        row.violation_id,
        replayed,
        float(row.weight),
    )


def _book(clock: Clock) -> Rulebook:
    """Reporter thresholds are measured now, so the rulebook in force today sets them."""
    return rulebooks.in_force_on(clock.now().date())


def check_ref(ref: str, field: str = "ref") -> str:
    """Any party or key reference, e.g. 'buyer:bob', 'merchant:acme' or 'platform:3'."""
    if not isinstance(ref, str) or not _REF.match(ref):
        raise ValidationFailed(
            f"{field} is '<kind>:<id>', e.g. 'buyer:bob' or 'merchant:acme'; got {ref!r}",
            field=field,
        )
    return ref


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


def _reporter_row(session: Session, ref: str, *, lock: bool = False) -> Any:
    q = select(reporters).where(reporters.c.ref == ref)
    return session.execute(q.with_for_update() if lock else q).first()


def _ensure_reporter(session: Session, clock: Clock, ref: str) -> Any:
    """The reporter's row, created if missing and locked: standing changes one at a time."""
    row = _reporter_row(session, ref, lock=True)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.execute(
                reporters.insert(), dict(ref=ref, trusted=False, updated_at=clock.now())
            )
    except IntegrityError:  # created concurrently: fine, lock theirs
        pass
    return _reporter_row(session, ref, lock=True)


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
    row = _reporter_row(session, reporter)
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


def _decided_event(session: Session, notice_id: int) -> dict[str, Any] | None:
    row = session.execute(
        select(outbox.c.payload)
        .where(outbox.c.subject == f"notice:{notice_id}", outbox.c.topic == "notice.decided")
        .order_by(outbox.c.id.desc())
        .limit(1)
    ).first()
    return dict(row.payload) if row is not None else None


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
        done = _decided_event(session, notice_id)
        if done is not None and done.get("key") == key:
            if any(done.get(k) != v for k, v in asked.items()):
                raise IdempotencyKeyReused(
                    f"idempotency key {key!r} decided notice {notice_id} differently",
                    field="idempotency_key",
                )
            return _notice(row, replayed=True)
        raise Conflict(
            f"notice {notice_id} is {row.status}"
            + (f" ({row.reason})" if row.status == NOT_PROCESSED else "")
            + "; only open notices are decided",
            field="notice_id",
        )
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
        _reassess(session, clock, row.reporter)
    return get(session, notice_id)


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


def _reassess(session: Session, clock: Clock, ref: str) -> None:
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
    row = _reporter_row(session, ref)
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
