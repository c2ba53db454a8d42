"""A hold's status, posted_amount, resolved_by and resolved_at change after its transfer is sealed,
so no hash can cover them: `verify` checks them against the sealed journal instead (the transfer
that resolved the hold, and what that transfer's entries moved).

Each test changes a hold (or forges a transfer) with plain SQL through the session."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select, update

from xinren.ledger import journal, service
from xinren.ledger.tables import accounts, holds, transfers


@pytest.fixture
def held(session, clock):
    s = session
    service.create_account(s, clock, "escrow", "CNY")
    service.create_account(s, clock, "merchant", "CNY", debits_must_not_exceed_credits=True)
    posted = service.hold(s, clock, "h-post", "escrow", "merchant", 500)
    clock.advance(minutes=1)
    post = service.post(s, clock, "post", posted.hold_id, 300)
    voided = service.hold(s, clock, "h-void", "escrow", "merchant", 200)
    void = service.void(s, clock, "void", voided.hold_id)
    pending = service.hold(s, clock, "h-pending", "escrow", "merchant", 70)
    journal.seal(s, clock)
    report = journal.verify(s)
    assert report.ok, report.problems
    ids = {a.code: a.id for a in service.list_accounts(s)}
    return SimpleNamespace(
        session=s,
        posted=posted.hold_id,
        post=post.id,
        created=posted.id,
        voided=voided.hold_id,
        void=void.id,
        pending=pending.hold_id,
        escrow=ids["escrow"],
        merchant=ids["merchant"],
    )


def change_hold(session, hold_id: int, **values: object) -> None:
    session.execute(update(holds).where(holds.c.id == hold_id).values(**values))


def problems(session) -> list[str]:
    return journal.verify(session).problems


def test_posted_hold_changed_to_voided(held):
    s = held.session
    change_hold(s, held.posted, status="voided")
    found = problems(s)
    h, t = held.posted, held.post
    assert f"hold {h} is voided, but transfer {t} that resolved it is a post, not a void" in found
    assert f"hold {h} is voided but has posted_amount 300" in found


def test_posted_amount_changed(held):
    s = held.session
    change_hold(s, held.posted, posted_amount=400)
    e, m = held.escrow, held.merchant
    assert (
        f"hold {held.posted}: transfer {held.post} moved account {e}: debits_posted +300, "
        f"debits_pending -500; account {m}: credits_posted +300, credits_pending -500, but "
        f"posting 400 of a hold of 500 moves account {e}: debits_posted +400, debits_pending "
        f"-500; account {m}: credits_posted +400, credits_pending -500"
    ) in problems(s)


def test_resolved_by_changed_to_another_transfer(held):
    s = held.session
    change_hold(s, held.posted, resolved_by=held.created)
    found = problems(s)
    h, t = held.posted, held.created
    assert f"hold {h} is posted, but transfer {t} that resolved it is a hold, not a post" in found
    assert (
        f"hold {h} names transfer {t} as what resolved it, but that transfer is for hold None"
    ) in found
    assert (
        f"transfer {held.post} (post) resolved hold {h}, but the hold names transfer {t} as what "
        "resolved it"
    ) in found


def test_resolved_at_changed(held):
    s = held.session
    at = s.execute(select(holds.c.resolved_at).where(holds.c.id == held.voided)).scalar_one()
    change_hold(s, held.voided, resolved_at=at + timedelta(days=1))
    assert any(
        p.startswith(f"hold {held.voided} has resolved_at ") and f"transfer {held.void}" in p
        for p in problems(s)
    )


def test_voided_hold_changed_to_posted(held):
    s = held.session
    change_hold(s, held.voided, status="posted", posted_amount=200)
    found = problems(s)
    h, t = held.voided, held.void
    assert f"hold {h} is posted, but transfer {t} that resolved it is a void, not a post" in found
    assert any(p.startswith(f"hold {h}: transfer {t} moved ") for p in found)


def test_pending_hold_with_a_forged_post(held):
    s = held.session
    created_at = s.execute(select(transfers.c.created_at)).scalars().first()
    forged = s.execute(
        insert(transfers).returning(transfers.c.id),
        dict(
            kind="post",
            idempotency_key="forged",
            payload_hash="0" * 64,
            reason="",
            hold_id=held.pending,
            created_at=created_at,
        ),
    ).scalar_one()
    found = problems(s)
    assert (
        f"transfer {forged} (post) resolved hold {held.pending}, but the hold is pending"
    ) in found
    assert f"transfer {forged} (post) has no journal entries" in found


def test_hold_amount_changed_before_it_was_sealed(held, clock):
    # not sealed yet, so only the cross-check with its creating transfer's entries can tell
    s = held.session
    h = service.hold(s, clock, "h-late", "escrow", "merchant", 40)
    service.void(s, clock, "void-late", h.hold_id)
    change_hold(s, h.hold_id, amount=45)
    e, m = held.escrow, held.merchant
    found = problems(s)
    assert (
        f"hold {h.hold_id}: transfer {h.id} moved account {e}: debits_pending +40; account "
        f"{m}: credits_pending +40, but creating a hold of 45 moves account {e}: debits_pending "
        f"+45; account {m}: credits_pending +45"
    ) in found
    assert not any(p.startswith("seal block") for p in found)


def test_hold_in_another_currency_than_its_accounts(held):
    s = held.session
    s.execute(update(accounts).where(accounts.c.id == held.merchant).values(currency="USD"))
    found = problems(s)
    assert (
        f"hold {held.pending} is in CNY, but its credit account {held.merchant} is in USD" in found
    )
