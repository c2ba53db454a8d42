"""What an order costs and how its money is split, pure.

A line's total is its listing's price times the units less an explicit discount. At settlement
escrow pays out in one transfer: the platform's commission (its rate by category, from
`policies/commissions.yaml`), the host's commission (the order's agreed rate, at most the
policy's `host_rate_bp_max`), and the merchant's share, which is the rest. Rates are in basis
points of the settled amount and each commission is rounded down, so the shares always add up
to the amount and the rounding stays with the merchant.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinren.errors import ValidationFailed

BP = 10_000  # basis points in a whole


#: the most units one order line may count
MAX_QUANTITY = 1_000_000

#: How many clearing shards the accounts every order moves are split into (the payment
#: provider's clearing account, the platform's commission, a merchant's pending settlement, a
#: host's balance: `xinren.ledger.shards`). Concurrent orders of one flash sale then lock
#: different rows; two in flight share one with probability about 1/32. Changing it is safe:
#: an order's release names the shard it was settled into.
CLEARING_SHARDS = 32


def clearing_shard(order_id: int) -> int:
    """The shard an order's money moves through; always the same one for one order."""
    return order_id % CLEARING_SHARDS


@dataclass(frozen=True, slots=True)
class Line:
    """What an order line costs by its listing: the price of every unit, less a discount the
    platform grants explicitly (and records with its reason)."""

    unit_price: int
    quantity: int
    discount: int = 0

    @property
    def gross(self) -> int:
        return self.unit_price * self.quantity

    @property
    def total(self) -> int:
        return self.gross - self.discount


def line_problem(line: Line, max_amount: int) -> tuple[str, str] | None:
    """(field, why) if the line cannot be ordered as it is, else None."""
    if line.gross > max_amount:
        return "quantity", f"{line.quantity} x {line.unit_price} is more than {max_amount}"
    if not 0 <= line.discount < line.gross:
        return "discount", f"a discount is at least 0 and less than the price ({line.gross})"
    return None


def check_host_rate(host_rate_bp: int, cap_bp: int) -> int:
    """The host's agreed rate, refused above the policy's cap."""
    if not 0 <= host_rate_bp <= cap_bp:
        raise ValidationFailed(
            f"host_rate_bp is between 0 and {cap_bp} ({cap_bp * 100 // BP}%)",
            field="host_rate_bp",
        )
    return host_rate_bp


@dataclass(frozen=True, slots=True)
class Shares:
    """How a settled amount is split; the three add up to it."""

    merchant: int
    platform: int
    host: int

    @property
    def total(self) -> int:
        return self.merchant + self.platform + self.host


def settle_shares(amount: int, platform_rate_bp: int, host_rate_bp: int, *, host: bool) -> Shares:
    """Split `amount` released from escrow: each commission is its rate of the amount, rounded
    down (a host's only when the order has a host); the merchant keeps the rest."""
    platform = amount * platform_rate_bp // BP
    host_fee = amount * host_rate_bp // BP if host else 0
    return Shares(amount - platform - host_fee, platform, host_fee)
