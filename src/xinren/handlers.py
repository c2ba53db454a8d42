"""The one list of modules that register timer handlers (`@timers.handler(kind)`), so a runner
(`xinren tick`, the loop in `xinren serve`, the simulator) knows them all. A test reads the source
for every timer kind that is scheduled and every module that registers a handler, and holds both
to this list: a new kind without a handler, or a handler module missing here, fails it."""

from __future__ import annotations

import importlib

HANDLER_MODULES: tuple[str, ...] = (
    "xinren.cases.service",
    "xinren.detect.service",
    "xinren.ledger.service",
    "xinren.orders.actions",
    "xinren.remedies.service",
    "xinren.rules.sanctioning",
)


def load() -> None:
    """Import every module of `HANDLER_MODULES`, which registers their handlers."""
    for name in HANDLER_MODULES:
        importlib.import_module(name)
