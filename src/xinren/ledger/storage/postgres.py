"""The PostgreSQL implementation: `load` and `write` as ONE statement each over arrays
(``unnest``), on the session's own connection, with parameters in binary."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from sqlalchemy.orm import Session

from xinren.ledger.storage.rows import (
    Loaded,
    Rows,
    Written,
    account_from_row,
    hold_from_row,
    paused_ms,
    stored_op,
)

_ACCOUNT_COLS = (
    "id, code, currency, debits_must_not_exceed_credits, credits_must_not_exceed_debits, "
    "debits_posted, credits_posted, debits_pending, credits_pending, owner"
)
_HOLD_COLS = (
    "id, debit_account_id, credit_account_id, amount, currency, status, expires_at, "
    "expiry_action, paused_remaining_ms, posted_amount"
)

# The rows locked FOR UPDATE are picked by conditions on their own columns against constant
# arrays (the holds' account ids are an InitPlan, computed once): when a concurrent writer
# updates a locked row, PostgreSQL re-checks the condition on the new version, and a condition
# joined to another scan (``id IN (SELECT ... FROM ledger_accounts ...)``) could lose the row
# under some plans (a transfer then saw "no account"; tests/ledger/test_concurrency.py).
_LOAD_PG = f"""
WITH h AS (
  SELECT {_HOLD_COLS} FROM ledger_holds
  WHERE id = ANY(%(hold_ids)b::bigint[])
  ORDER BY id FOR UPDATE
), a AS (
  SELECT {_ACCOUNT_COLS} FROM ledger_accounts
  WHERE code = ANY(%(codes)b::text[])
     OR id = ANY(ARRAY(SELECT debit_account_id FROM h UNION ALL SELECT credit_account_id FROM h))
  ORDER BY id FOR UPDATE
)
SELECT
  (SELECT json_agg(h) FROM h),
  (SELECT json_agg(a) FROM a),
  (SELECT json_agg(t) FROM (
     SELECT t.id, t.kind, t.idempotency_key, t.payload_hash, t.created_at, t.hold_id,
            nh.id AS new_hold_id
     FROM unnest(%(keys)b::text[]) AS k(key)
     JOIN ledger_transfers t ON t.idempotency_key = k.key
     LEFT JOIN ledger_holds nh ON nh.transfer_id = t.id) t)
"""

_WRITE_PG = """
WITH claimed AS (
  INSERT INTO ledger_transfers
    (idempotency_key, kind, payload_hash, reason, refs, hold_id, created_at)
  SELECT * FROM unnest(%(t_key)b::text[], %(t_kind)b::text[], %(t_hash)b::text[],
                       %(t_reason)b::text[], %(t_refs)b::text[]::json[], %(t_hold)b::bigint[],
                       %(t_at)b::timestamptz[])
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id, idempotency_key
), ent AS (
  INSERT INTO ledger_entries
    (transfer_id, account_id, debits_posted, credits_posted, debits_pending, credits_pending)
  SELECT c.id, v.aid, v.dp, v.cp, v.dq, v.cq
  FROM unnest(%(e_key)b::text[], %(e_aid)b::bigint[], %(e_dp)b::bigint[], %(e_cp)b::bigint[],
              %(e_dq)b::bigint[], %(e_cq)b::bigint[])
       WITH ORDINALITY AS v(key, aid, dp, cp, dq, cq, n)
  JOIN claimed c ON c.idempotency_key = v.key
  ORDER BY v.n
  RETURNING account_id, debits_posted, credits_posted, debits_pending, credits_pending
), bal AS (
  UPDATE ledger_accounts a SET
    debits_posted = a.debits_posted + s.dp, credits_posted = a.credits_posted + s.cp,
    debits_pending = a.debits_pending + s.dq, credits_pending = a.credits_pending + s.cq
  FROM (SELECT account_id, sum(debits_posted)::bigint AS dp, sum(credits_posted)::bigint AS cp,
               sum(debits_pending)::bigint AS dq, sum(credits_pending)::bigint AS cq
        FROM ent GROUP BY account_id) s
  WHERE a.id = s.account_id
  RETURNING a.id
), newh AS (
  INSERT INTO ledger_holds (transfer_id, debit_account_id, credit_account_id, amount, currency,
                            status, expires_at, expiry_action)
  SELECT c.id, v.d, v.cr, v.amt, v.cur, 'pending', v.exp, v.act
  FROM unnest(%(h_key)b::text[], %(h_debit)b::bigint[], %(h_credit)b::bigint[],
              %(h_amount)b::bigint[], %(h_cur)b::text[], %(h_exp)b::timestamptz[],
              %(h_act)b::text[]) AS v(key, d, cr, amt, cur, exp, act)
  JOIN claimed c ON c.idempotency_key = v.key
  RETURNING id, transfer_id
), chg AS (
  UPDATE ledger_holds h SET
    status = v.status, expires_at = v.exp, paused_remaining_ms = v.paused,
    posted_amount = v.posted,
    resolved_by = CASE WHEN v.resolved THEN c.id END,
    resolved_at = CASE WHEN v.resolved THEN %(now)b::timestamptz END
  FROM unnest(%(u_key)b::text[], %(u_id)b::bigint[], %(u_status)b::text[],
              %(u_exp)b::timestamptz[], %(u_paused)b::bigint[], %(u_posted)b::bigint[],
              %(u_resolved)b::boolean[]) AS v(key, hid, status, exp, paused, posted, resolved)
  JOIN claimed c ON c.idempotency_key = v.key
  WHERE h.id = v.hid AND h.status = 'pending'
  RETURNING h.id
)
SELECT 'c', id, idempotency_key FROM claimed
UNION ALL SELECT 'h', newh.id, claimed.idempotency_key
  FROM newh JOIN claimed ON claimed.id = newh.transfer_id
