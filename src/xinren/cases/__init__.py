"""Buyer complaints about an order: evidence from both sides, a merchant deadline, mediation,
a reasoned decision with remedies, and an appeal."""
