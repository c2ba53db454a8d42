"""Guaranteed transactions (担保交易): the order lifecycle with escrow, refunds and disputes."""
