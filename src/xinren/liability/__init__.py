"""Liability: who answers for a finding on an order, who pays the buyer first, and whom the
payer may recover from; every answer explained by the facts and documents it rests on."""
