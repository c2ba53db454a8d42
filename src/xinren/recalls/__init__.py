"""Recalls: a batch found unsafe or counterfeit reaches every buyer who bought from it."""
