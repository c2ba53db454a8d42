"""Abusive buyers and reporters, from the platform's records: the inputs of the abuse score
(refunds, complaints and how they were decided, unfounded notices, complaints filed right after
delivery, identifiers shared with other accounts), the weight their complaints and notices
carry, and a flag to reviewers under the abuse rules when the score is high."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.cases.tables import cases
from xinren.clock import Clock
from xinren.detect import abuse
from xinren.detect.tables import account_identifiers
from xinren.errors import ValidationFailed
from xinren.events import service as events
from xinren.events.tables import outbox
from xinren.orders.tables import orders
from xinren.rules.tables import notices, reporters

IDENTIFIER_KINDS = ("device", "address", "payment_account")
SOON_AFTER_DELIVERY = timedelta(days=1)


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
    warned = set(
        session.execute(
            select(reporters.c.ref).where(
                reporters.c.ref.in_(accounts),
                (reporters.c.warned_at.is_not(None)) | (reporters.c.suspended_until.is_not(None)),
            )
        ).scalars()
    )
    flagged = set(
        session.execute(
            select(outbox.c.subject).where(
                outbox.c.topic == "abuse.flagged", outbox.c.subject.in_(accounts)
            )
        ).scalars()
    )
    return warned | flagged


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
        select(cases.c.outcome, cases.c.by_default, cases.c.opened_at, orders.c.delivered_at)
        .join(orders, orders.c.id == cases.c.order_id)
        .where(cases.c.buyer == account)
    ):
        complaints += 1
        if c.outcome == "for_merchant" and not c.by_default:
            unfounded += 1
        if c.delivered_at is not None and c.opened_at - c.delivered_at <= SOON_AFTER_DELIVERY:
            soon += 1
    notices_unfounded = int(
        session.execute(
            select(func.count())
            .select_from(notices)
            .where(
                notices.c.reporter == account,
                notices.c.status.in_(("unfounded", "manifestly_unfounded")),
            )
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
    if result.score >= abuse.FLAG_AT and not _flagged(session, {account}):
        events.append(
            session,
            clock,
            "abuse.flagged",
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
