"""The orders context's pure model: the state machine (`machine`), what an order costs and how
its money is split at settlement (`settlement`), when it auto-confirms (`countdown`), and the
no-reason return rule (`returns`). No I/O, no ledger, no clock: services pass facts in.
"""

from __future__ import annotations

from xinren.orders.model.countdown import (
    CountdownState,
    TimerChange,
    plan_countdown,
)
from xinren.orders.model.machine import (
    OPEN,
    ROLE_ACTIONS,
    TERMINAL,
    Action,
    AfterSales,
    Command,
    Countdown,
    Effect,
    Hold,
    IllegalTransition,
    Order,
    Refund,
    RefundKind,
    Settle,
    Status,
    allowed,
    decide,
    label,
    may_act,
    reachable,
    returns_stock,
    sample_commands,
    transitions,
)
from xinren.orders.model.returns import (
    ReturnDecision,
    ReturnReason,
    return_eligibility,
)
from xinren.orders.model.settlement import (
    BP,
    CLEARING_SHARDS,
    MAX_QUANTITY,
    Line,
    Shares,
    check_host_rate,
    clearing_shard,
    line_problem,
    settle_shares,
)

__all__ = [
    "BP",
    "CLEARING_SHARDS",
    "MAX_QUANTITY",
    "OPEN",
    "ROLE_ACTIONS",
    "TERMINAL",
    "Action",
    "AfterSales",
    "Command",
    "Countdown",
    "CountdownState",
    "Effect",
    "Hold",
    "IllegalTransition",
    "Line",
    "Order",
    "Refund",
    "RefundKind",
    "ReturnDecision",
    "ReturnReason",
    "Settle",
    "Shares",
    "Status",
    "TimerChange",
    "allowed",
    "check_host_rate",
    "clearing_shard",
    "decide",
    "label",
    "line_problem",
    "may_act",
    "plan_countdown",
    "reachable",
    "return_eligibility",
    "returns_stock",
    "sample_commands",
    "settle_shares",
    "transitions",
]
