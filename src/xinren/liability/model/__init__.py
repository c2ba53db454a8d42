"""Liability resolution, pure: facts in, an explained assignment out.

The rules are data (`policies/liability.yaml`): this module only evaluates them, so changing
who answers for what is a new policy version, reviewed like any rule, not a code change.
One module per decision: the policy (`policy`), which lab report prevails (`evidence`), who is
liable (`resolve`) and who pays the buyer first (`payer`).
"""

from __future__ import annotations

from xinren.liability.model.evidence import Weighed, prevailing, weigh
from xinren.liability.model.payer import Payer, payer_of, traceable, untraceable_payer
from xinren.liability.model.policy import (
    CONDITIONS,
    CRITERIA,
    ROLES,
    Finding,
    Policy,
    Rule,
    UntraceableRule,
    parse_policy,
)
from xinren.liability.model.resolve import Assignment, Facts, Liable, resolve

__all__ = [
    "CONDITIONS",
    "CRITERIA",
    "ROLES",
    "Assignment",
    "Facts",
    "Finding",
    "Liable",
    "Payer",
    "Policy",
    "Rule",
    "UntraceableRule",
    "Weighed",
    "parse_policy",
    "payer_of",
    "prevailing",
    "resolve",
    "traceable",
    "untraceable_payer",
    "weigh",
]
