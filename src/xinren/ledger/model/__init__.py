"""Pure ledger rules: no I/O, no SQLAlchemy.

An account keeps four running totals, as TigerBeetle does: debits and credits, each posted and
pending. A transfer is a list of legs whose debits equal its credits in every currency. A hold
is a pending debit/credit pair that is later posted (in full or part; the rest is released) or
voided, exactly once. Limits are checked against posted + pending, so a hold counts at once.

The service loads account and hold states, asks `plan_batch` what a batch of operations does to
them, and persists exactly that; the database's check constraints repeat the limit rules as the
last line of defence.

The rules live by use case: `balances` (accounts, totals, limits), `operations` (what may be
asked), `planning` (what a batch does), `chain` (the sealed journal's lines and hashes).
"""

from __future__ import annotations

from xinren.ledger.model.balances import (
    MAX_BATCH,
    MAX_CODE,
    MAX_LEGS,
    MAX_REASON,
    MAX_REFS,
    MAX_TOTAL,
    ZERO,
    Account,
    Balance,
    ExpiryAction,
    HoldStatus,
    Kind,
    Side,
    check_account_flags,
    check_code,
    disagreements,
)
from xinren.ledger.model.chain import (
    CHAIN_VERSION,
    CHANGES_A_HOLD,
    GENESIS,
    MOVES_MONEY,
    BlockHasher,
    block_hash,
    block_header,
    canonical_instant,
    chain_line,
    entry_line,
    missing_ids,
    still_late,
)
from xinren.ledger.model.operations import (
    ExtendOp,
    HoldChange,
    HoldOp,
    Leg,
    Meta,
    Operation,
    PauseOp,
    PostOp,
    ResumeOp,
    TransferOp,
    VoidOp,
    accounts_of,
    payload,
    validate,
)
from xinren.ledger.model.planning import (
    Delta,
    Hold,
    Plan,
    Planned,
    check_owner,
    hold_creation,
    hold_resolution,
    plan_batch,
)
from xinren.ledger.model.shards import MAX_SHARDS, plan_sweep, shard_code, shard_parent

__all__ = [
    "CHAIN_VERSION",
    "CHANGES_A_HOLD",
    "GENESIS",
    "MAX_BATCH",
    "MAX_CODE",
    "MAX_LEGS",
    "MAX_REASON",
    "MAX_REFS",
    "MAX_SHARDS",
    "MAX_TOTAL",
    "MOVES_MONEY",
    "ZERO",
    "Account",
    "Balance",
    "BlockHasher",
    "Delta",
    "ExpiryAction",
    "ExtendOp",
    "Hold",
    "HoldChange",
    "HoldOp",
    "HoldStatus",
    "Kind",
    "Leg",
    "Meta",
    "Operation",
    "PauseOp",
    "Plan",
    "Planned",
    "PostOp",
    "ResumeOp",
    "Side",
    "TransferOp",
    "VoidOp",
    "accounts_of",
    "block_hash",
    "block_header",
    "canonical_instant",
    "chain_line",
    "check_account_flags",
    "check_code",
    "check_owner",
    "disagreements",
    "entry_line",
    "hold_creation",
    "hold_resolution",
    "missing_ids",
    "payload",
    "plan_batch",
    "plan_sweep",
    "shard_code",
    "shard_parent",
    "still_late",
    "validate",
]
