"""Sealing the journal into a hash chain, and verifying the whole ledger from it.

Writers never touch the chain: they append entries with no seal. A sealer (`xinren tick`, the
server loop, `xinren ledger seal`) later takes every committed unsealed entry, in id order, into
the next block: ``hash = sha256(block no, previous hash, lines)``. Entries that commit late
(a lower id committing after a higher one was sealed) simply land in a later block, so the chain
never depends on commit order and concurrent writers never queue on one lock. Changing, deleting
or re-sealing a sealed entry breaks its block's hash, and the chain shows the first broken block.

What a version 2 block covers (every block sealed since migration 0014; older blocks keep
version 1, whose line held the entry and its transfer's kind, key and payload hash only):

- its own columns: version, entry count, transfer horizon, listed and late transfers, sealed_at;
- each entry: all its columns; every column of its transfer (kind, idempotency key, payload hash,
  reason, refs as sorted JSON, hold id, created_at as UTC text); its account's unchanging ones
  (code, currency, both limit flags, created_at, owner); for a hold-creating transfer, the hold's
  unchanging ones (id, transfer, debit and credit account, amount, currency, expiry action).
  An entry whose transfer or account does not exist is sealed as it is, and reported;
- each transfer with no entries (extend, pause and resume move nothing) as a line of its own,
  with the same transfer and hold columns. Entries carry their seal and transfers do not, so
  the sealer walks transfer ids: a block records the highest id it looked at (its horizon) and
  the ids up to it it could not see yet (taken by a transaction not yet committed; kept for ten
  minutes), and the next block looks at both again.

Not in any hash, so checked another way: account balances (rebuilt from the journal); a hold's
status, posted_amount, resolved_by and resolved_at, which change after sealing (they must agree
with the sealed transfer that resolved the hold and with what its entries moved). Not checked:
a hold's expires_at and pause, accounts with no entries, anything not sealed yet, and a rewrite
of the whole chain from the tampered block on (the chain has no outside anchor: keeping the head
hash somewhere else would catch that).
"""

from __future__ import annotations

from xinren.ledger.journal.checks import verify
from xinren.ledger.journal.findings import VerifyReport
from xinren.ledger.journal.lag import Lag, lag, lag_of
from xinren.ledger.journal.sealer import seal

__all__ = ["Lag", "VerifyReport", "lag", "lag_of", "seal", "verify"]
