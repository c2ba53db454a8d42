"""The pure parts of the version 2 chain: one text per value whatever database it came from,
and the bookkeeping of transfer ids the sealer could not see yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from xinren.ledger import model
from xinren.ledger.model import Hold, HoldStatus


def test_an_instant_has_one_text_whatever_its_zone():
    aware = datetime(2026, 1, 1, 8, 0, 0, 120, tzinfo=timezone(timedelta(hours=8)))
    naive_utc = datetime(2026, 1, 1, 0, 0, 0, 120)  # as SQLite gives back what was stored as UTC
    assert model.canonical_instant(aware) == "2026-01-01T00:00:00.000120Z"
    assert model.canonical_instant(naive_utc) == "2026-01-01T00:00:00.000120Z"
    assert model.chain_line("t", [aware]) == model.chain_line("t", [naive_utc])


def test_a_line_keeps_every_field_in_its_place():
    # with '|' between fields (version 1) these two would read the same
    assert model.chain_line("t", ["a|b", "c"]) != model.chain_line("t", ["a", "b|c"])
    assert model.chain_line("t", [{"b": "1", "a": "2"}]) == '["t",{"a":"2","b":"1"}]'
    assert model.chain_line("t", [None, True, 0]) == '["t",null,true,0]'
    assert model.chain_line("t", [b"\x00"]) == '["t","bytes:b\'\\\\x00\'"]'


def test_missing_ids_walks_down_from_the_horizon():
    assert model.missing_ids(0, 10, [2, 3, 7, 10], cap=100) == [9, 8, 6, 5, 4, 1]
    assert model.missing_ids(5, 10, [2, 7], cap=2) == [10, 9]
    assert model.missing_ids(0, 10**12, [10**12], cap=3) == [10**12 - 1, 10**12 - 2, 10**12 - 3]
    assert model.missing_ids(4, 4, [], cap=10) == []


def test_still_late_forgets_ids_seen_or_missed_too_long():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    t = int(now.timestamp())
    keep = timedelta(minutes=10)
    previous = [(3, t - 60), (4, t - 3600), (5, t - 60)]
    late = model.still_late(previous, 6, 9, seen=[5, 7, 9], now=now, keep_for=keep, cap=10)
    assert late == [(3, t - 60), (8, t)]
    assert model.still_late(previous, 6, 9, [], now, keep, cap=2) == [(8, t), (9, t)]


def test_what_a_hold_and_its_resolution_move():
    hold = Hold(7, 1, 2, 500, "CNY", status=HoldStatus.POSTED, posted_amount=300)
    assert model.hold_creation(hold) == {
        1: model.Balance(debits_pending=500),
        2: model.Balance(credits_pending=500),
    }
    assert model.hold_resolution(hold) == {
        1: model.Balance(debits_posted=300, debits_pending=-500),
        2: model.Balance(credits_posted=300, credits_pending=-500),
    }
    voided = Hold(7, 1, 2, 500, "CNY", status=HoldStatus.VOIDED, posted_amount=0)
    assert model.hold_resolution(voided) == {
        1: model.Balance(debits_pending=-500),
        2: model.Balance(credits_pending=-500),
    }
    too_much = Hold(7, 1, 2, 500, "CNY", status=HoldStatus.POSTED, posted_amount=501)
    assert model.hold_resolution(too_much) is None
    assert model.hold_resolution(Hold(7, 1, 2, 500, "CNY")) is None


def column_names(cols) -> list[str]:
    out = []
    for col in cols:
        col = getattr(col, "clause", col)  # under a cast or a type_coerce
        out.append(f"{col.table.name.removeprefix('ledger_')}.{col.name}")
    return out


TRANSFER = [
    "transfers.id",
    "transfers.kind",
    "transfers.idempotency_key",
    "transfers.payload_hash",
    "transfers.reason",
    "transfers.refs",
    "transfers.hold_id",
    "transfers.created_at",
]
HOLD = [
    "holds.id",
    "holds.transfer_id",
    "holds.debit_account_id",
    "holds.credit_account_id",
    "holds.amount",
    "holds.currency",
    "holds.expiry_action",
]


def test_the_version_2_format_is_pinned():
    # Every sealed version 2 block was hashed with exactly this: changing the columns, their
    # order or their text breaks all of them. A new format needs a new version, not an edit.
    from xinren.ledger.journal import lines

    assert column_names(lines.ENTRY_LINE) == [
        "entries.id",
        "entries.transfer_id",
        "entries.account_id",
        "entries.debits_posted",
        "entries.credits_posted",
        "entries.debits_pending",
        "entries.credits_pending",
        *TRANSFER,
        "accounts.id",
        "accounts.code",
        "accounts.currency",
        "accounts.debits_must_not_exceed_credits",
        "accounts.credits_must_not_exceed_debits",
        "accounts.created_at",
        "accounts.owner",
        *HOLD,
    ]
    assert column_names(lines.TRANSFER_LINE) == [*TRANSFER, *HOLD]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    header = model.block_header(2, 1, 5, [3], [[4, 1767225600]], at)
    assert header == '["block",2,1,5,[3],[[4,1767225600]],"2026-01-01T00:00:00.000000Z"]'
    assert model.chain_line("transfer", [4, "pause", "k", "h", "", {"b": "1"}, 1, at]) == (
        '["transfer",4,"pause","k","h","",{"b":"1"},1,"2026-01-01T00:00:00.000000Z"]'
    )
    assert model.block_hash(1, model.GENESIS, [header]) == (
        "441a84b0f23887dda6304a93aa1cebdff266e62d1a40edbda7aa29d44b7f7dd1"
    )
