"""The complaint policy (`policies/cases.yaml`), loaded and checked once, and the names of the
timers and the system decider the use cases share."""

from __future__ import annotations

from functools import cache

from xinren import policies
from xinren.cases import model

MERCHANT_DEADLINE = "cases.merchant_deadline"
DECISION_DUE = "cases.decision_due"  # a case held for a reviewer must be decided by then
SYSTEM_DECIDER = "system:default-rule"


@cache
def policy() -> model.CasePolicy:
    p = policies.load("cases")
    return model.parse_policy(p.version, p.body)
