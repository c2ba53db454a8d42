"""The owners' side of `xinren ledger verify`: every account a context owns against that
context's own records (an order's escrow against the order, a deposit against its movements,
the guarantee fund against its movements). The ledger proves its journal adds up; this proves
the journal says what the owners say happened. Adapters (the CLI, the verify route) call it;
the ledger itself knows nothing of orders.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from xinren.orders import service as orders
from xinren.parties import deposits
from xinren.remedies import service as remedies


def problems(session: Session) -> list[str]:
    """Every disagreement between an owned account and its owner's records, first found first."""
    return (
        orders.reconcile(session) + deposits.reconcile(session) + remedies.reconcile_fund(session)
    )
