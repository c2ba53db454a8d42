"""Policies are data: versioned YAML files shipped in the package, loaded and checked here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from xinren.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    version: str
    effective_from: date
    body: dict[str, Any]

    def get(self, *path: str) -> Any:
        node: Any = self.body
        for part in path:
            if not isinstance(node, dict) or part not in node:
                raise ValidationFailed(
                    f"policy {self.id} {self.version} has no {'.'.join(path)}", field=part
                )
            node = node[part]
        return node


@cache
def load(name: str) -> Policy:
    """Load `xinren/policies/<name>.yaml`, checking it names its id, version and start date."""
    raw = yaml.safe_load((files("xinren.policies") / f"{name}.yaml").read_text("utf-8"))
    for required in ("id", "version", "effective_from"):
        if required not in raw:
            raise ValueError(f"policy file {name}.yaml lacks {required!r}")
    start = raw.pop("effective_from")
    return Policy(raw.pop("id"), str(raw.pop("version")), date.fromisoformat(str(start)), raw)


@dataclass(frozen=True, slots=True)
class OrderTimers:
    version: str
    receipt_days: dict[str, int]
    extension: timedelta
    unshipped_cancel: timedelta
    refund_response: timedelta
    settlement_hold: timedelta

    def receipt_period(self, method: str) -> timedelta:
        if method not in self.receipt_days:
            raise ValidationFailed(
                f"delivery method must be one of {', '.join(sorted(self.receipt_days))}",
                field="delivery_method",
            )
        return timedelta(days=self.receipt_days[method])


def order_timers() -> OrderTimers:
    p = load("timers")
    return OrderTimers(
        p.version,
        {k: int(v) for k, v in p.get("receipt_confirmation_days").items()},
        timedelta(days=int(p.get("extension_days"))),
        timedelta(days=int(p.get("unshipped_cancel_days"))),
        timedelta(hours=int(p.get("refund_response_hours"))),
        timedelta(days=int(p.get("settlement_hold_days"))),
    )


def platform_rate_bp(category: str) -> int:
    rates = load("commissions").get("platform_rate_bp")
    return int(rates.get(category, rates["default"]))


def host_rate_cap_bp() -> int:
    """The most a host may take of an order (commissions.yaml says why); checked to leave the
    merchant a share under the highest platform rate."""
    p = load("commissions")
    cap = int(p.get("host_rate_bp_max"))
    highest = max(int(r) for r in p.get("platform_rate_bp").values())
    if cap < 0 or cap + highest > 10_000:
        raise ValueError(
            f"commissions {p.version}: host_rate_bp_max {cap} plus the highest platform rate "
            f"{highest} exceeds 10000 bp, which would leave the merchant a negative share"
        )
    return cap


def required_deposit(category: str) -> tuple[int, str]:
    """The deposit a merchant must hold to sell in `category`: (minor units, currency)."""
    p = load("deposits")
    table = p.get("required")
    return int(table.get(category, table["default"])), str(p.get("currency"))


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    version: str
    window: timedelta
    exempt: dict[str, str]
    exempt_when_opened: frozenset[str]
    shipping_paid_by: dict[str, str]


def return_policy() -> ReturnPolicy:
    p = load("returns")
    return ReturnPolicy(
        p.version,
        timedelta(days=int(p.get("window_days"))),
        {str(k): str(v) for k, v in p.get("exempt_categories").items()},
        frozenset(str(c) for c in p.get("exempt_when_opened")),
        {str(k): str(v) for k, v in p.get("shipping_paid_by").items()},
    )
