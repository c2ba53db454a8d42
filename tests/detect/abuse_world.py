"""Abuse records built only through the services (orders, complaints, notices, identifiers),
and the abuse score's inputs as the score read them before detection kept its own record: the
query on the cases', rules' tables and the outbox (revision 0018), kept here as the oracle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinren.cases import service as cases
from xinren.cases.tables import cases as case_rows
from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.detect import abuse, buyers
from xinren.detect.tables import account_identifiers
from xinren.events.tables import outbox
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.orders.tables import orders as order_rows
from xinren.parties import deposits
from xinren.rules import notices
from xinren.rules.tables import notices as notice_rows
from xinren.rules.tables import reporters

SHOP = "merchant:tea"
BO = "buyer:bo"  # complains four ways, one unfounded notice, then flagged by the score
REP = "buyer:rep"  # a reporter warned for manifestly unfounded notices
PLAIN = "buyer:plain"  # shares a phone with both
ACCOUNTS = (BO, REP, PLAIN, "buyer:nobody")


def _order(s: Session, clock: FakeClock, key: str, buyer: str, *steps: Action) -> int:
    o = orders.create_order(
        s, clock, key, buyer=buyer, merchant=SHOP, total=12_800, currency="CNY", category="tea"
    )
    act(s, clock, o.id, buyer, *steps)
    return o.id


def act(s: Session, clock: FakeClock, order_id: int, buyer: str, *steps: Action) -> None:
    actors = {Action.PAY: "platform", Action.SHIP: SHOP, Action.DELIVER: "platform"}
    for step in steps:
        actor = actors.get(step, buyer)
        orders.act(s, clock, order_id, step, f"o{order_id}-{step}", actor=actor)


def complain(s: Session, clock: FakeClock, order_id: int, kind: str = "counterfeit") -> int:
    filed = cases.file_case(
        s, clock, f"c{order_id}", order_id=order_id, buyer=BO, kind=kind, statement="fake tea"
    )
    return int(filed["id"])


def heard(s: Session, clock: FakeClock, case_id: int, order_id: int, outcome: str) -> None:
    cases.respond(s, clock, case_id, merchant=SHOP, statement="it is genuine")
    cases.decide(
        s,
        clock,
        f"d{case_id}",
        case_id,
        decided_by="reviewer:li",
        outcome=outcome,
        finding="counterfeit",
        reasons="the lab report",
        relied_on=[f"order:{order_id}"],
    )


def notice(s: Session, clock: FakeClock, key: str, reporter: str, outcome: str | None) -> None:
    filed = notices.file_notice(
        s, clock, key, reporter=reporter, target=SHOP, category="misrepresentation", text="fake"
    )
    if outcome is not None:
        notices.decide(
            s,
            clock,
            f"{key}-d",
            filed.id,
            outcome=outcome,
            reason="the order shows the goods matched the listing",
            decided_by="reviewer:ann",
        )


def build(s: Session, clock: FakeClock) -> dict[str, int]:
    """Bo's record: six orders, four complaints (one decided by default, one for the merchant
    on the merits, one for the buyer, one open and filed before the goods arrived), three of them
    within a day of delivery; one unfounded notice. Rep: warned. All three share a phone."""
    samples.verified(s, clock, SHOP)
    deposits.pay_deposit(s, clock, "dep", SHOP, 500_000, "CNY")
    delivered = (Action.PAY, Action.SHIP, Action.DELIVER)
    ids = {name: _order(s, clock, name, BO, *delivered) for name in ("dflt", "merits", "kept")}
    ids["early"] = _order(s, clock, "early", BO, Action.PAY)
    ids["quiet"] = _order(s, clock, "quiet", BO, Action.PAY)
    dflt = complain(s, clock, ids["dflt"])  # on a clean record: decided by default
    clock.advance(timedelta(hours=49))
    for t in [t for t in cases.timers.pending(s) if t.kind == cases.MERCHANT_DEADLINE]:
        cases._merchant_deadline(s, clock, t)
    assert cases.get_case(s, dflt, staff=True)["by_default"]
    ids["merits_case"] = complain(s, clock, ids["merits"])  # three days after delivery
    heard(s, clock, ids["merits_case"], ids["merits"], "for_merchant")
    fresh = _order(s, clock, "fresh", BO, *delivered)
    ids["fresh"] = fresh
    ids["fresh_case"] = complain(s, clock, fresh)  # within the hour of delivery
    heard(s, clock, ids["fresh_case"], fresh, "for_buyer")
    ids["early_case"] = complain(s, clock, ids["early"], "non_delivery")  # before delivery
    act(s, clock, ids["early"], BO, Action.SHIP, Action.DELIVER)
    for i in range(3):
        notice(s, clock, f"rep{i}", REP, "manifestly_unfounded")  # the third warns it
    notice(s, clock, "rep3", REP, "unfounded")
    notice(s, clock, "rep4", REP, "founded")
    notice(s, clock, "bo0", BO, "unfounded")
    for account in (BO, REP, PLAIN):
        buyers.add_identifier(s, clock, account, "device", "Phone #1")
    notice(s, clock, "bo1", BO, None)  # weighed on its record: flagged by the score
    return ids


# --- the score's inputs as revision 0018 read them (from cases, notices, reporters, outbox) ---


def _old_flagged(s: Session, accounts: set[str]) -> set[str]:
    if not accounts:
        return set()
    warned = select(reporters.c.ref).where(
        reporters.c.ref.in_(accounts),
        reporters.c.warned_at.is_not(None) | reporters.c.suspended_until.is_not(None),
    )
    flagged = select(outbox.c.subject).where(
        outbox.c.topic == "abuse.flagged", outbox.c.subject.in_(accounts)
    )
    return set(s.execute(warned).scalars()) | set(s.execute(flagged).scalars())


def old_record(s: Session, account: str) -> abuse.BuyerRecord:
    n_orders, refunds = s.execute(
        select(
            func.count().filter(order_rows.c.paid > 0),
            func.count().filter(order_rows.c.refunded > 0),
        ).where(order_rows.c.buyer == account)
    ).one()
    complaints = unfounded = soon = 0
    for c in s.execute(
        select(
            case_rows.c.outcome,
            case_rows.c.by_default,
            case_rows.c.opened_at,
            order_rows.c.delivered_at,
        )
        .join(order_rows, order_rows.c.id == case_rows.c.order_id)
        .where(case_rows.c.buyer == account)
    ):
        complaints += 1
        unfounded += c.outcome == "for_merchant" and not c.by_default
        soon += c.delivered_at is not None and c.opened_at - c.delivered_at <= timedelta(days=1)
    notices_unfounded = s.execute(
        select(func.count())
        .select_from(notice_rows)
        .where(
            notice_rows.c.reporter == account,
            notice_rows.c.status.in_(("unfounded", "manifestly_unfounded")),
        )
    ).scalar_one()
    ident = account_identifiers.c
    mine = select(ident.kind, ident.digest).where(ident.account == account).subquery()
    others = set(
        s.execute(
            select(ident.account)
            .join(mine, (mine.c.kind == ident.kind) & (mine.c.digest == ident.digest))
            .where(ident.account != account)
        ).scalars()
    )
    return abuse.BuyerRecord(
        int(n_orders),
        int(refunds),
        complaints,
        unfounded,
        int(notices_unfounded),
        soon,
        len(_old_flagged(s, others)),
        len(others),
    )


def old_explain(s: Session, account: str) -> dict[str, Any]:
    r = old_record(s, account)
    score = abuse.score(r)
    return {
        "account": account,
        "score": round(score.score, 3),
        "weight": round(score.weight, 3),
        "flagged": bool(_old_flagged(s, {account})),
        "reasons": list(score.reasons),
        "record": {k: getattr(r, k) for k in r.__dataclass_fields__},
    }
