"""Abusive buyers and reporters, from the platform's records: the inputs of the abuse score
(refunds, complaints and how they were decided, unfounded notices, complaints filed right after
delivery, identifiers shared with other accounts), the weight their complaints and notices
carry, and a flag to reviewers under the abuse rules when the score is high.

Detection sits below the cases and rules contexts, so it reads neither's tables: it keeps its
own abuse record (`abuse_complaints`, `abuse_unfounded_notices`, `abuse_flags`), written by the
subscribers at the end of this module inside the transaction that appends the cases' and rules'
events. Orders are below detection and are read directly (orders paid, refunds, delivery)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.detect import abuse
from xinren.detect.tables import (
    abuse_complaints,
    abuse_flags,
    abuse_unfounded_notices,
    account_identifiers,
)
from xinren.errors import ValidationFailed
from xinren.events import service as events
from xinren.orders.tables import orders

IDENTIFIER_KINDS = ("device", "address", "payment_account")
SOON_AFTER_DELIVERY = abuse.SOON_AFTER_DELIVERY
FLAGGED = "abuse.flagged"  # the event, and the cause of a flag raised by the score


def digest(kind: str, value: str) -> str:
    """Identifiers are kept as digests of their normalised form: case, spacing and punctuation
    are ignored, so '6222 0000-1111' and '62220000 1111' are one payment account."""
    normal = "".join(c for c in value.casefold() if c.isalnum())
    return hashlib.sha256(f"{kind}\x00{normal}".encode()).hexdigest()


def add_identifier(session: Session, clock: Clock, account: str, kind: str, value: str) -> bool:
    """Record that `account` used this device, address or payment account; True if new."""
    if kind not in IDENTIFIER_KINDS:
        raise ValidationFailed(f"kind is one of {', '.join(IDENTIFIER_KINDS)}", field="kind")
    if not any(c.isalnum() for c in value) or len(value) > 500:
        raise ValidationFailed(
            "value is 1 to 500 characters with at least one letter or digit", field="value"
        )
    try:
        with session.begin_nested():
            session.execute(
                account_identifiers.insert(),
                dict(
                    account=account, kind=kind, digest=digest(kind, value), created_at=clock.now()
                ),
            )
    except IntegrityError:  # already known: (account, kind, digest) is unique
        return False
    return True


def _flagged(session: Session, accounts: set[str]) -> set[str]:
    """Of these accounts, those already warned or suspended as reporters or flagged for abuse."""
    if not accounts:
        return set()
    q = select(abuse_flags.c.account).where(abuse_flags.c.account.in_(accounts))
    return set(session.execute(q).scalars())


def _flag(session: Session, clock: Clock, account: str, cause: str) -> bool:
    """Record the account as flagged (once: the first cause stays); True if it was not yet."""
    if _flagged(session, {account}):
        return False
    try:
        with session.begin_nested():
            session.execute(
                abuse_flags.insert(), dict(account=account, cause=cause, flagged_at=clock.now())
            )
    except IntegrityError:  # flagged at the same moment by another transaction
        return False
    return True


def _sharing(session: Session, account: str) -> set[str]:
    mine = select(account_identifiers.c.kind, account_identifiers.c.digest).where(
        account_identifiers.c.account == account
    )
    pairs = [(r.kind, r.digest) for r in session.execute(mine)]
    others: set[str] = set()
    for kind, d in pairs:
        others.update(
            session.execute(
                select(account_identifiers.c.account).where(
                    account_identifiers.c.kind == kind,
                    account_identifiers.c.digest == d,
                    account_identifiers.c.account != account,
                )
            ).scalars()
        )
    return others


def record_of(session: Session, account: str) -> abuse.BuyerRecord:
    """The abuse score's inputs for an account ('buyer:bob', 'merchant:acme', ...)."""
    complaints = unfounded = soon = 0
    n_orders, refunds = session.execute(
        select(
            func.count().filter(orders.c.paid > 0),
            func.count().filter(orders.c.refunded > 0),
        ).where(orders.c.buyer == account)
    ).one()
    for c in session.execute(
        select(abuse_complaints.c.unfounded, abuse_complaints.c.opened_at, orders.c.delivered_at)
        .join(orders, orders.c.id == abuse_complaints.c.order_id)
        .where(abuse_complaints.c.account == account)
    ):
        complaints += 1
        unfounded += bool(c.unfounded)
        soon += abuse.complained_soon(c.opened_at, c.delivered_at)
    notices_unfounded = int(
        session.execute(
            select(func.count())
            .select_from(abuse_unfounded_notices)
            .where(abuse_unfounded_notices.c.account == account)
        ).scalar_one()
    )
    others = _sharing(session, account)
    return abuse.BuyerRecord(
        orders=int(n_orders),
        refunds=int(refunds),
        complaints=complaints,
        complaints_unfounded=unfounded,
        notices_unfounded=notices_unfounded,
        complained_soon_after_delivery=soon,
        shared_with_flagged=len(_flagged(session, others)),
        shared_with_others=len(others),
    )


def assess(session: Session, account: str) -> abuse.AbuseScore:
    return abuse.score(record_of(session, account))


def weigh(session: Session, clock: Clock, account: str) -> float:
    """The weight of the account's next complaint or notice. At a high score the account is
    flagged once to reviewers, with the reasons, under the abuse rules (a proposal: a person
    decides any sanction)."""
    result = assess(session, account)
    if result.score >= abuse.FLAG_AT and _flag(session, clock, account, FLAGGED):
        events.append(
            session,
            clock,
            FLAGGED,
            account,
            {"account": account, "score": round(result.score, 3), "reasons": list(result.reasons)},
        )
    return result.weight


def explain(session: Session, account: str) -> dict[str, Any]:
    r = record_of(session, account)
    s = abuse.score(r)
    return {
        "account": account,
        "score": round(s.score, 3),
        "weight": round(s.weight, 3),
        "flagged": bool(_flagged(session, {account})),
        "reasons": list(s.reasons),
        "record": {k: getattr(r, k) for k in r.__dataclass_fields__},
    }


# --- the abuse record, kept from the events of the contexts above (see the module's doc) ---


@events.subscribe("case.opened")
def _complaint_filed(
    session: Session, clock: Clock, topic: str, subject: str, payload: dict[str, Any]
) -> None:
    session.execute(
        abuse_complaints.insert(),
        dict(
            case_id=payload["case"],
            account=payload["buyer"],
            order_id=payload["order"],
            opened_at=datetime.fromisoformat(payload["opened_at"]),
            unfounded=False,
        ),
    )


@events.subscribe("case.decided")
def _complaint_decided(
    session: Session, clock: Clock, topic: str, subject: str, payload: dict[str, Any]
) -> None:
    unfounded = abuse.complaint_unfounded(payload["outcome"], bool(payload["by_default"]))
    session.execute(
        update(abuse_complaints)
        .where(abuse_complaints.c.case_id == payload["case"])
        .values(unfounded=unfounded)
    )


@events.subscribe("notice.decided")
def _notice_decided(
    session: Session, clock: Clock, topic: str, subject: str, payload: dict[str, Any]
) -> None:
    if payload["outcome"] in abuse.UNFOUNDED_NOTICE:
        session.execute(
            abuse_unfounded_notices.insert(),
            dict(notice_id=payload["notice"], account=payload["reporter"], decided_at=clock.now()),
        )


@events.subscribe("reporter.warned", "reporter.suspended")
def _reporter_sanctioned(
    session: Session, clock: Clock, topic: str, subject: str, payload: dict[str, Any]
) -> None:
    _flag(session, clock, subject, topic)
