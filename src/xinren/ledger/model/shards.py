"""Clearing shards, pure: a shard's code, and the transfers that sweep shards into their
account (see `xinren.ledger.shards` for why accounts are split)."""

from __future__ import annotations

from collections.abc import Sequence

from xinren.ledger.model.balances import MAX_LEGS, Side
from xinren.ledger.model.operations import Leg, Meta, TransferOp

#: the most shards one account may be split into (two digits in the code)
MAX_SHARDS = 100


def shard_code(parent: str, k: int) -> str:
    """The code of shard `k` of account `parent`: ``psp:cny`` -> ``psp:cny:s07``."""
    if not 0 <= k < MAX_SHARDS:
        raise ValueError(f"a shard number is 0-{MAX_SHARDS - 1}, got {k}")
    return f"{parent}:s{k:02d}"


def shard_parent(code: str) -> str:
    """The account a shard code belongs to: ``psp:cny:s07`` -> ``psp:cny``."""
    parent, sep, k = code.rpartition(":s")
    if not (sep and len(k) == 2 and k.isdigit()):
        raise ValueError(f"{code!r} is not a shard code")
    return parent


def plan_sweep(parent: str, moved: Sequence[tuple[str, int]], key: str) -> list[TransferOp]:
    """The transfers that bring each ``(shard, net)`` to zero and move the nets to `parent`
    (net: posted credits minus debits, either sign); as many as the leg limit needs, keyed
    ``key:0``, ``key:1``, ... Shards at zero are left out."""
    nonzero = [(code, net) for code, net in moved if net]
    ops = []
    per_op = MAX_LEGS - 1
    for n, start in enumerate(range(0, len(nonzero), per_op)):
        chunk = nonzero[start : start + per_op]
        legs = [Leg(code, Side.DEBIT if net > 0 else Side.CREDIT, abs(net)) for code, net in chunk]
        total = sum(net for _, net in chunk)
        if total:
            legs.append(Leg(parent, Side.CREDIT if total > 0 else Side.DEBIT, abs(total)))
        ops.append(TransferOp(Meta(f"{key}:{n}", "sweep", {"into": parent}), tuple(legs)))
    return ops