UNION ALL SELECT 'u', id, NULL FROM chg
UNION ALL SELECT 'b', count(*), NULL FROM bal
"""


# Plain transfers skip the hold CTEs: a fifth less server time per one-at-a-time transfer.
_WRITE_PG_NO_HOLDS = (
    _WRITE_PG[: _WRITE_PG.index("), newh AS (")]
    + """)
SELECT 'c', id, idempotency_key FROM claimed
UNION ALL SELECT 'b', count(*), NULL FROM bal
"""
)


#: psycopg.pq.TransactionStatus.IDLE (not imported: a SQLite-only process never loads psycopg)
_IDLE = 0


def _cursor(session: Session) -> Any:
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def load_pg(session: Session, hold_ids: list[int], codes: list[str], keys: list[str]) -> Loaded:
    """Lock and read what a batch touches. When the load is the transaction's first statement
    (a ledger call in a unit of work of its own), psycopg's BEGIN is sent in one pipeline with
    it: one round trip instead of two."""
    conn = session.connection().connection.driver_connection
    params = {"hold_ids": hold_ids, "codes": codes, "keys": keys}
    assert conn is not None
    begins = conn.info.transaction_status == _IDLE
    with conn.pipeline() if begins else nullcontext(), conn.cursor() as cur:
        cur.execute(_LOAD_PG, params, prepare=True)
        held, accts, found = cur.fetchone()
    loaded_accounts = {r["code"]: account_from_row(r) for r in accts or ()}
    return Loaded(
        loaded_accounts,
        {r["id"]: hold_from_row(r) for r in held or ()},
        {r["idempotency_key"]: stored_op(r) for r in found or ()},
    )


_T_NAMES = ("t_key", "t_kind", "t_hash", "t_reason", "t_refs", "t_hold", "t_at")
_E_NAMES = ("e_key", "e_aid", "e_dp", "e_cp", "e_dq", "e_cq")
_H_NAMES = ("h_key", "h_debit", "h_credit", "h_amount", "h_cur", "h_exp", "h_act")
_U_NAMES = ("u_key", "u_id", "u_status", "u_exp", "u_paused", "u_posted", "u_resolved")


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as `width` column lists (empty lists for no rows)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(col) for col in zip(*rows, strict=True)]


def write_pg(session: Session, rows: Rows) -> Written:
    t, nh, ch = rows.transfers, rows.new_holds, rows.changed_holds
    # one pass per table: the rows transposed into columns (a list comprehension per column
    # walked every row again for each of the 27 arrays)
    t_cols = _columns(t, 7)
    e_cols = _columns([(k, aid, *b) for k, aid, b in rows.entries], 6)
    params: dict[str, Any] = dict(zip(_T_NAMES, t_cols, strict=True))
    params.update(zip(_E_NAMES, e_cols, strict=True))
    params.update(
        zip(
            _H_NAMES,
            _columns(
                [
                    (
                        k,
                        h.debit_account_id,
                        h.credit_account_id,
                        h.amount,
                        h.currency,
                        h.expires_at,
                        h.expiry_action.value if h.expiry_action else None,
                    )
                    for k, h in nh
                ],
                7,
            ),
            strict=True,
        )
    )
    params.update(
        zip(
            _U_NAMES,
            _columns(
                [
                    (k, h.id, h.status.value, h.expires_at, paused_ms(h), h.posted_amount, res)
                    for k, h, res in ch
                ],
                7,
            ),
            strict=True,
        )
    )
    params["now"] = t[0][6] if t else None
    claimed: dict[str, int] = {}
    new_holds: dict[str, int] = {}
    changed = 0
    with _cursor(session) as cur:
        sql = _WRITE_PG if nh or ch else _WRITE_PG_NO_HOLDS
        cur.execute(sql, params, prepare=True)
        for tag, ident, key in cur.fetchall():
            if tag == "c":
                claimed[key] = ident
            elif tag == "h":
                new_holds[key] = ident
            elif tag == "u":
                changed += 1
    return Written(claimed, new_holds, changed)
