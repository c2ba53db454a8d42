"""Hole 2: accounts a context owns move only through that context's use cases.

Before the fix a platform key could take money out of an order's escrow through the generic
ledger API (the order then could not be confirmed, and `ledger verify` still said ok), and an
account opened by hand as ``escrow:order:1`` before order 1 existed was adopted by that order.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tests.integrity.world import MERCHANT, caller, market, settled_order
from xinren import reconciliation
from xinren.access import service as access
from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta
from xinren.documents.store import FileStore
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.remedies import service as remedies
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind
from xinren.rules.tables import sanctions

OWNED_CODES = (
    "escrow:order:999999",
    f"{MERCHANT}:deposit",
    "platform:guarantee_fund:cny",
    f"{MERCHANT}:frozen",
    f"{MERCHANT}:pending_settlement",
)


@pytest.fixture
def world(factory, clock):
    """A merchant with a settled order (so an available balance) and a paid, unshipped one."""
    with factory() as s:
        market(s, clock)
        settled_order(s, clock, "done", 30_000)
        paid = orders.create_order(
            s,
            clock,
            "open",
            buyer="buyer:open",
            merchant=MERCHANT,
            total=12_800,
            currency="CNY",
            category="tea",
        )
        orders.act(s, clock, paid.id, Action.PAY, "open-pay", actor="platform")
        remedies.top_up_fund(s, clock, "fund-1", 100_000, "CNY")
        platform = access.create_key(s, clock, "platform")[1]
        s.commit()
    as_platform = caller(factory, clock, {"platform": platform})

    def call(method, path, idem=None, **kw):
        return as_platform("platform", method, path, idem, **kw)

    return paid.id, call


def _owned_problem(r, field):
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith("/account-owned")
    assert body["errors"][0]["field"] == field
    return body


def test_the_generic_api_cannot_move_an_orders_escrow(world, session):
    order_id, call = world
    escrow = orders.escrow(order_id)
    r = call(
        "POST",
        "/v1/ledger/transfers",
        "steal",
        json={
            "legs": [
                {"account": escrow, "side": "debit", "amount": 12_800},
                {"account": "psp:cny", "side": "credit", "amount": 12_800},
            ]
        },
    )
    body = _owned_problem(r, "legs[0].account")
    assert body["account"] == escrow and body["owner"] == "orders"
    r = call(
        "POST",
        "/v1/ledger/holds",
        "steal-hold",
        json={"debit": escrow, "credit": "psp:cny", "amount": 100},
    )
    _owned_problem(r, "debit")
    r = call(
        "POST",
        "/v1/ledger/batches",
        json={
            "operations": [
                {
                    "kind": "transfer",
                    "idempotency_key": "b1",
                    "legs": [
                        {"account": "psp:cny", "side": "debit", "amount": 1},
                        {"account": escrow, "side": "credit", "amount": 1},
                    ],
                }
            ]
        },
    )
    assert r.status_code == 200
    (result,) = r.json()["results"]
    assert not result["ok"] and result["problem"]["type"].endswith("/account-owned")
    # the escrow is untouched and the order completes as it should
    assert ledger.get_account(session, escrow).balance.net == 12_800
    assert call("POST", f"/v1/orders/{order_id}/ship", "ship", json={}).status_code == 200
    assert call("POST", f"/v1/orders/{order_id}/confirm", "confirm", json={}).status_code == 200
    assert reconciliation.problems(session) == []


@pytest.mark.parametrize("code", OWNED_CODES)
def test_an_owned_code_cannot_be_opened_by_hand(world, code, session):
    _, call = world
    r = call("POST", "/v1/ledger/accounts", json={"code": code, "currency": "CNY"})
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("/account-owned")
    assert r.json()["errors"][0]["field"] == "code"
    assert (
        session.execute(
            text("SELECT count(*) FROM ledger_accounts WHERE code = :c AND owner IS NULL"),
            {"c": code},
        ).scalar_one()
        == 0
    )


def test_an_order_opens_its_own_escrow_owned_by_orders(world, session, clock):
    order_id, _ = world
    account = ledger.get_account(session, orders.escrow(order_id))
    assert account.owner == "orders" and account.balance.net == 12_800


def test_the_generic_api_cannot_void_a_settlement_freeze(world, session, clock, factory, tmp_path):
    _, call = world
    with factory() as s:
        report = documents.add(
            s,
            clock,
            FileStore(tmp_path / "documents"),
            b"sampling: the tea is not the brand's",
            DocumentMeta(
                DocType.SAMPLING_REPORT,
                "text/plain",
                "lab:cqi",
                MERCHANT,
                accreditation="CNAS L0889",
            ),
        )
        v = rules.decide(
            s,
            clock,
            "freeze-1",
            subject=MERCHANT,
            rule_id="CF-1",
            conduct_at=clock.now(),
            facts="independent sampling found the goods counterfeit",
            evidence=[f"document:{report.sha256}"],
            source="inspection",
            decided_by="reviewer:a",
            requested=[Requested(SanctionKind.SETTLEMENT_FREEZE, days=7)],
        )
        s.commit()
    (freeze,) = [x for x in v.sanctions if x.kind is SanctionKind.SETTLEMENT_FREEZE]
    hold_id = session.execute(
        select(sanctions.c.hold_id).where(sanctions.c.id == freeze.id)
    ).scalar_one()
    assert hold_id is not None
    r = call("POST", f"/v1/ledger/holds/{hold_id}/void", "unfreeze", json={})
    _owned_problem(r, "hold_id")
    r = call("POST", f"/v1/ledger/holds/{hold_id}/post", "take", json={})
    _owned_problem(r, "hold_id")
    assert ledger.get_hold(session, hold_id).status.value == "pending"


def test_verify_reconciles_owned_accounts_with_their_owners(world, session, clock):
    order_id, _ = world
    assert reconciliation.problems(session) == []
    # each owner's record disagreeing with the ledger is named
    session.execute(
        text("UPDATE orders SET refunded = refunded + 1 WHERE id = :id"), {"id": order_id}
    )
    session.execute(
        text("DELETE FROM deposit_movements WHERE id = (SELECT max(id) FROM deposit_movements)")
    )
    session.execute(text("UPDATE fund_movements SET amount = amount - 5"))
    found = reconciliation.problems(session)
    assert any(orders.escrow(order_id) in p and "says it holds 12799" in p for p in found), found
    assert any(p.startswith(f"deposit of {MERCHANT}") for p in found), found
    assert any(p.startswith("guarantee fund (CNY)") for p in found), found


def test_verify_catches_money_moved_out_of_escrow_behind_the_orders_back(world, session, clock):
    order_id, _ = world
    ledger.move(
        session,
        clock,
        "a-bug",
        orders.escrow(order_id),
        "psp:cny",
        100,
        internal=True,  # as a buggy use case would
    )
    assert any("says it holds 12800" in p for p in reconciliation.problems(session))


def test_the_verify_command_reports_an_owner_that_disagrees(cli, fresh_url, clock):
    from xinren.db import make_engine, session_factory
    from xinren.unit_of_work import run

    engine = make_engine(fresh_url)
    db = session_factory(engine)

    def setup(s):
        market(s, clock)
        order = settled_order(s, clock, "v1", 12_800)
        remedies.top_up_fund(s, clock, "fund-v", 50_000, "CNY")
        return order.id

    order_id = run(db, setup)
    assert "ledger verified" in cli("ledger", "verify").stdout
    run(db, lambda s: s.execute(text("UPDATE fund_movements SET amount = amount + 1")))
    out = cli("ledger", "verify", code=1)
    assert "guarantee fund (CNY)" in out.stderr and "50001" in out.stderr
    run(db, lambda s: s.execute(text("UPDATE fund_movements SET amount = amount - 1")))
    run(
        db,
        lambda s: s.execute(text("UPDATE orders SET released = 0 WHERE id = :i"), {"i": order_id}),
    )
    assert orders.escrow(order_id) in cli("ledger", "verify", code=1).stderr
    engine.dispose()


def test_disagreements_name_each_owner_record_that_differs():
    from xinren.ledger.model import disagreements

    found = disagreements({"a": 5, "b": 0, "c": 7}, {"a": 5, "c": 6, "d": 3, "e": 0}, str.upper)
    assert found == [
        "C: the ledger holds 7, its recorded movements add up to 6",
        "D: movements of 3 are recorded but it has no account",
    ]
